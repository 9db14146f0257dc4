// The host directories no policy may declare safe (`safe host paths`), shared
// by the compiler (dp-unsafe-path, with the reason) and the verifier (a
// bundle declaring one is rejected whoever built it). host_access does not
// count a bind inside a safe prefix, and the kernel follows symlinks when it
// mounts: a safe prefix must neither be nor contain a directory that is the
// host (its configuration, programs, services' state and sockets, kernel
// interfaces, devices).
#pragma once
#include <string_view>
#include <vector>

namespace dockpol::rt {

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

// How a clean absolute path meets a never-safe directory.
struct never_safe_hit {
    const never_safe_dir* dir = nullptr;
    bool inside = false;   // the path is the directory or below it; else it contains it
};

// The never-safe directory `clean` (a clean absolute path) is inside or
// above, if any; `/` is above all of them.
inline never_safe_hit never_safe_for(std::string_view clean) {
    const auto segs = detail::path_segments(clean);
    for (const auto& d : never_safe_dirs) {
        const auto dsegs = detail::path_segments(d.path);
        const std::size_t n = segs.size() < dsegs.size() ? segs.size() : dsegs.size();
        bool same = true;
        for (std::size_t i = 0; i < n && same; ++i) same = detail::segment_matches(dsegs[i], segs[i]);
        if (same) return {&d, segs.size() >= dsegs.size()};
    }
    return {};
}

} // namespace dockpol::rt
