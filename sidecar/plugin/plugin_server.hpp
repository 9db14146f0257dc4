// The plugin's HTTP/1.1 server on a UNIX socket (docs/plugin.md): dockerd
// connects, POSTs one JSON call per request (keep-alive), and waits for the
// answer. `handle_call` is the whole protocol without sockets (unit-tested);
// the session around it only reads a bounded request within a deadline and
// writes the answer. Every AuthZReq — decided, denied or malformed — writes
// one audit line ("mode":"plugin") at the time of the call: the protocol has
// no request id and no end of stream to wait for.
#pragma once
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "accept_loop.hpp"
#include "audit_log.hpp"
#include "bundles/policy_store.hpp"
#include "metrics.hpp"
#include "plugin_decide.hpp"
#include "plugin_lookup.hpp"

namespace dockpol::sidecar::plugin {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using unix_protocol = net::local::stream_protocol;

// dockerd sends at most 4 MiB of body, base64-encoded (5.4 MiB), plus headers and certificates; 8 MiB holds that.
inline constexpr std::uint64_t max_plugin_request_bytes = 8u << 20;
// dockerd's plugin call head is a few hundred bytes.
inline constexpr std::uint32_t max_plugin_header_bytes = 64u << 10;
// Go's HTTP client keeps an idle plugin connection up to 90 s; a request is written at once, so one deadline
// covers waiting for it and reading it.
inline constexpr std::chrono::seconds plugin_read_timeout{120};
// dockerd reads our answer at once (it is waiting for it); a stalled reader is not dockerd.
inline constexpr std::chrono::seconds plugin_write_timeout{30};
// dockerd opens a few connections per plugin; more is a runaway local client.
inline constexpr std::size_t max_plugin_connections = 256;

// What every call needs: the live bundle, counters, where audit lines go, and the plugin's settings.
struct plugin_context {
    policy_store& policy;
    metrics& stats;
    std::function<void(std::string)> audit;   // one formatted line; empty: no audit log
    plugin_settings settings;
    std::string docker_socket;                 // dockerd's socket for the plugin's lookups ("" = none)
    std::atomic<std::uint64_t> next_id{1};
    std::atomic<std::size_t> connections{0};
};

struct plugin_answer {
    http::status status = http::status::ok;
    std::string body;
};

namespace detail {

inline void audit_call(plugin_context& ctx, const plugin_outcome& o, const authz_request* r, const rt::program* prog,
                       std::chrono::system_clock::time_point wall, std::chrono::steady_clock::time_point start) {
    ctx.stats.count_request(o.allow ? decision_label::allow : decision_label::deny, o.action_id);
    if (!ctx.audit) return;
    const std::string id = fmt::format("{:016x}", ctx.next_id.fetch_add(1, std::memory_order_relaxed));
    std::string path;
    if (o.route.ok) path = o.route.path;
    else if (r) path = r->uri.substr(0, r->uri.find('?'));
    audit_event e;
    e.time = wall;
    e.id = id;
    e.mode = "plugin";
    e.user = o.id.user;
    e.groups = &o.id.groups;
    e.peer = "dockerd";
    e.host = ctx.settings.host;
    e.method = r ? std::string_view(r->method) : std::string_view();
    e.path = path;
    e.action = o.action;
    e.resource = o.route.resource_id;
    e.decision = o.allow ? "allow" : "deny";
    e.rule = o.rule;
    e.reason = o.reason;
    e.revision = prog ? std::string_view(rt::image_of(*prog).man.revision) : std::string_view();
    if (prog && o.bound) e.facts = {&rt::image_of(*prog), &*o.bound};
    // dockerd answers a denial with 403; an allowed request's status comes later, in AuthZRes.
    e.status = o.allow ? 0 : 403;
    e.duration_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    ctx.audit(format_audit_line(e));
}

inline plugin_answer json_answer(std::string body) { return {http::status::ok, std::move(body)}; }

} // namespace detail

// One AuthZReq in progress: parsed and decided as far as possible without I/O; what is left is in
// `outcome.pending` (lookups), after which plugin_resume decides.
struct authz_call {
    std::chrono::system_clock::time_point wall = std::chrono::system_clock::now();
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
    std::optional<authz_request> request;
    std::shared_ptr<const rt::program> prog;   // one snapshot from the call to its answer
    plugin_outcome outcome;
    bool malformed = false;
};

inline authz_call begin_authorize(plugin_context& ctx, std::string_view body) {
    authz_call c;
    auto parsed = parse_authz_request(body);
    if (auto* e = std::get_if<1>(&parsed)) {
        c.outcome = malformed_outcome(*e);
        c.malformed = true;
        return c;
    }
    c.request = std::get<0>(std::move(parsed));
    c.prog = ctx.policy.snapshot();
    if (!c.prog) {
        // Unreachable after start-up (the first bundle must load); fail closed anyway.
        c.outcome = malformed_outcome("no policy bundle is loaded");
        c.malformed = true;
        return c;
    }
    const auto decide_start = std::chrono::steady_clock::now();
    c.outcome = plugin_decide(*c.prog, *c.request, ctx.settings);
    ctx.stats.latency.decision_seconds.observe(std::chrono::steady_clock::now() - decide_start);
    return c;
}

// The call's answer, counted and audited; never an allow unless a rule (or the proxy's hand-off) allowed it.
inline plugin_answer finish_authorize(plugin_context& ctx, authz_call& c) {
    // A call still waiting for lookups here has nobody to make them: denied.
    if (c.outcome.pending) c.outcome = plugin_resume(*c.prog, std::move(c.outcome), ctx.settings, "no connection to dockerd");
    detail::audit_call(ctx, c.outcome, c.request ? &*c.request : nullptr, c.prog.get(), c.wall, c.start);
    return detail::json_answer(serialize(response_of(c.outcome, c.malformed)));
}

// One AuthZReq decided without lookups (they need the session's I/O): unit tests and calls that need none.
inline plugin_answer authorize_request(plugin_context& ctx, std::string_view body) {
    auto c = begin_authorize(ctx, body);
    return finish_authorize(ctx, c);
}

// One plugin call: the endpoint named by `target` with its JSON body.
inline plugin_answer handle_call(plugin_context& ctx, std::string_view target, std::string_view body) {
    if (target == activate_path) return detail::json_answer(activate_body());
    if (target == authz_request_path) return authorize_request(ctx, body);
    // The response phase cannot undo a request dockerd already ran; dockpol decides at AuthZReq only.
    if (target == authz_response_path) return detail::json_answer(serialize(authz_response{true, {}, {}}));
    authz_response r;
    r.err = "unknown plugin endpoint " + std::string(target);
    return {http::status::not_found, serialize(r)};
}

// One connection from dockerd: read a bounded request, answer it, repeat while keep-alive.
class plugin_session : public std::enable_shared_from_this<plugin_session> {
public:
    using stream_type = beast::basic_stream<unix_protocol, net::any_io_executor, beast::unlimited_rate_policy>;

