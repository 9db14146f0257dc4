// Which host paths a policy may declare safe (`safe host paths {...}`), and
// why the others never can be. host_access does not count a bind inside a
// safe prefix, and the kernel follows symlinks when it mounts: a declared
// prefix must not be writable by anyone the policy does not trust, and must
// neither be nor contain a directory that is the host (its configuration,
// programs, services' state and sockets, kernel interfaces, devices).
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dockpol/rt/path_clean.hpp"

namespace dockpol::dsl {

// A directory that can never be declared safe, nor anything inside or above
// it. A segment ending in `*` matches every segment starting with the rest
// (`/lib*`: `/lib`, `/lib64`, `/libx32`).
struct never_safe_dir {
    std::string_view path;
    std::string_view why;
};
inline constexpr never_safe_dir never_safe_dirs[] = {
    {"/etc", "/etc is the host's configuration (passwd, sudoers, cron, systemd units)"},
    {"/root", "/root is root's home (ssh keys, shell startup files)"},
    {"/boot", "/boot holds the kernel and the boot loader"},
    {"/lib*", "/lib* holds the libraries and kernel modules host programs load"},
    {"/usr", "/usr holds the host's programs and libraries"},
    {"/bin", "/bin holds programs the host runs as root"},
    {"/sbin", "/sbin holds programs the host runs as root"},
    {"/opt", "/opt holds software host services run"},
    {"/var/lib", "/var/lib is the state of host services, the docker root /var/lib/docker among them"},
    {"/var/run", "/var/run holds the sockets of host services, docker.sock among them"},
    {"/run", "/run holds the sockets of host services, docker.sock among them"},
    {"/proc", "/proc is the kernel's view of host processes (/proc/1/root is the host's /)"},
    {"/sys", "/sys is the kernel's settings and devices"},
    {"/dev", "/dev is the host's devices (disks, memory)"},
};

// Why a declared safe path is refused: the message and its help line.
struct unsafe_path {
    std::string message;
    std::string help;
};

namespace detail {

inline std::vector<std::string_view> path_segments(std::string_view p) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < p.size()) {
        while (i < p.size() && p[i] == '/') ++i;
        const std::size_t j = p.find('/', i);
        const std::size_t e = j == std::string_view::npos ? p.size() : j;
        if (e > i) out.push_back(p.substr(i, e - i));
        i = e;
    }
    return out;
}

inline bool segment_matches(std::string_view pattern, std::string_view seg) {
    if (!pattern.empty() && pattern.back() == '*')
        return seg.substr(0, pattern.size() - 1) == pattern.substr(0, pattern.size() - 1);
    return pattern == seg;
}

} // namespace detail

// Why `p` cannot be declared a safe host path, or none when it can.
inline std::optional<unsafe_path> check_safe_host_path(std::string_view p) {
    static constexpr std::string_view symlinks =
        "the kernel follows symlinks when it mounts, so a safe prefix must not be writable by anyone the policy "
        "does not trust";
    const std::string shown = "\"" + std::string(p) + "\"";
    if (p.empty() || p.front() != '/')
        return unsafe_path{"safe host path " + shown + " is not absolute",
                           "bind sources are absolute host paths; write the full path"};
    const std::string clean = rt::clean_path(p);
    if (clean != p)
        return unsafe_path{"safe host path " + shown + " is not clean", "write \"" + clean + "\""};
    if (clean == "/")
        return unsafe_path{"`/` can never be declared safe",
                           "it holds every host path; declare the directories binds may use"};
    const auto segs = detail::path_segments(clean);
    for (const auto& d : never_safe_dirs) {
        const auto dsegs = detail::path_segments(d.path);
        const std::size_t n = std::min(segs.size(), dsegs.size());
        bool same = true;
        for (std::size_t i = 0; i < n && same; ++i) same = detail::segment_matches(dsegs[i], segs[i]);
        if (!same) continue;
        const std::string rel = segs.size() >= dsegs.size() ? "is inside " : "contains ";
        return unsafe_path{"safe host path " + shown + " " + rel + std::string(d.path) +
                               ", which can never be declared safe",
                           std::string(d.why) + "; " + std::string(symlinks)};
    }
    return std::nullopt;
}

} // namespace dockpol::dsl
