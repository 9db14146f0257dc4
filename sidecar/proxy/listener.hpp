// Accepts TCP connections, one strand per connection, and hands each to a
// client_session. Enforces --max-conns by closing surplus connections at once.
#pragma once
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <string>

#include "accept_loop.hpp"
#include "client_session.hpp"
#include "server_context.hpp"

namespace dockpol::sidecar {

// TCP keepalive finds dead peers of silent streams (`events`, an idle `attach`): probe after 60 s, give up after ~2 min more.
inline constexpr int tcp_keepalive_idle_s = 60;
inline constexpr int tcp_keepalive_interval_s = 10;
inline constexpr int tcp_keepalive_count = 12;

class listener : public std::enable_shared_from_this<listener>, public accept_loop<listener, tcp> {
public:
    explicit listener(server_context& srv) : accept_loop(srv.io.at(0)), srv_(srv) {}

    // Binds and listens; returns an error line naming the address on failure.
    std::optional<std::string> open(const listen_address& a) {
        beast::error_code ec;
        auto addr = net::ip::make_address(a.host, ec);
        if (ec) return "--listen " + a.host + ": not an IP address";
        tcp::endpoint ep(addr, a.port);
        acceptor_.open(ep.protocol(), ec);
        if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
        if (!ec) acceptor_.bind(ep, ec);
        if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
        if (ec) return "--listen " + a.host + ":" + std::to_string(a.port) + ": " + ec.message();
        return std::nullopt;
    }

private:
    friend class accept_loop<listener, tcp>;

    // Each connection gets the next io_context. One thread runs each context, so the context's
    // executor already serialises the connection's handlers: it is the connection's strand, at no cost.
    net::any_io_executor next_executor() {
        next_io_ = srv_.io.next_index();
        return srv_.io.at(next_io_).get_executor();
    }

    void on_connection(tcp::socket sock) {
        if (static_cast<std::uint64_t>(srv_.stats.connections_active.load(std::memory_order_relaxed)) >= srv_.cfg.max_conns) {
            srv_.stats.connections_refused.fetch_add(1, std::memory_order_relaxed);
            beast::error_code ec;
            sock.close(ec);
            return;
        }
        tune(sock);
        auto ctx = srv_.tls.snapshot();
        std::make_shared<client_session>(srv_, std::move(sock), ctx->native(), next_io_)->run();
    }

    void on_stopped() {}

    static void tune(tcp::socket& s) {
        beast::error_code ec;
        // Small requests and interactive streams must not wait for Nagle.
        s.set_option(tcp::no_delay(true), ec);
        s.set_option(net::socket_base::keep_alive(true), ec);
        int fd = s.native_handle();
        ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &tcp_keepalive_idle_s, sizeof(int));
        ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &tcp_keepalive_interval_s, sizeof(int));
        ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &tcp_keepalive_count, sizeof(int));
    }

    server_context& srv_;
    std::size_t next_io_ = 0;
};

} // namespace dockpol::sidecar
