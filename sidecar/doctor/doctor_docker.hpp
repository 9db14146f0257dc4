// Doctor's question to dockerd: which running containers bind-mount its
// socket (a container with the socket is a root shell on the host for whoever
// can exec into it). A tiny blocking HTTP/1.0 client over the UNIX socket:
// doctor runs once, by hand, so blocking with timeouts is enough.
#pragma once
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <string>
#include <variant>

#include <nlohmann/json.hpp>

#include "doctor_env.hpp"
#include "doctor_finding.hpp"

namespace dockpol::sidecar::doctor {

// A hung dockerd must not hang the doctor.
inline constexpr int docker_timeout_seconds = 5;
// /containers/json of a busy host stays far below this.
inline constexpr std::size_t max_docker_answer = 16 << 20;
// Bound on inspected containers: each costs one round trip.
inline constexpr std::size_t max_inspected_containers = 4096;
// Containers labelled so are dockpold itself, which mounts the socket by design.
inline constexpr const char* sidecar_label = "org.dockpol.sidecar";

struct http_answer {
    int status = 0;
    std::string body;
};

// GET `target` over the UNIX socket at `path`; an error reason on failure.
inline std::variant<http_answer, std::string> unix_http_get(const std::string& path, const std::string& target) {
    sockaddr_un addr{};
    if (path.size() >= sizeof addr.sun_path) return std::string("socket path too long: ") + path;
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return std::string("socket: ") + std::strerror(errno);
    struct closer {
        int fd;
        ~closer() { ::close(fd); }
    } guard{fd};
    timeval tv{docker_timeout_seconds, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0)
        return "connect " + path + ": " + std::strerror(errno);
    // HTTP/1.0: dockerd answers without chunking and closes, so the body ends at EOF.
    const std::string req = "GET " + target + " HTTP/1.0\r\nHost: docker\r\n\r\n";
    for (std::size_t sent = 0; sent < req.size();) {
        const ssize_t n = ::send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) return std::string("send: ") + std::strerror(errno);
        sent += static_cast<std::size_t>(n);
    }
    std::string raw;
    char buf[16384];
    for (;;) {
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n == 0) break;
        if (n < 0) return std::string("recv: ") + std::strerror(errno);
        raw.append(buf, static_cast<std::size_t>(n));
        if (raw.size() > max_docker_answer) return std::string("answer larger than the limit");
    }
    const auto head_end = raw.find("\r\n\r\n");
    if (head_end == std::string::npos || raw.compare(0, 5, "HTTP/") != 0) return std::string("malformed HTTP answer");
    const auto sp = raw.find(' ');
    http_answer a;
    try {
        a.status = std::stoi(raw.substr(sp + 1, 3));
    } catch (...) {
        return std::string("malformed HTTP status line");
    }
    a.body = raw.substr(head_end + 4);
    return a;
}

namespace detail {

// A mount source that is the socket or one of its parent directories hands out the socket.
inline bool exposes_socket(const std::string& source, const std::string& socket_path) {
    if (source.empty()) return false;
    std::string s = source;
    while (s.size() > 1 && s.back() == '/') s.pop_back();
    for (const std::string& sock : {socket_path, std::string("/var/run/docker.sock"), std::string("/run/docker.sock")}) {
        if (s == sock || s == "/") return true;
        if (starts_with(sock, s + "/")) return true;
    }
    return false;
}

} // namespace detail

inline void check_socket_mounts(const environment& env, findings& out) {
    const std::string sock = env.host(env.docker_socket);
    auto list = unix_http_get(sock, "/containers/json");
    if (auto* e = std::get_if<std::string>(&list)) {
        out.push_back({"socket_mounts", severity::info,
                       "could not ask dockerd for its containers (" + *e + "); socket mounts were not checked",
                       "run doctor as a user that can open the socket (root), with --docker unix://PATH"});
        return;
    }
    const auto& ans = std::get<http_answer>(list);
    auto j = nlohmann::json::parse(ans.body, nullptr, false);
    if (ans.status != 200 || !j.is_array()) {
        out.push_back({"socket_mounts", severity::info,
                       "dockerd answered GET /containers/json with status " + std::to_string(ans.status) +
                           "; socket mounts were not checked",
                       "point --docker at dockerd itself, not at dockpold"});
        return;
    }
    std::size_t n = 0;
    for (const auto& c : j) {
        if (++n > max_inspected_containers) break;
        if (!c.is_object() || !c.contains("Id") || !c["Id"].is_string()) continue;
        const std::string id = c["Id"].get<std::string>();
        auto ins = unix_http_get(sock, "/containers/" + id + "/json");
        if (!std::holds_alternative<http_answer>(ins) || std::get<http_answer>(ins).status != 200) continue;
        auto cj = nlohmann::json::parse(std::get<http_answer>(ins).body, nullptr, false);
        if (!cj.is_object()) continue;
        const auto cfg = cj.find("Config");
        if (cfg != cj.end() && cfg->is_object() && cfg->contains("Labels") && (*cfg)["Labels"].is_object() &&
            (*cfg)["Labels"].value(sidecar_label, "") == "true")
            continue;
        const auto mounts = cj.value("Mounts", nlohmann::json::array());
        if (!mounts.is_array()) continue;
        for (const auto& m : mounts) {
            if (!m.is_object() || m.value("Type", "") != "bind") continue;
            const std::string src = m.value("Source", "");
            if (!detail::exposes_socket(src, env.docker_socket)) continue;
            std::string name = cj.value("Name", id);
            if (!name.empty() && name[0] == '/') name.erase(0, 1);
            out.push_back({"socket_mounts", severity::error,
                           "container '" + name + "' (" + id.substr(0, 12) + ") bind-mounts " + src + " at " +
                               m.value("Destination", "?") + ": whoever can exec into it controls dockerd",
                           "recreate it without the mount (a policy rule on container.host_paths stops new ones); "
                           "label dockpold's own container " + std::string(sidecar_label) + "=true"});
        }
    }
}

} // namespace dockpol::sidecar::doctor
