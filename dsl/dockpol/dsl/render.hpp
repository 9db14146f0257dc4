// Diagnostics for people (text, with the source line and a caret) and for
// tools (JSON, docs/language.md).
#pragma once
#include <algorithm>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dockpol/dsl/detail/text.hpp"
#include "dockpol/dsl/diagnostic.hpp"
#include "dockpol/dsl/source.hpp"

namespace dockpol::dsl {

inline std::string_view severity_name(severity s) {
    static constexpr std::string_view names[] = {"error", "warning", "note"};
    return names[static_cast<std::size_t>(s)];
}

namespace detail {

inline const source_file* file_of(const diagnostic& d, const std::vector<source_file>& files) {
    if (d.sp.file < files.size() && files[d.sp.file].name == d.file) return &files[d.sp.file];
    for (const auto& f : files)
        if (f.name == d.file) return &f;
    return nullptr;
}

} // namespace detail

// `file:line:col: error[code]: message`, the source line, a caret line
// (`^~~~` under the span's part on that line) and `  help: ...` when set.
inline std::string render_text(const std::vector<diagnostic>& ds, const std::vector<source_file>& files) {
    std::string out;
    for (const auto& d : ds) {
        if (!d.file.empty()) {
            out += d.file;
            if (d.sp.line > 0) out += ":" + std::to_string(d.sp.line) + ":" + std::to_string(d.sp.column);
            out += ": ";
        }
        out += std::string(severity_name(d.sev)) + "[" + d.code + "]: " + d.message + "\n";
        const source_file* f = detail::file_of(d, files);
        if (f && d.sp.line > 0) {
            const std::string_view line = f->line_at(d.sp.line);
            out += std::string(line) + "\n";
            // Keep tabs so the caret lines up however the terminal expands them.
            std::string pad;
            std::uint32_t col = 1;
            for (std::size_t i = 0; i < line.size() && col < d.sp.column; ++i) {
                const auto c = static_cast<unsigned char>(line[i]);
                if ((c & 0xC0) == 0x80) continue;
                pad += line[i] == '\t' ? '\t' : ' ';
                ++col;
            }
            // Width: the span's code points on this line, at least one.
            const std::size_t line_off = static_cast<std::size_t>(line.data() - f->text.data());
            std::size_t b = d.sp.begin, e = d.sp.end;
            std::uint32_t width = 1;
            if (b >= line_off && b <= line_off + line.size()) {
                e = std::min(e, line_off + line.size());
                if (e > b) width = std::max<std::uint32_t>(1, detail::code_points(f->text.substr(b, e - b)));
            }
            out += pad + "^" + std::string(width - 1, '~') + "\n";
        }
        if (!d.help.empty()) out += "  help: " + d.help + "\n";
    }
    return out;
}

// {"diagnostics":[{"code","severity","file","line","column","message","help"?}]}
inline std::string render_json(const std::vector<diagnostic>& ds) {
    nlohmann::ordered_json arr = nlohmann::ordered_json::array();
    for (const auto& d : ds) {
        nlohmann::ordered_json j;
        j["code"] = d.code;
        j["severity"] = severity_name(d.sev);
        j["file"] = d.file;
        j["line"] = d.sp.line;
        j["column"] = d.sp.column;
        j["message"] = d.message;
        if (!d.help.empty()) j["help"] = d.help;
        arr.push_back(std::move(j));
    }
    nlohmann::ordered_json root;
    root["diagnostics"] = std::move(arr);
    return root.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace dockpol::dsl
