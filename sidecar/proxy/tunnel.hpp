// The byte tunnel of a hijacked connection (attach, exec start, session,
// grpc) after dockerd's response head: both directions at once, bytes the
// HTTP parsers already buffered go first, and half-close is propagated so no
// output is lost — the client's close_notify or bare FIN becomes
// shutdown(SHUT_WR) towards dockerd, dockerd's EOF becomes close_notify
// towards the client. No read deadline: an attached shell may be silent for
// hours (TCP keepalive finds dead peers).
#pragma once
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include <functional>
#include <memory>
#include <span>

#include "tls_stream.hpp"
#include "upstream.hpp"

namespace dockpol::sidecar {

namespace beast = boost::beast;

struct tunnel_result {
    std::uint64_t bytes_in = 0;    // client → dockerd
    std::uint64_t bytes_out = 0;   // dockerd → client
    beast::error_code error;       // first hard error, if any (EOF is not one)
};

class tunnel : public std::enable_shared_from_this<tunnel> {
    template <class F>
    auto bind(F&& f) {
        return net::bind_executor(executor_, std::forward<F>(f));
    }

public:
    using done_handler = std::function<void(const tunnel_result&)>;
    using upstream_done_handler = std::function<void()>;

    // All references must outlive the tunnel (the session owns them and the tunnel's handler keeps the session alive).
    tunnel(net::any_io_executor executor, tls_stream& client, unix_socket& up, beast::flat_buffer& client_pending,
           beast::flat_buffer& up_pending, std::span<char> c2u_buf, std::span<char> u2c_buf)
        : executor_(std::move(executor)), client_(client), up_(up), client_pending_(client_pending),
          up_pending_(up_pending), c2u_buf_(c2u_buf), u2c_buf_(u2c_buf) {}

    // `upstream_done` runs when dockerd's side has ended (the session may then bound the client's remaining time).
    void start(done_handler done, upstream_done_handler upstream_done) {
        done_ = std::move(done);
        upstream_done_ = std::move(upstream_done);
        if (client_pending_.size()) {
            auto self = shared_from_this();
            net::async_write(up_, client_pending_.data(), bind([self](beast::error_code ec, std::size_t n) {
                self->client_pending_.consume(n);
                self->result_.bytes_in += n;
                if (ec) return self->fail(ec, true);
                self->read_client();
            }));
        } else {
            read_client();
        }
        if (up_pending_.size()) {
            auto self = shared_from_this();
            net::async_write(client_, up_pending_.data(), bind([self](beast::error_code ec, std::size_t n) {
                self->up_pending_.consume(n);
                self->result_.bytes_out += n;
                if (ec) return self->fail(ec, false);
                self->read_upstream();
            }));
        } else {
            read_upstream();
        }
    }

private:
    static bool is_eof(const beast::error_code& ec) {
        return ec == net::error::eof || ec == net::ssl::error::stream_truncated;
    }

    void read_client() {
        auto self = shared_from_this();
        client_.async_read_some(net::buffer(c2u_buf_.data(), c2u_buf_.size()), bind([self](beast::error_code ec, std::size_t n) {
            if (ec) {
                if (is_eof(ec)) {
                    // The client has nothing more to send: tell dockerd, keep reading its output.
                    beast::error_code ignored;
                    self->up_.shutdown(net::socket_base::shutdown_send, ignored);
                    return self->direction_done();
                }
                return self->fail(ec, true);
            }
            net::async_write(self->up_, net::buffer(self->c2u_buf_.data(), n), self->bind([self](beast::error_code ec2, std::size_t m) {
                self->result_.bytes_in += m;
                if (ec2) return self->fail(ec2, true);
                self->read_client();
            }));
        }));
    }

    void read_upstream() {
        auto self = shared_from_this();
        up_.async_read_some(net::buffer(u2c_buf_.data(), u2c_buf_.size()), bind([self](beast::error_code ec, std::size_t n) {
            if (ec) {
                if (ec == net::error::eof) {
                    // dockerd finished its output: end our TLS write side cleanly so the CLI sees all of it.
                    return self->client_.async_close_notify(self->bind([self](beast::error_code, std::size_t) {
                        if (self->upstream_done_) self->upstream_done_();
                        self->direction_done();
                    }));
                }
                return self->fail(ec, false);
            }
            net::async_write(self->client_, net::buffer(self->u2c_buf_.data(), n), self->bind([self](beast::error_code ec2, std::size_t m) {
                self->result_.bytes_out += m;
                if (ec2) return self->fail(ec2, false);
                self->read_upstream();
            }));
        }));
    }

    // A hard error on either side ends both directions.
    void fail(beast::error_code ec, bool /*client_side*/) {
        if (!result_.error) result_.error = ec;
        beast::error_code ignored;
        up_.close(ignored);
        client_.close();
        direction_done();
    }

    void direction_done() {
        if (++finished_ == 2 && done_) {
            auto d = std::move(done_);
            done_ = nullptr;
            d(result_);
        }
    }

    // The session's executor: every handler of both directions runs on it.
    net::any_io_executor executor_;
    tls_stream& client_;
    unix_socket& up_;
    beast::flat_buffer& client_pending_;
    beast::flat_buffer& up_pending_;
    std::span<char> c2u_buf_;
    std::span<char> u2c_buf_;
    done_handler done_;
    upstream_done_handler upstream_done_;
    tunnel_result result_;
    int finished_ = 0;
};

} // namespace dockpol::sidecar
