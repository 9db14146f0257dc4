// Connections to dockerd's UNIX socket, with a bounded pool of idle
// keep-alive connections shared by all client sessions (the docker CLI opens
// one TLS connection per command; reusing upstream connections saves dockerd
// a connection setup per command). Pooled sockets belong to the io_context,
// not to a session strand: sessions bind their handlers to their own strand.
#pragma once
#include <sys/socket.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include <cerrno>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace dockpol::sidecar {

namespace net = boost::asio;
using unix_socket = net::local::stream_protocol::socket;

// Idle upstream connections kept for reuse; more would only pin dockerd goroutines.
inline constexpr std::size_t upstream_idle_limit = 64;

class upstream_pool {
public:
    upstream_pool(net::io_context& ioc, std::string socket_path) : ioc_(ioc), endpoint_(socket_path), path_(std::move(socket_path)) {}

    const net::local::stream_protocol::endpoint& endpoint() const { return endpoint_; }
    const std::string& path() const { return path_; }

    // A fresh, unconnected socket.
    unix_socket make_socket() { return unix_socket(ioc_); }

    // An idle connection dockerd has not closed, if any.
    std::optional<unix_socket> take_idle() {
        std::lock_guard lk(mu_);
        while (!idle_.empty()) {
            unix_socket s = std::move(idle_.back());
            idle_.pop_back();
            if (alive(s)) return std::optional<unix_socket>(std::move(s));
            error_code_ignored(s);
        }
        return std::nullopt;
    }

    // Returns a connection whose last response was complete and keep-alive.
    void give_back(unix_socket s) {
        if (!s.is_open()) return;
        std::lock_guard lk(mu_);
        if (idle_.size() >= upstream_idle_limit) {
            error_code_ignored(s);
            return;
        }
        idle_.push_back(std::move(s));
    }

private:
    // A pooled connection is usable when reading would block: EOF or stray bytes mean dockerd is done with it.
    static bool alive(unix_socket& s) {
        char c;
        ssize_t r = ::recv(s.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
        return r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
    static void error_code_ignored(unix_socket& s) {
        boost::system::error_code ec;
        s.close(ec);
    }

    net::io_context& ioc_;
    net::local::stream_protocol::endpoint endpoint_;
    std::string path_;
    std::mutex mu_;
    std::vector<unix_socket> idle_;
};

} // namespace dockpol::sidecar
