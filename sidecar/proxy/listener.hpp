// Accepts TCP connections, one strand per connection, and hands each to a
// client_session. Enforces --max-conns by closing surplus connections at once.
#pragma once
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <string>

#include "client_session.hpp"
#include "server_context.hpp"

namespace dockpol::sidecar {

// TCP keepalive finds dead peers of silent streams (`events`, an idle `attach`): probe after 60 s, give up after ~2 min more.
inline constexpr int tcp_keepalive_idle_s = 60;
inline constexpr int tcp_keepalive_interval_s = 10;
inline constexpr int tcp_keepalive_count = 12;
// Pause before accepting again after EMFILE and similar, instead of spinning.
inline constexpr std::chrono::milliseconds accept_retry_delay{100};

class listener : public std::enable_shared_from_this<listener> {
public:
    explicit listener(server_context& srv) : srv_(srv), acceptor_(srv.io.at(0)), retry_(srv.io.at(0)) {}

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

    void run() { do_accept(); }

    // Stops accepting (the drain's first step); safe from any thread.
    void stop() {
        net::post(acceptor_.get_executor(), [self = shared_from_this()] {
            beast::error_code ec;
            self->acceptor_.close(ec);
            self->retry_.cancel();
        });
    }

private:
    void do_accept() {
        // Each connection gets the next io_context. One thread runs each context, so the context's
        // executor already serialises the connection's handlers: it is the connection's strand, at no cost.
        next_io_ = srv_.io.next_index();
        acceptor_.async_accept(srv_.io.at(next_io_).get_executor(),
                               beast::bind_front_handler(&listener::on_accept, shared_from_this()));
    }

    void on_accept(beast::error_code ec, tcp::socket sock) {
        if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
        if (ec) {
            retry_.expires_after(accept_retry_delay);
            retry_.async_wait([self = shared_from_this()](beast::error_code e) {
                if (!e) self->do_accept();
            });
            return;
        }
        if (static_cast<std::uint64_t>(srv_.stats.connections_active.load(std::memory_order_relaxed)) >= srv_.cfg.max_conns) {
            srv_.stats.connections_refused.fetch_add(1, std::memory_order_relaxed);
            sock.close(ec);
            return do_accept();
        }
        tune(sock);
        auto ctx = srv_.tls.snapshot();
        std::make_shared<client_session>(srv_, std::move(sock), ctx->native(), next_io_)->run();
        do_accept();
    }

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
    tcp::acceptor acceptor_;
    std::size_t next_io_ = 0;
    net::steady_timer retry_;
};

} // namespace dockpol::sidecar