    plugin_session(plugin_context& ctx, unix_protocol::socket sock) : ctx_(ctx), stream_(std::move(sock)) {
        ctx_.connections.fetch_add(1, std::memory_order_relaxed);
    }
    plugin_session(const plugin_session&) = delete;
    plugin_session& operator=(const plugin_session&) = delete;
    ~plugin_session() { ctx_.connections.fetch_sub(1, std::memory_order_relaxed); }

    void run() { do_read(); }

private:
    static std::string_view sv(beast::string_view s) { return {s.data(), s.size()}; }

    void do_read() {
        parser_.emplace();
        parser_->header_limit(max_plugin_header_bytes);
        parser_->body_limit(max_plugin_request_bytes);
        stream_.expires_after(plugin_read_timeout);
        http::async_read(stream_, buf_, *parser_, beast::bind_front_handler(&plugin_session::on_read, shared_from_this()));
    }

    void on_read(beast::error_code ec, std::size_t) {
        // A Content-Length over the limit fails while the head is read; the request line is parsed by then.
        if (ec == http::error::body_limit && sv(parser_->get().target()) == authz_request_path) {
            // Too big to decide on means denied, with an audit line; the rest of it is not read.
            auto o = malformed_outcome(fmt::format("the plugin request is larger than {} bytes", max_plugin_request_bytes));
            detail::audit_call(ctx_, o, nullptr, nullptr, std::chrono::system_clock::now(), std::chrono::steady_clock::now());
            return respond(detail::json_answer(serialize(response_of(o, true))), false);
        }
        if (ec) return close();   // EOF between calls, a timeout, or bytes that are not HTTP
        const auto& req = parser_->get();
        keep_alive_ = parser_->keep_alive();
        if (req.method() == http::verb::post && sv(req.target()) == authz_request_path) {
            call_ = begin_authorize(ctx_, req.body());
            return advance();
        }
        plugin_answer a;
        if (req.method() != http::verb::post) {
            authz_response r;
            r.err = "plugin calls are POST";
            a = {http::status::method_not_allowed, serialize(r)};
        } else {
            a = handle_call(ctx_, sv(req.target()), req.body());
        }
        respond(std::move(a), keep_alive_);
    }

