// `SecurityOpt` as dockerd's parseSecurityOpt reads it: `key=value`, or the
// deprecated `key:value` when there is no `=`; bare `disable` and
// `no-new-privileges`. The profiles it selects become the seccomp, apparmor
// and selinux facts; an inline seccomp profile (what the CLI sends for
// `--security-opt seccomp=FILE`) is read for its default action.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "dockpol/rt/json_scan.hpp"

namespace dockpol::rt::detail {

struct security_profile {
    std::string seccomp = "default";   // default | unconfined | custom
    std::string apparmor = "default";  // default | unconfined | a profile name
    std::string selinux = "default";   // default | disabled | a type
    bool writable_cgroups = false;
    std::vector<std::string> unknown;  // options this build does not know: counted as host access
};

// Seccomp default actions that let every syscall through.
inline bool seccomp_allows_all(std::string_view action) {
    return action == "SCMP_ACT_ALLOW" || action == "SCMP_ACT_LOG";
}

// The value of an inline seccomp profile: unconfined when its default action
// allows, else custom; an error when it is not a JSON object dockerd could use.
inline std::optional<std::string> inline_seccomp(std::string_view json, std::string& out) {
    static const auto proj = [] {
        json_projection p;
        p.child(json_projection::root, {"defaultAction", key_match::field});
        p.seal();
        return p;
    }();
    json_value root;
    if (auto err = scan_json(json, proj, root)) return "inline seccomp profile: " + err->message();
    if (root.type != json_type::object) return std::string("inline seccomp profile: not a JSON object");
    const json_value& a = root.fields[0];
    if (a.type != json_type::missing && a.type != json_type::null && a.type != json_type::string)
        return std::string("inline seccomp profile: defaultAction is not a string");
    out = a.type == json_type::string && seccomp_allows_all(a.text) ? "unconfined" : "custom";
    return std::nullopt;
}

inline bool parse_bool_go(std::string_view s) {
    return s == "1" || s == "t" || s == "T" || s == "true" || s == "TRUE" || s == "True";
}

// Applies one SecurityOpt entry; an error reason when it cannot be read.
inline std::optional<std::string> apply_security_opt(std::string_view opt, security_profile& p) {
    if (opt == "no-new-privileges") return std::nullopt;
    if (opt == "disable") {
        p.selinux = "disabled";
        return std::nullopt;
    }
    std::size_t sep = opt.find('=');
    if (sep == std::string_view::npos) sep = opt.find(':');
    if (sep == std::string_view::npos) {
        p.unknown.emplace_back(opt);
        return std::nullopt;
    }
    const auto key = opt.substr(0, sep), val = opt.substr(sep + 1);
    if (key == "seccomp") {
        if (val == "unconfined") p.seccomp = "unconfined";
        else if (val.empty() || val == "builtin") p.seccomp = "default";
        else if (!val.empty() && val.front() == '{') return inline_seccomp(val, p.seccomp);
        else p.seccomp = "custom";
    } else if (key == "apparmor") {
        p.apparmor = val.empty() || val == "docker-default" ? "default" : std::string(val);
    } else if (key == "label") {
        if (val == "disable") p.selinux = "disabled";
        else if (val.starts_with("type:")) p.selinux = std::string(val.substr(5));
    } else if (key == "writable-cgroups") {
        p.writable_cgroups = parse_bool_go(val);
    } else if (key != "no-new-privileges") {
        p.unknown.emplace_back(opt);
    }
    return std::nullopt;
}

} // namespace dockpol::rt::detail
