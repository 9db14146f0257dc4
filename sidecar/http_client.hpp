// A small HTTP(S) GET client (Beast): used to fetch bundles from a URL and by
// `dockpold probe`. One request per connection, an overall deadline over
// resolve + connect + handshake + write + read, a bounded response, and for
// HTTPS peer verification against a given CA file or the system roots plus a
// host name (or IP address) check.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace dockpol::sidecar {

namespace net = boost::asio;
namespace beast = boost::beast;

// A URL longer than this is a configuration mistake, not an address.
inline constexpr std::size_t max_url_bytes = 2048;
// Response heads of static file servers are a few hundred bytes; 16 KiB bounds a hostile one.
inline constexpr std::uint32_t max_response_header_bytes = 16 * 1024;

struct http_url {
    bool tls = false;
    std::string host;     // brackets removed for IPv6 literals
    std::string port;     // "80"/"443" when not given
    std::string target;   // origin-form: path and query, "/" when empty
    std::string host_header() const {
        const bool v6 = host.find(':') != std::string::npos;
        std::string h = v6 ? "[" + host + "]" : host;
        const bool default_port = (tls && port == "443") || (!tls && port == "80");
        return default_port ? h : h + ":" + port;
    }
};

namespace detail {
inline bool ascii_iequal_prefix(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (c != prefix[i]) return false;
    }
    return true;
}
inline bool valid_port(std::string_view p) {
    if (p.empty() || p.size() > 5) return false;
    unsigned v = 0;
    for (char c : p) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + static_cast<unsigned>(c - '0');
    }
    return v >= 1 && v <= 65535;
}
} // namespace detail

// http://host[:port]/path?query or https://…; no user info (credentials do not belong in a flag).
inline std::variant<http_url, std::string> parse_http_url(std::string_view s) {
    using result = std::variant<http_url, std::string>;
    auto bad = [&](std::string_view why) { return result(std::in_place_index<1>, "invalid URL '" + std::string(s) + "': " + std::string(why)); };
    if (s.size() > max_url_bytes) return bad("longer than " + std::to_string(max_url_bytes) + " bytes");
    for (unsigned char c : s)
        if (c <= 0x20 || c >= 0x7f) return bad("contains a space, control or non-ASCII byte");
    http_url u;
    std::string_view rest;
    if (detail::ascii_iequal_prefix(s, "https://")) {
        u.tls = true;
        rest = s.substr(8);
    } else if (detail::ascii_iequal_prefix(s, "http://")) {
        rest = s.substr(7);
    } else {
        return bad("use http:// or https://");
    }
    if (auto hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
    const auto path_at = rest.find_first_of("/?");
    std::string_view authority = rest.substr(0, path_at);
    std::string_view target = path_at == std::string_view::npos ? std::string_view() : rest.substr(path_at);
    if (authority.find('@') != std::string_view::npos) return bad("user info is not supported");
    std::string_view port;
    if (!authority.empty() && authority.front() == '[') {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) return bad("unterminated IPv6 literal");
        u.host = std::string(authority.substr(1, close - 1));
        std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') return bad("unexpected text after the IPv6 literal");
            port = after.substr(1);
            if (!detail::valid_port(port)) return bad("bad port");
        }
    } else {
        const auto colon = authority.rfind(':');
        if (colon != std::string_view::npos) {
            port = authority.substr(colon + 1);
            if (!detail::valid_port(port)) return bad("bad port");
            authority = authority.substr(0, colon);
        }
        u.host = std::string(authority);
    }
    if (u.host.empty()) return bad("missing host");
    u.port = port.empty() ? (u.tls ? "443" : "80") : std::string(port);
    u.target = target.empty() ? "/" : (target.front() == '?' ? "/" + std::string(target) : std::string(target));
    return u;
}

