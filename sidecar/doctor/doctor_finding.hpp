// `dockpold doctor` findings: one way around dockpol (or a weakness of its
// own set-up) with what to do about it, rendered for people or as JSON.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace dockpol::sidecar::doctor {

enum class severity { error, warning, info };

struct finding {
    std::string check;     // stable name: "docker_tcp", "docker_group", ...
    severity sev = severity::error;
    std::string message;   // what was found, with the file or process it was found in
    std::string fix;       // what to do
};

using findings = std::vector<finding>;

inline const char* severity_name(severity s) {
    static constexpr const char* names[] = {"error", "warning", "info"};
    return names[static_cast<int>(s)];
}

// Info findings say what could not be checked; they do not fail the run.
inline bool counts(const finding& f) { return f.sev != severity::info; }

inline bool all_clear(const findings& fs) {
    for (const auto& f : fs)
        if (counts(f)) return false;
    return true;
}

inline std::string render_json(const findings& fs) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& f : fs)
        arr.push_back({{"check", f.check}, {"severity", severity_name(f.sev)}, {"message", f.message}, {"fix", f.fix}});
    return nlohmann::json{{"findings", arr}, {"ok", all_clear(fs)}}.dump(2) + "\n";
}

inline std::string render_text(const findings& fs) {
    std::string out;
    std::size_t problems = 0;
    for (const auto& f : fs) {
        if (counts(f)) ++problems;
        out += std::string(severity_name(f.sev)) + "[" + f.check + "]: " + f.message + "\n";
        out += "  fix: " + f.fix + "\n";
    }
    out += problems == 0 ? "ok: no way around dockpol found\n"
                         : std::to_string(problems) + " problem(s) found: dockpol can be bypassed or is weakened\n";
    return out;
}

} // namespace dockpol::sidecar::doctor
