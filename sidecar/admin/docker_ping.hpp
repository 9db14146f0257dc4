// GET /_ping on dockerd's UNIX socket, for /readyz: ready means dockerd
// answers now, not that it answered once. A fresh connection each time (not
// the request pool), with a short deadline.
#pragma once
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace dockpol::sidecar {

namespace net = boost::asio;
namespace beast = boost::beast;

// Orchestrators probe every few seconds; a dockerd slower than this is not ready.
inline constexpr std::chrono::milliseconds docker_ping_timeout{2000};
// dockerd answers "OK"; anything bigger is not a ping answer.
inline constexpr std::uint32_t docker_ping_max_body = 1024;

namespace detail {

class docker_ping_op : public std::enable_shared_from_this<docker_ping_op> {
    using stream_type = beast::basic_stream<net::local::stream_protocol, net::any_io_executor, beast::unlimited_rate_policy>;

public:
    using callback = std::function<void(std::string /*error, "" when dockerd answered 200*/)>;

    docker_ping_op(net::any_io_executor ex, std::string socket_path, std::chrono::milliseconds timeout, callback cb)
        : stream_(ex), path_(std::move(socket_path)), timeout_(timeout), cb_(std::move(cb)) {}

    void start() {
        stream_.expires_after(timeout_);
        stream_.async_connect(net::local::stream_protocol::endpoint(path_),
                              [self = shared_from_this()](const boost::system::error_code& ec) { self->on_connect(ec); });
    }

private:
    void on_connect(const boost::system::error_code& ec) {
        if (ec) return done("cannot connect to " + path_ + ": " + ec.message());
        req_.method(beast::http::verb::get);
        req_.target("/_ping");
        req_.version(11);
        req_.set(beast::http::field::host, "docker");
        req_.set(beast::http::field::connection, "close");
        beast::http::async_write(stream_, req_, [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
            if (ec) return self->done("cannot send /_ping: " + ec.message());
            self->parser_.body_limit(docker_ping_max_body);
            beast::http::async_read(self->stream_, self->buffer_, self->parser_,
                                    [self](const boost::system::error_code& ec, std::size_t) {
                                        if (ec) return self->done("no answer to /_ping: " + ec.message());
                                        const unsigned st = self->parser_.get().result_int();
                                        self->done(st == 200 ? std::string() : "dockerd answered /_ping with HTTP " + std::to_string(st));
                                    });
        });
    }

    void done(std::string error) {
        boost::system::error_code ignored;
        stream_.socket().close(ignored);
        if (cb_) std::exchange(cb_, nullptr)(std::move(error));
    }

    stream_type stream_;
    std::string path_;
    std::chrono::milliseconds timeout_;
    callback cb_;
    beast::flat_buffer buffer_;
    beast::http::request<beast::http::empty_body> req_;
    beast::http::response_parser<beast::http::string_body> parser_;
};

} // namespace detail

// `cb("")` when dockerd answered 200 within the timeout, else `cb(reason)`.
inline void async_docker_ping(net::any_io_executor ex, std::string socket_path, std::function<void(std::string)> cb,
                              std::chrono::milliseconds timeout = docker_ping_timeout) {
    std::make_shared<detail::docker_ping_op>(net::make_strand(ex), std::move(socket_path), timeout, std::move(cb))->start();
}

} // namespace dockpol::sidecar
