// The admin listener (--admin 127.0.0.1:9999): plain HTTP/1.1 on a loopback
// address, a fixed route table, small bounded requests. Handlers answer
// asynchronously (a reload may fetch a URL, /readyz pings dockerd), so each
// takes a reply callback; the session writes whatever arrives on its strand.
#pragma once
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace dockpol::sidecar {

namespace net = boost::asio;
namespace beast = boost::beast;

// A scrape or a status call is one small GET; 8 KiB of head is plenty.
inline constexpr std::uint32_t admin_max_header_bytes = 8 * 1024;
// No admin route takes a body; a small one is tolerated (curl -d '') and drained.
inline constexpr std::uint64_t admin_max_body_bytes = 4 * 1024;
// Reading a request (and writing the answer) must finish within this; keep-alive idle included.
inline constexpr std::chrono::seconds admin_io_timeout{10};
// Prometheus and a healthcheck need a couple of connections; more is a misbehaving client.
inline constexpr int admin_max_connections = 32;
// After a failed accept (no descriptors left), wait this long before the next try.
inline constexpr std::chrono::milliseconds admin_accept_backoff{100};

struct admin_response {
    unsigned status = 200;
    std::string content_type = "application/json";
    std::string body;
};
using admin_reply = std::function<void(admin_response)>;
using admin_handler = std::function<void(admin_reply)>;

struct admin_route {
    beast::http::verb method;
    std::string path;
    admin_handler handler;
};

inline admin_response admin_json_error(unsigned status, std::string_view message) {
    std::string body = "{\"message\":\"";
    for (char c : message) {
        if (c == '"' || c == '\\') body.push_back('\\');
        if (static_cast<unsigned char>(c) >= 0x20) body.push_back(c);
    }
    body += "\"}\n";
    return {status, "application/json", std::move(body)};
}

namespace detail {

class admin_session : public std::enable_shared_from_this<admin_session> {
public:
    admin_session(net::ip::tcp::socket sock, std::shared_ptr<const std::vector<admin_route>> routes,
                  std::shared_ptr<std::atomic<int>> active)
        : stream_(std::move(sock)), routes_(std::move(routes)), active_(std::move(active)) {}
    ~admin_session() { active_->fetch_sub(1, std::memory_order_relaxed); }

    void start() { read(); }

private:
    void read() {
        parser_.emplace();
        parser_->header_limit(admin_max_header_bytes);
        parser_->body_limit(admin_max_body_bytes);
        stream_.expires_after(admin_io_timeout);
        beast::http::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
            self->on_read(ec);
        });
    }

    void on_read(const boost::system::error_code& ec) {
        if (ec == beast::http::error::end_of_stream || ec == beast::error::timeout || ec == net::error::operation_aborted) return close();
        if (ec) {
            keep_alive_ = false;
            return write(admin_json_error(400, "bad request: " + ec.message()));
        }
        const auto& req = parser_->get();
        keep_alive_ = req.keep_alive();
        std::string_view target = req.target();
        const std::string_view path = target.substr(0, target.find('?'));
        const admin_route* match = nullptr;
        bool path_known = false;
        for (const auto& r : *routes_) {
            if (r.path != path) continue;
            path_known = true;
            if (r.method == req.method()) match = &r;
        }
        if (!match) {
            allow_.clear();
            if (path_known)
                for (const auto& r : *routes_)
                    if (r.path == path) allow_ += (allow_.empty() ? "" : ", ") + std::string(beast::http::to_string(r.method));
            return write(path_known ? admin_json_error(405, "method not allowed") : admin_json_error(404, "not found"));
        }
        // The handler may answer from any thread; the session continues on its own strand.
        match->handler([self = shared_from_this()](admin_response res) {
            net::post(self->stream_.get_executor(), [self, res = std::move(res)]() mutable { self->write(std::move(res)); });
        });
    }

    void write(admin_response r) {
        auto res = std::make_shared<beast::http::response<beast::http::string_body>>(static_cast<beast::http::status>(r.status), 11);
        res->set(beast::http::field::server, "dockpold");
        res->set(beast::http::field::content_type, r.content_type);
        res->set(beast::http::field::cache_control, "no-store");
        if (r.status == 405 && !allow_.empty()) res->set(beast::http::field::allow, allow_);
        res->body() = std::move(r.body);
        res->keep_alive(keep_alive_);
        res->prepare_payload();
        stream_.expires_after(admin_io_timeout);
        beast::http::async_write(stream_, *res, [self = shared_from_this(), res](const boost::system::error_code& ec, std::size_t) {
            if (ec || !self->keep_alive_) return self->close();
            self->read();
        });
    }

    void close() {
        boost::system::error_code ignored;
        stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ignored);
        stream_.socket().close(ignored);
    }

    beast::tcp_stream stream_;
    std::shared_ptr<const std::vector<admin_route>> routes_;
    std::shared_ptr<std::atomic<int>> active_;
    beast::flat_buffer buffer_;
    std::optional<beast::http::request_parser<beast::http::string_body>> parser_;
    bool keep_alive_ = false;
    std::string allow_;
};

} // namespace detail

