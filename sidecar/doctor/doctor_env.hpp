// What `dockpold doctor` looks at: a host root (a fake one in tests) and the
// paths of dockpold's own files. Paths of the host are read through `host()`.
#pragma once
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace dockpol::sidecar::doctor {

// Host files doctor reads are small; anything bigger is not what we expect there.
inline constexpr std::size_t max_host_file_bytes = 4 << 20;

struct environment {
    std::string root;                                // "" for the real host; prefixes /etc, /proc, the socket
    std::string docker_socket = "/var/run/docker.sock";
    std::string account = "dockpold";                // dockpold's own user: its docker group membership is expected
    std::optional<std::string> tls_cert, tls_key, bundle;
    std::vector<std::string> bundle_pubkeys;

    std::string host(const std::string& abs_path) const { return root + abs_path; }
};

// The whole file, or nullopt when missing, unreadable or over the bound.
inline std::optional<std::string> read_host_file(const std::string& path, std::size_t limit = max_host_file_bytes) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::string text;
    char buf[65536];
    while (in.read(buf, sizeof buf) || in.gcount() > 0) {
        text.append(buf, static_cast<std::size_t>(in.gcount()));
        if (text.size() > limit) return std::nullopt;
    }
    return text;
}

inline std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : s) {
        if (c == sep) {
            out.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    out.push_back(cur);
    return out;
}

inline bool starts_with(const std::string& s, std::string_view p) { return s.rfind(p, 0) == 0; }

} // namespace dockpol::sidecar::doctor