// A client TLS context: TLS ≥ 1.2, peer verification on, trust from `ca_file` or the system roots.
inline std::variant<std::shared_ptr<net::ssl::context>, std::string> make_client_tls(const std::optional<std::string>& ca_file) {
    using result = std::variant<std::shared_ptr<net::ssl::context>, std::string>;
    auto ctx = std::make_shared<net::ssl::context>(net::ssl::context::tls_client);
    boost::system::error_code ec;
    ctx->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 | net::ssl::context::no_sslv3 |
                         net::ssl::context::no_tlsv1 | net::ssl::context::no_tlsv1_1,
                     ec);
    ctx->set_verify_mode(net::ssl::verify_peer, ec);
    if (ca_file) {
        ctx->load_verify_file(*ca_file, ec);
        if (ec) return result(std::in_place_index<1>, "cannot load CA file " + *ca_file + ": " + ec.message());
    } else {
        ctx->set_default_verify_paths(ec);
        if (ec) return result(std::in_place_index<1>, "cannot load the system trust roots: " + ec.message());
    }
    return result(std::in_place_index<0>, std::move(ctx));
}

struct http_get_options {
    std::string if_none_match;                    // sent as If-None-Match when not empty
    std::size_t max_body = 1 << 20;
    std::chrono::milliseconds timeout{std::chrono::seconds(10)};
    std::shared_ptr<net::ssl::context> tls;       // required for https URLs
};

struct http_get_result {
    std::string error;                            // transport or protocol failure; status is 0 then
    unsigned status = 0;
    std::string etag;
    std::vector<std::uint8_t> body;
};

namespace detail {

template <bool Tls>
class http_get_op : public std::enable_shared_from_this<http_get_op<Tls>> {
    using stream_type = std::conditional_t<Tls, beast::ssl_stream<beast::tcp_stream>, beast::tcp_stream>;
    using callback = std::function<void(http_get_result)>;

public:
    http_get_op(net::any_io_executor ex, http_url url, http_get_options opt, callback cb)
        : resolver_(ex), stream_(make_stream(ex, opt)), url_(std::move(url)), opt_(std::move(opt)), cb_(std::move(cb)),
          deadline_(std::chrono::steady_clock::now() + opt_.timeout) {}

    void start() {
        if constexpr (Tls) {
            // SNI only for names (RFC 6066 forbids IP literals); the verifier checks names and IPs.
            boost::system::error_code ec;
            net::ip::make_address(url_.host, ec);
            if (ec && !SSL_set_tlsext_host_name(stream_.native_handle(), url_.host.c_str()))
                return finish("cannot set the TLS server name");
            stream_.set_verify_callback(net::ssl::host_name_verification(url_.host));
        }
        // One watchdog for the whole exchange: the resolver has no deadline of its own.
        watchdog_.expires_at(deadline_);
        watchdog_.async_wait([self = this->shared_from_this()](const boost::system::error_code& ec) {
            if (ec) return;
            self->timed_out_ = true;
            self->resolver_.cancel();
            boost::system::error_code ignored;
            self->tcp().socket().close(ignored);
        });
        resolver_.async_resolve(url_.host, url_.port,
                                [self = this->shared_from_this()](const boost::system::error_code& ec,
                                                                  net::ip::tcp::resolver::results_type r) {
                                    self->on_resolve(ec, std::move(r));
                                });
    }

private:
    static stream_type make_stream(net::any_io_executor ex, const http_get_options& opt) {
        if constexpr (Tls) return stream_type(ex, *opt.tls);
        else return stream_type(ex);
    }
    beast::tcp_stream& tcp() { return beast::get_lowest_layer(stream_); }

    void fail(std::string_view what, const boost::system::error_code& ec) {
        if (timed_out_)
            return finish("no complete answer from " + url_.host_header() + " within " +
                          std::to_string(opt_.timeout.count()) + " ms");
        finish(std::string(what) + ": " + ec.message());
    }