class admin_server : public std::enable_shared_from_this<admin_server> {
public:
    // Binds now (so a taken port fails start-up), accepts after start(). Loopback only:
    // the admin API is unauthenticated and can reload the policy.
    static std::variant<std::shared_ptr<admin_server>, std::string> create(net::any_io_executor ex, const std::string& host,
                                                                           std::uint16_t port, std::vector<admin_route> routes) {
        using result = std::variant<std::shared_ptr<admin_server>, std::string>;
        boost::system::error_code ec;
        const auto addr = net::ip::make_address(host, ec);
        if (ec) return result(std::in_place_index<1>, "--admin: '" + host + "' is not an IP address");
        if (!addr.is_loopback())
            return result(std::in_place_index<1>, "--admin: " + host +
                                                      " is not a loopback address; the admin API is unauthenticated, "
                                                      "bind it to 127.0.0.1 or [::1]");
        std::shared_ptr<admin_server> s(new admin_server(ex, std::move(routes)));
        const net::ip::tcp::endpoint ep(addr, port);
        s->acceptor_.open(ep.protocol(), ec);
        if (!ec) s->acceptor_.set_option(net::socket_base::reuse_address(true), ec);
        if (!ec) s->acceptor_.bind(ep, ec);
        if (!ec) s->acceptor_.listen(net::socket_base::max_listen_connections, ec);
        if (ec) return result(std::in_place_index<1>, "--admin: cannot listen on " + host + ":" + std::to_string(port) + ": " + ec.message());
        return result(std::in_place_index<0>, std::move(s));
    }

    std::uint16_t port() const {
        boost::system::error_code ec;
        return acceptor_.local_endpoint(ec).port();
    }

    void start() {
        net::post(acceptor_.get_executor(), [self = shared_from_this()] { self->accept(); });
    }

    // Stops accepting; open admin connections end at their next timeout or close.
    void stop() {
        net::post(acceptor_.get_executor(), [self = shared_from_this()] {
            boost::system::error_code ignored;
            self->acceptor_.close(ignored);
        });
    }

private:
    admin_server(net::any_io_executor ex, std::vector<admin_route> routes)
        : ex_(ex), acceptor_(net::make_strand(ex)), routes_(std::make_shared<const std::vector<admin_route>>(std::move(routes))) {}

    void accept() {
        acceptor_.async_accept(net::make_strand(ex_), [self = shared_from_this()](const boost::system::error_code& ec,
                                                                                 net::ip::tcp::socket sock) {
            if (ec == net::error::operation_aborted || !self->acceptor_.is_open()) return;
            if (ec) {
                // Out of descriptors (or similar): back off instead of spinning on a failing accept.
                self->backoff_.expires_after(admin_accept_backoff);
                self->backoff_.async_wait([self](const boost::system::error_code& wec) {
                    if (!wec) self->accept();
                });
                return;
            }
            if (self->active_->fetch_add(1, std::memory_order_relaxed) >= admin_max_connections) {
                self->active_->fetch_sub(1, std::memory_order_relaxed);
                boost::system::error_code ignored;
                sock.close(ignored);
            } else {
                std::make_shared<detail::admin_session>(std::move(sock), self->routes_, self->active_)->start();
            }
            self->accept();
        });
    }

    net::any_io_executor ex_;
    net::ip::tcp::acceptor acceptor_;
    net::steady_timer backoff_{acceptor_.get_executor()};
    std::shared_ptr<const std::vector<admin_route>> routes_;
    std::shared_ptr<std::atomic<int>> active_ = std::make_shared<std::atomic<int>>(0);
};

} // namespace dockpol::sidecar