    // Lookups first when the decision needs them (a round at a time), then the answer.
    void advance() {
        auto& pending = call_->outcome.pending;
        if (!pending || ctx_.docker_socket.empty()) {
            auto a = finish_authorize(ctx_, *call_);
            call_.reset();
            return respond(std::move(a), keep_alive_);
        }
        auto lookup = std::make_shared<plugin_lookup>(stream_.get_executor(), pending->items,
                                                      [self = shared_from_this()](std::string error) {
                                                          self->call_->outcome = plugin_resume(
                                                              *self->call_->prog, std::move(self->call_->outcome),
                                                              self->ctx_.settings, error);
                                                          self->advance();
                                                      });
        lookup->run(ctx_.docker_socket, ctx_.settings.lookup_nonce);
    }

    void respond(plugin_answer a, bool keep_alive) {
        res_.emplace(a.status, 11);
        res_->set(http::field::content_type, plugin_media_type);
        res_->set(http::field::server, "dockpold");
        res_->body() = std::move(a.body);
        res_->keep_alive(keep_alive);
        res_->prepare_payload();
        stream_.expires_after(plugin_write_timeout);
        http::async_write(stream_, *res_, beast::bind_front_handler(&plugin_session::on_write, shared_from_this()));
    }

    void on_write(beast::error_code ec, std::size_t) {
        const bool keep = res_->keep_alive();
        res_.reset();
        if (ec || !keep) return close();
        do_read();
    }

    void close() {
        beast::error_code ignored;
        stream_.socket().shutdown(unix_protocol::socket::shutdown_both, ignored);
        stream_.close();
    }

    plugin_context& ctx_;
    stream_type stream_;
    beast::flat_buffer buf_;
    std::optional<http::request_parser<http::string_body>> parser_;
    std::optional<http::response<http::string_body>> res_;
    std::optional<authz_call> call_;
    bool keep_alive_ = true;
};

// Listens on the plugin socket; each connection on its own strand.
class plugin_listener : public std::enable_shared_from_this<plugin_listener>,
                        public accept_loop<plugin_listener, unix_protocol> {
public:
    plugin_listener(net::io_context& ioc, plugin_context& ctx) : accept_loop(ioc), ioc_(ioc), ctx_(ctx) {}

    // Binds `path`, replacing a stale socket file (one nobody answers on); the error names the path.
    std::optional<std::string> open(const std::string& path) {
        struct stat st{};
        if (::lstat(path.c_str(), &st) == 0) {
            if (!S_ISSOCK(st.st_mode)) return "--socket " + path + ": exists and is not a socket";
            unix_protocol::socket probe(ioc_);
            beast::error_code ec;
            probe.connect(unix_protocol::endpoint(path), ec);
            if (!ec) return "--socket " + path + ": another process is serving it";
            ::unlink(path.c_str());
        }
        beast::error_code ec;
        acceptor_.open(unix_protocol(), ec);
        if (!ec) acceptor_.bind(unix_protocol::endpoint(path), ec);
        // Only dockerd (root, or the socket's owner) needs to connect.
        if (!ec && ::chmod(path.c_str(), 0660) != 0) ec.assign(errno, boost::system::system_category());
        if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
        if (ec) return "--socket " + path + ": " + ec.message();
        path_ = path;
        return std::nullopt;
    }

private:
    friend class accept_loop<plugin_listener, unix_protocol>;

    net::any_io_executor next_executor() { return net::make_strand(ioc_); }

    void on_connection(unix_protocol::socket sock) {
        if (ctx_.connections.load(std::memory_order_relaxed) >= max_plugin_connections) {
            beast::error_code ignored;
            sock.close(ignored);
            return;
        }
        std::make_shared<plugin_session>(ctx_, std::move(sock))->run();
    }

    // The socket file goes with the listener.
    void on_stopped() {
        if (!path_.empty()) ::unlink(path_.c_str());
    }

    net::io_context& ioc_;
    plugin_context& ctx_;
    std::string path_;
};

} // namespace dockpol::sidecar::plugin