    void on_resolve(const boost::system::error_code& ec, net::ip::tcp::resolver::results_type r) {
        if (ec) return fail("cannot resolve " + url_.host, ec);
        tcp().async_connect(r, [self = this->shared_from_this()](const boost::system::error_code& ec,
                                                                 const net::ip::tcp::endpoint&) { self->on_connect(ec); });
    }

    void on_connect(const boost::system::error_code& ec) {
        if (ec) return fail("cannot connect to " + url_.host_header(), ec);
        if constexpr (Tls) {
            stream_.async_handshake(net::ssl::stream_base::client,
                                    [self = this->shared_from_this()](const boost::system::error_code& ec) {
                                        if (ec) return self->fail("TLS handshake with " + self->url_.host_header() + " failed", ec);
                                        self->write();
                                    });
        } else {
            write();
        }
    }

    void write() {
        req_.method(beast::http::verb::get);
        req_.target(url_.target);
        req_.version(11);
        req_.set(beast::http::field::host, url_.host_header());
        req_.set(beast::http::field::user_agent, "dockpold/" DOCKPOL_VERSION);
        req_.set(beast::http::field::connection, "close");
        if (!opt_.if_none_match.empty()) req_.set(beast::http::field::if_none_match, opt_.if_none_match);
        beast::http::async_write(stream_, req_, [self = this->shared_from_this()](const boost::system::error_code& ec, std::size_t) {
            if (ec) return self->fail("cannot send the request", ec);
            self->read();
        });
    }

    void read() {
        parser_.header_limit(max_response_header_bytes);
        parser_.body_limit(opt_.max_body);
        beast::http::async_read(stream_, buffer_, parser_, [self = this->shared_from_this()](const boost::system::error_code& ec, std::size_t) {
            self->on_read(ec);
        });
    }

    void on_read(const boost::system::error_code& ec) {
        if (ec == beast::http::error::body_limit)
            return finish("response body is larger than " + std::to_string(opt_.max_body) + " bytes");
        if (ec == beast::http::error::header_limit)
            return finish("response head is larger than " + std::to_string(max_response_header_bytes) + " bytes");
        if (ec) return fail("cannot read the response", ec);
        auto& res = parser_.get();
        http_get_result out;
        out.status = res.result_int();
        if (auto it = res.find(beast::http::field::etag); it != res.end()) out.etag = std::string(it->value());
        out.body = std::move(res.body());
        done(std::move(out));
    }

    void finish(std::string error) {
        http_get_result r;
        r.error = std::move(error);
        done(std::move(r));
    }

    void done(http_get_result r) {
        watchdog_.cancel();
        boost::system::error_code ignored;
        tcp().socket().close(ignored);
        if (cb_) std::exchange(cb_, nullptr)(std::move(r));
    }

    net::ip::tcp::resolver resolver_;
    stream_type stream_;
    http_url url_;
    http_get_options opt_;
    callback cb_;
    std::chrono::steady_clock::time_point deadline_;
    net::steady_timer watchdog_{resolver_.get_executor()};
    bool timed_out_ = false;
    beast::flat_buffer buffer_;
    beast::http::request<beast::http::empty_body> req_;
    beast::http::response_parser<beast::http::vector_body<std::uint8_t>> parser_;
};

} // namespace detail

// Starts a GET; `cb` runs exactly once, on a strand of `ex`.
inline void async_http_get(net::any_io_executor ex, http_url url, http_get_options opt,
                           std::function<void(http_get_result)> cb) {
    net::any_io_executor strand = net::make_strand(ex);
    if (url.tls) {
        if (!opt.tls) {
            http_get_result r;
            r.error = "https URL without a TLS context";
            net::post(ex, [cb = std::move(cb), r = std::move(r)]() mutable { cb(std::move(r)); });
            return;
        }
        std::make_shared<detail::http_get_op<true>>(strand, std::move(url), std::move(opt), std::move(cb))->start();
    } else {
        std::make_shared<detail::http_get_op<false>>(strand, std::move(url), std::move(opt), std::move(cb))->start();
    }
}

} // namespace dockpol::sidecar
