// Doctor checks of how dockerd is configured and started: a TCP listener
// without client-certificate verification, or authorization plugins, put a
// second door next to dockpol. Sources: daemon.json, dockerd command lines
// in /proc, and the kernel's table of listening TCP sockets.
#pragma once
#include <dirent.h>

#include <cctype>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "doctor_env.hpp"
#include "doctor_finding.hpp"

namespace dockpol::sidecar::doctor {

// dockerd's conventional plain-HTTP port.
inline constexpr unsigned plain_docker_port = 2375;
// Bound on /proc entries scanned: a host with more processes is still covered for dockerd, which starts early.
inline constexpr std::size_t max_proc_entries = 1 << 20;

inline const std::string fix_tcp =
    "remove the tcp:// host (users reach dockerd through dockpold), or require client certificates with "
    "--tlsverify and a CA only dockpold's certificate comes from; then restart dockerd";
// The name dockerd knows `dockpold plugin` by (--authorization-plugin=dockpol).
inline constexpr std::string_view dockpol_plugin_name = "dockpol";
inline const std::string fix_authz =
    "dockpol replaces dockerd authorization plugins: remove them once the policy covers what they decided "
    "(plugins see request bodies only up to their limit, CVE-2024-41110)";

namespace detail {

struct dockerd_flags {
    std::vector<std::string> hosts;
    std::vector<std::string> authz_plugins;
    bool tlsverify = false;
};

inline bool truthy_flag(const std::string& v) { return v.empty() || v == "true" || v == "1"; }

// Flags as dockerd's flag parser reads them: `-H X`, `-HX`, `-H=X`, `--host X`, `--host=X`.
inline dockerd_flags parse_dockerd_args(const std::vector<std::string>& argv) {
    dockerd_flags f;
    auto value_of = [&](std::size_t& i, const std::string& a, std::string_view shortf,
                        std::string_view longf) -> std::optional<std::string> {
        const std::string l(longf), s(shortf);
        if (a == l || (!s.empty() && a == s)) {
            if (i + 1 < argv.size()) return argv[++i];
            return std::nullopt;
        }
        if (starts_with(a, l + "=")) return a.substr(l.size() + 1);
        if (!s.empty() && starts_with(a, s) && a.size() > s.size())
            return a.substr(a[s.size()] == '=' ? s.size() + 1 : s.size());
        return std::nullopt;
    };
    for (std::size_t i = 1; i < argv.size(); ++i) {
        const std::string& a = argv[i];
        if (auto v = value_of(i, a, "-H", "--host")) {
            f.hosts.push_back(*v);
        } else if (auto p = value_of(i, a, "", "--authorization-plugin")) {
            f.authz_plugins.push_back(*p);
        } else if (a == "--tlsverify" || starts_with(a, "--tlsverify=")) {
            f.tlsverify = truthy_flag(a.size() > 11 ? a.substr(12) : "");
        }
    }
    return f;
}

inline std::string join(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
    return out;
}

inline void check_flags(const dockerd_flags& f, const std::string& where, findings& out) {
    if (!f.tlsverify) {
        for (const auto& h : f.hosts)
            if (starts_with(h, "tcp://"))
                out.push_back({"docker_tcp", severity::error,
                               "dockerd listens on " + h + " without --tlsverify (" + where +
                                   "): anyone who reaches the port is root on this host, past dockpol",
                               fix_tcp});
    }
    // `dockpold plugin` (docs/plugin.md) is dockpol itself, not a way around it.
    std::vector<std::string> others;
    for (const auto& p : f.authz_plugins)
        if (p != dockpol_plugin_name) others.push_back(p);
    if (!others.empty())
        out.push_back({"authz_plugin", severity::warning,
                       "dockerd runs authorization plugin(s) " + join(others) + " (" + where + ")", fix_authz});
}

} // namespace detail

inline void check_daemon_json(const environment& env, findings& out) {
    const std::string path = env.host("/etc/docker/daemon.json");
    auto text = read_host_file(path);
    if (!text) return;   // no daemon.json: dockerd's defaults listen on the UNIX socket only
    nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
    if (!j.is_object()) {
        out.push_back({"daemon_json", severity::warning, path + " is not a JSON object; dockerd will not start with it",
                       "fix the file so its settings can be checked"});
        return;
    }
    detail::dockerd_flags f;
    if (auto it = j.find("hosts"); it != j.end() && it->is_array())
        for (const auto& h : *it)
            if (h.is_string()) f.hosts.push_back(h.get<std::string>());
    if (auto it = j.find("authorization-plugins"); it != j.end() && it->is_array())
        for (const auto& p : *it)
            if (p.is_string()) f.authz_plugins.push_back(p.get<std::string>());
    if (auto it = j.find("tlsverify"); it != j.end() && it->is_boolean()) f.tlsverify = it->get<bool>();
    detail::check_flags(f, path, out);
}

// dockerd processes' command lines (flags override daemon.json, and a flag-only set-up has no daemon.json).
inline void check_dockerd_processes(const environment& env, findings& out) {
    const std::string proc = env.host("/proc");
    DIR* d = ::opendir(proc.c_str());
    if (!d) return;
    std::size_t seen = 0;
    while (dirent* e = ::readdir(d)) {
        if (++seen > max_proc_entries) break;
        const std::string name = e->d_name;
        if (name.empty() || !std::all_of(name.begin(), name.end(), [](unsigned char c) { return std::isdigit(c); }))
            continue;
        auto cmd = read_host_file(proc + "/" + name + "/cmdline");
        if (!cmd || cmd->empty()) continue;
        if (cmd->back() == '\0') cmd->pop_back();
        auto argv = split(*cmd, '\0');
        const std::string& exe = argv[0];
        const std::string base = exe.substr(exe.find_last_of('/') == std::string::npos ? 0 : exe.find_last_of('/') + 1);
        if (base != "dockerd") continue;
        detail::check_flags(detail::parse_dockerd_args(argv), "process " + name, out);
    }
    ::closedir(d);
}

// A listener on 2375 is plain-HTTP dockerd (or something pretending to be it) whatever the configs say.
inline void check_listening_ports(const environment& env, findings& out) {
    for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
        auto text = read_host_file(env.host(table));
        if (!text) continue;
        std::istringstream lines(*text);
        std::string line;
        std::getline(lines, line);   // header
        while (std::getline(lines, line)) {
            std::istringstream f(line);
            std::string sl, local, remote, state;
            if (!(f >> sl >> local >> remote >> state)) continue;
            // State 0A is TCP_LISTEN.
            if (state != "0A") continue;
            const auto colon = local.rfind(':');
            if (colon == std::string::npos) continue;
            unsigned port = 0;
            try {
                port = static_cast<unsigned>(std::stoul(local.substr(colon + 1), nullptr, 16));
            } catch (...) {
                continue;
            }
            if (port == plain_docker_port)
                out.push_back({"docker_tcp", severity::error,
                               std::string("a TCP socket listens on port 2375, dockerd's plain-HTTP port (") + table + ")",
                               fix_tcp});
        }
    }
}

} // namespace dockpol::sidecar::doctor
