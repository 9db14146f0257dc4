// One client connection: handshake → (read head → validate → route → refuse
// what dockerd would read differently (request_refusals.hpp) → [read body] →
// [look up the target (lookup_op.hpp), forward its full id (forward_target.hpp)]
// → decide → forward or deny → audit (request_audit.hpp))* → close.
// Each step is a do_/on_ pair; every handler runs on the connection's executor
// and holds the session alive. A deadline guards every client read except
// established streams and tunnels. A CA/CRL reload re-checks the peer
// (peer_recheck.hpp) and closes a client no longer accepted.
#pragma once
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <fmt/format.h>

#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "deny_response.hpp"
#include "forward_request.hpp"
#include "forward_target.hpp"
#include "lookup_op.hpp"
#include "peer_recheck.hpp"
#include "request_refusals.hpp"
#include "dockpol/rt/actions.hpp"
#include "dockpol/rt/bind.hpp"
#include "dockpol/rt/limits.hpp"
#include "dockpol/rt/routes.hpp"
#include "head_check.hpp"
#include "identity.hpp"
#include "relay.hpp"
#include "request_audit.hpp"
#include "request_state.hpp"
#include "resource_lookup.hpp"
#include "server_context.hpp"
#include "shadow_decide.hpp"
#include "tls_stream.hpp"
#include "tunnel.hpp"

namespace dockpol::sidecar {

namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;

// Connecting to the local dockerd socket takes microseconds; 10 s means dockerd is wedged.
inline constexpr std::chrono::seconds upstream_connect_timeout{10};
// Bytes read from the client per read while collecting a request head.
inline constexpr std::size_t head_read_chunk = 16 * 1024;

class client_session : public drainable, public std::enable_shared_from_this<client_session> {
    // Every handler runs on this connection's executor (one thread per io_context) and keeps the session alive.
    template <class F>
    auto bind(F f) {
        return net::bind_executor(executor_, beast::bind_front_handler(f, shared_from_this()));
    }

public:
    // `io_index` is the io_context the socket lives on; upstream connections come from that context's pool.
    client_session(server_context& srv, tcp::socket sock, SSL_CTX* ctx, std::size_t io_index)
        : srv_(srv), upstream_(*srv.upstreams[io_index]), peer_(peer_text(sock)), handshake_ctx_(ctx), tls_(std::move(sock), ctx),
          executor_(tls_.get_executor()), timer_(executor_) {
        srv_.stats.connections_active.fetch_add(1, std::memory_order_relaxed);
        srv_.stats.connections_total.fetch_add(1, std::memory_order_relaxed);
    }
    client_session(const client_session&) = delete;
    client_session& operator=(const client_session&) = delete;

    ~client_session() override {
        if (registry_id_) srv_.sessions.remove(registry_id_);
        // Pooled only after a complete final exchange with nothing unread (see end_upstream_exchange).
        if (up_ && up_clean_ && ubuf_.size() == 0 && up_->is_open()) upstream_.give_back(std::move(*up_));
        srv_.stats.connections_active.fetch_sub(1, std::memory_order_relaxed);
    }

    void run() {
        registry_id_ = srv_.sessions.add(weak_from_this());
        if (!tls_.valid()) return close_all();
        arm(srv_.cfg.handshake_timeout);
        tls_.async_handshake(bind(&client_session::on_handshake));
    }

    // From any thread: close now if between requests, else after the current one (the draining flag).
    void drain() override {
        net::post(executor_, [self = shared_from_this()] {
            if (self->phase_ == phase::idle || self->phase_ == phase::handshake) self->close_all();
        });
    }

    // From any thread: a newly loaded CA/CRL that refuses this client closes the connection, tunnels included.
    void recheck(std::shared_ptr<const tls_context> ctx) override {
        net::post(executor_, [self = shared_from_this(), ctx = std::move(ctx)] {
            // A handshake in progress is checked against the current context when it completes.
            if (self->phase_ == phase::handshake || self->phase_ == phase::closing || self->phase_ == phase::closed) return;
            if (auto why = recheck_peer(ctx->native(), self->peer_chain_)) self->revoke(*why);
        });
    }

private:
    enum class phase : std::uint8_t { handshake, idle, head, busy, tunnel, closing, closed };


    using member_step = void (client_session::*)();

    static std::string peer_text(const tcp::socket& s) {
        boost::system::error_code ec;
        auto ep = s.remote_endpoint(ec);
        if (ec) return "unknown";
        if (ep.address().is_v6()) return fmt::format("[{}]:{}", ep.address().to_string(), ep.port());
        return fmt::format("{}:{}", ep.address().to_string(), ep.port());
    }

    static std::string_view sv(beast::string_view s) { return {s.data(), s.size()}; }

    // ---- deadlines -------------------------------------------------------
    // One timer per connection, re-armed only when a deadline moves earlier,
    // so keep-alive requests usually cost no timer operation at all.
    void arm(std::chrono::milliseconds d) {
        deadline_ = std::chrono::steady_clock::now() + d;
        if (!timer_armed_ || deadline_ < timer_.expiry()) {
            timer_armed_ = true;
            timer_.expires_at(deadline_);
            timer_.async_wait(bind(&client_session::on_timer));
        }
    }
    void disarm() { deadline_ = std::chrono::steady_clock::time_point::max(); }

    void on_timer(beast::error_code ec) {
        if (ec == net::error::operation_aborted) return;
        timer_armed_ = false;
        if (phase_ == phase::closed || deadline_ == std::chrono::steady_clock::time_point::max()) return;
        if (std::chrono::steady_clock::now() >= deadline_) return reading_body_ ? body_timed_out() : close_all();
        timer_armed_ = true;
        timer_.expires_at(deadline_);
        timer_.async_wait(bind(&client_session::on_timer));
    }

    // ---- handshake -------------------------------------------------------
    void on_handshake(beast::error_code ec, std::size_t) {
        if (ec) {
            srv_.stats.tls_handshake_failures.fetch_add(1, std::memory_order_relaxed);
            return close_all();
        }
        X509* cert = SSL_get0_peer_certificate(tls_.native_handle());
        auto id = identity_from_cert(cert);
        // The verify callback already refused these; a resumed session without a usable certificate is refused too.
        if (id.index() != 0) {
            srv_.stats.tls_handshake_failures.fetch_add(1, std::memory_order_relaxed);
            return close_all();
        }
        id_ = std::move(std::get<0>(id));
        peer_chain_ = peer_chain(tls_.native_handle());
        conn_start_ = std::chrono::steady_clock::now();
        // A reload during the handshake swapped the context: this client must pass the new CA/CRL too.
        if (auto cur = srv_.tls.snapshot(); cur && cur->native() != handshake_ctx_)
            if (auto why = recheck_peer(cur->native(), peer_chain_)) return revoke(*why);
        do_read_head(true);
    }

    // ---- request head ----------------------------------------------------
    void do_read_head(bool first) {
        if (srv_.draining.load(std::memory_order_relaxed) && cbuf_.size() == 0) return graceful_close();
        scan_from_ = 0;
        if (cbuf_.size() > 0) {
            phase_ = phase::head;
            arm(srv_.cfg.header_timeout);
            return scan_head();
        }
        phase_ = phase::idle;
        // The first request must come within the header timeout; later ones may wait the idle timeout.
        arm(first ? srv_.cfg.header_timeout : srv_.cfg.idle_timeout);
        read_head_bytes();
    }

    void read_head_bytes() {
        tls_.async_read_some(cbuf_.prepare(head_read_chunk), bind(&client_session::on_head_bytes));
    }

    void on_head_bytes(beast::error_code ec, std::size_t n) {
        if (ec) {
            // EOF between requests is how keep-alive connections normally end.
            if (phase_ == phase::idle && (ec == net::error::eof)) return graceful_close();
            return close_all();
        }
        cbuf_.commit(n);
        if (phase_ == phase::idle) phase_ = phase::head;
        scan_head();
    }

    void scan_head() {
        auto data = static_cast<const char*>(cbuf_.data().data());
        std::string_view buf(data, cbuf_.size());
        auto end = buf.find("\r\n\r\n", scan_from_);
        if (end == std::string_view::npos) {
            if (buf.size() >= srv_.cfg.max_header_bytes) {
                begin_request();
                return send_local(http::status::request_header_fields_too_large,
                                  bad_request_body("request header larger than --max-header-bytes"), true,
                                  "request header too large");
            }
            scan_from_ = buf.size() >= 3 ? buf.size() - 3 : 0;
            // Only now is a slow head possible: give it the header timeout from its first byte.
            if (!head_deadline_set_) {
                head_deadline_set_ = true;
                arm(srv_.cfg.header_timeout);
            }
            return read_head_bytes();
        }
        head_deadline_set_ = false;
        std::size_t head_len = end + 4;
        if (head_len > srv_.cfg.max_header_bytes) {
            begin_request();
            return send_local(http::status::request_header_fields_too_large,
                              bad_request_body("request header larger than --max-header-bytes"), true,
                              "request header too large");
        }
        on_head(buf.substr(0, head_len));
    }

    void begin_request() {
        // Serializers point into the parsers' messages: drop them before the parsers are replaced.
        req_sr_.reset();
        res_sr_.reset();
        res_p_.reset();
        // The previous request's parser must not speak for this one (send_local reads its keep-alive).
        req_p_.reset();
        rq_ = request_state{};
        rq_.active = true;
        rq_.start = std::chrono::steady_clock::now();
        rq_.wall = std::chrono::system_clock::now();
        rq_.id = fmt::format("{:016x}", srv_.next_request_id.fetch_add(1, std::memory_order_relaxed));
        phase_ = phase::busy;
    }

    void bad_request(std::string reason) {
        srv_.stats.bad_requests.fetch_add(1, std::memory_order_relaxed);
        rq_.reason = "bad request: " + reason;
        send_local(http::status::bad_request, bad_request_body(reason), true, {});
    }

    void on_head(std::string_view head) {
        begin_request();
        auto hc = check_request_head(head);
        rq_.method = std::string(hc.facts.method);
        rq_.path = std::string(hc.facts.target.substr(0, hc.facts.target.find('?')));
        if (hc.error) return bad_request(*hc.error);
        rq_.has_body = hc.facts.chunked || hc.facts.content_length.value_or(0) > 0;
        rq_.expect_continue = hc.facts.expect_continue;

        req_p_.emplace();
        req_p_->header_limit(static_cast<std::uint32_t>(srv_.cfg.max_header_bytes));
        req_p_->body_limit(boost::none);
        beast::error_code ec;
        req_p_->put(net::buffer(head.data(), head.size()), ec);
        if (ec || !req_p_->is_header_done()) return bad_request("malformed header: " + ec.message());
        cbuf_.consume(head.size());

        auto& msg = req_p_->get();
        rq_.route = rt::route(sv(msg.method_string()), sv(msg.target()));
        if (!rq_.route.ok) return bad_request(rq_.route.error);
        if (auto why = query_refusal(rq_.route.query); !why.empty()) return bad_request(std::string(why));
        for (const auto& f : msg)
            if (f.name() == http::field::content_type)
                if (auto why = content_type_refusal(sv(f.value())); !why.empty()) return bad_request(std::string(why));
        rq_.head_fields = field_count();
        auto& r = rq_.route;
        rq_.action = r.action;
        rq_.action_id = r.action_id;
        rq_.hijack = r.action_id < rt::action_count && rt::all_actions()[r.action_id].hijack;
        rq_.path = r.path;
        rq_.prog = srv_.policy.snapshot();
        if (srv_.shadow) rq_.shadow_prog = srv_.shadow->store.snapshot();

        auto& q = rq_.req;
        q.user = id_.user;
        q.groups = id_.groups;
        q.host = srv_.host_name;
        q.host_labels = srv_.host_labels;
        q.method = rq_.method;
        q.path = r.path;
        q.api_version = r.api_version;
        q.query = r.query;
        q.action = std::string(r.action);
        q.resource_id = r.resource_id;

        // A declared body too big to inspect is refused before any of it is read (or a 100 Continue invites it).
        if (rq_.has_body && rt::needs_body(*rq_.prog, rq_.action_id) &&
            hc.facts.content_length.value_or(0) > srv_.cfg.max_body_inspect)
            return body_too_large();
        rq_.shadow_reads_body = shadow_reads_body_alone(rq_, hc.facts.content_length, hc.facts.chunked,
                                                        srv_.cfg.max_body_inspect);

        if (rq_.expect_continue) {
            // dockpold answers the client's Expect itself (the forwarded head drops it: forward_request.hpp).
            if (rq_.has_body) {
                arm(srv_.cfg.header_timeout);
                return net::async_write(tls_, net::buffer(continue_line),
                                        bind(&client_session::on_continue_sent));
            }
        }
        step_body();
    }

    // A body the policy must read is larger than --max-body-inspect: 413, audited as a deny by rule error,
    // and the connection closed (the rest of the body is not read).
    void body_too_large() {
        rq_.decision = "deny";
        rq_.rule = "error";
        srv_.stats.count_request(decision_label::deny, rq_.action_id);
        send_local(http::status::payload_too_large,
                   error_body(fmt::format("[dockpol] request body larger than --max-body-inspect ({} bytes)",
                                          srv_.cfg.max_body_inspect)),
                   true, "request body larger than --max-body-inspect");
    }

    static constexpr std::string_view continue_line = "HTTP/1.1 100 Continue\r\n\r\n";

    void on_continue_sent(beast::error_code ec, std::size_t) {
        if (ec) return abort_request(ec);
        step_body();
    }

    // ---- body for inspection ---------------------------------------------
    void step_body() {
        if (rq_.has_body && (rt::needs_body(*rq_.prog, rq_.action_id) || rq_.shadow_reads_body)) {
            rq_.req.body.emplace();
            // One deadline for the whole inspected body: a client that stops sending is cut, not waited for.
            arm(srv_.cfg.body_timeout);
            return read_inspect_body();
        }
        step_resource();
    }

    void read_inspect_body() {
        reading_body_ = true;
        auto buf = relay_span(0);
        req_p_->get().body().data = buf.data();
        req_p_->get().body().size = buf.size();
        http::async_read_some(tls_, cbuf_, *req_p_, bind(&client_session::on_inspect_body));
    }

    // The inspected body did not arrive in time: answer 408 (the read still pending is dropped) and close.
    void body_timed_out() {
        reading_body_ = false;
        body_cut_ = true;
        send_local(http::status::request_timeout,
                   error_body("[dockpol] request body not received within --body-timeout"), true,
                   "request body not received within --body-timeout");
    }

    void on_inspect_body(beast::error_code ec, std::size_t) {
        if (body_cut_) return;   // answered 408 already; the connection is closing
        reading_body_ = false;
        if (ec == http::error::need_buffer) ec = {};
        if (ec) return abort_request(ec);
        auto buf = relay_span(0);
        std::size_t filled = buf.size() - req_p_->get().body().size;
        rq_.bytes_in += filled;
        // Too big to inspect means it cannot be checked, so it is not forwarded (fail closed).
        if (rq_.req.body->size() + filled > srv_.cfg.max_body_inspect) return body_too_large();
        rq_.req.body->append(buf.data(), filled);
        if (!req_p_->is_done()) return read_inspect_body();
        if (auto why = trailer_refusal(rq_.head_fields, field_count()); !why.empty()) return bad_request(std::string(why));
        rq_.body_buffered = true;
        step_resource();
    }

    // ---- target lookup -----------------------------------------------------
    // The policy reads the target's name/labels/inspect, and the request is then forwarded to the exact id
    // the lookup returned: dockerd resolving the name again could find another object by then.
    void step_resource() {
        const auto& r = rq_.route;
        if (!reads_target(*rq_.prog, r, rq_.action_id)) return decide();
        if (auto hit = srv_.resources.get(resource_cache::key(r.inspect_kind, r.resource_id))) return use_resource(*hit);
        auto item = inspect_item(r.inspect_kind, r.resource_id);
        // A target no inspect path can address exactly is not looked up (as before: no resource facts).
        if (!item) return decide();
        lookup_.assign(1, std::move(*item));
        start_lookups(&client_session::on_target_looked_up);
    }

    // One lookup step for the target and for named objects: `lookup_` says what to ask dockerd,
    // `looked_up_` what to do with the answers. The session's timer bounds it.
    void start_lookups(member_step looked_up) {
        looked_up_ = looked_up;
        // With a plugin behind dockerd, the proxy's own inspects are signed like the requests it forwards.
        if (srv_.handoff)
            for (auto& it : lookup_) it.extra_headers = handoff::header_line(*srv_.handoff, "GET", it.path);
        ensure_upstream(&client_session::lookup_send);
    }

    void lookup_send() {
        arm(inspect_timeout);
        up_clean_ = false;
        async_lookup(*up_, ubuf_, lookup_, bind(&client_session::on_lookup));
    }

    void on_lookup(beast::error_code ec, lookup_result res) {
        disarm();
        if (ec) return inspect_failed("no answer from dockerd: " + ec.message());
        end_upstream_exchange(res.reusable);
        (this->*looked_up_)();
    }

    void on_target_looked_up() {
        auto answer = read_target_answer(lookup_.back());
        if (std::holds_alternative<target_missing>(answer)) return not_found(lookup_.back().body);
        if (auto* why = std::get_if<std::string>(&answer)) return inspect_failed(std::move(*why));
        if (auto* next = std::get_if<lookup_item>(&answer)) {
            lookup_.assign(1, std::move(*next));
            return start_lookups(&client_session::on_target_looked_up);
        }
        const auto& info = std::get<resource_info>(answer);
        // The request is forwarded to this exact id.
        if (info.id.empty()) return inspect_failed("dockerd's inspect answer has no id");
        // Exec lookups end here with the container's info, cached under the exec id the request named.
        srv_.resources.put(resource_cache::key(rq_.route.inspect_kind, rq_.route.resource_id), info);
        use_resource(info);
    }

    void use_resource(const resource_info& info) {
        set_resource(rq_.req, rq_.route, info);
        if (rewrites_target(rq_.route)) {
            rq_.target_id = info.id;
            rq_.forward_target = forward_target(sv(req_p_->get().method_string()), sv(req_p_->get().target()),
                                                rq_.route, info.id);
            if (rq_.forward_target.empty())
                return deny(rt::error_decision("cannot address " + std::string(rq_.route.inspect_kind) + " " +
                                               rq_.route.resource_id + " by its id " + info.id));
        }
        decide();
    }

    // The target does not exist: answer dockerd's own 404 (its wording per kind), nothing forwarded.
    void not_found(std::string_view dockerd_body) {
        std::string msg;
        auto j = nlohmann::json::parse(dockerd_body, nullptr, false);
        if (j.is_object())
            if (auto m = j.find("message"); m != j.end() && m->is_string()) msg = m->get<std::string>();
        if (msg.empty()) msg = fmt::format("No such {}: {}", rq_.route.inspect_kind, rq_.route.resource_id);
        rq_.decision = "deny";
        rq_.reason = "target not found: " + msg;
        srv_.stats.count_request(decision_label::deny, rq_.action_id);
        send_local(http::status::not_found, error_body(msg), close_after_local_answer(), {});
    }

    void inspect_failed(std::string why) {
        if (!up_clean_) close_upstream();
        srv_.stats.upstream_errors.fetch_add(1, std::memory_order_relaxed);
        deny(rt::error_decision("resource lookup failed: " + why));
    }

    // ---- named objects -------------------------------------------------------
    // Facts of a create follow the named volumes and joined containers it names
    // (GET /volumes/NAME, GET /containers/NAME/json); the decision says which.
    void lookup_objects(const std::vector<std::string>& keys, const std::vector<std::string>& shadow_keys) {
        if (keys.size() > max_object_lookups) return deny(rt::error_decision(too_many_objects(keys.size())));
        lookup_.clear();
        auto& q = rq_.req;
        for (const auto& key : keys) {
            auto item = object_lookup(key);
            if (auto* why = std::get_if<std::string>(&item)) return deny(rt::error_decision(*why));
            auto& it = std::get<lookup_item>(item);
            if (auto hit = srv_.resources.get(resource_cache::key(it.kind, it.name))) {
                q.objects.emplace_back(key, hit->raw);
                continue;
            }
            lookup_.push_back(std::move(it));
        }
        // The shadow's objects ride along only on a round the live makes anyway (no extra round trip).
        add_shadow_lookups(rq_, lookup_, srv_.resources, keys, shadow_keys, lookup_.empty() ? 0 : max_object_lookups);
        q.objects_known = true;
        if (lookup_.empty()) return decide();
        start_lookups(&client_session::on_objects_looked_up);
    }

    void on_objects_looked_up() {
        for (auto& it : lookup_) {
            // Not found: dockerd creates a volume with the options already counted, and refuses to join a
            // container that does not exist.
            if (it.status == 404) continue;
            if (it.status != 200 && it.shadow_only) {
                rq_.shadow_missing_objects = true;
                continue;
            }
            if (it.status != 200) return inspect_failed(fmt::format("dockerd answered {} for {}", it.status, it.path));
            if (auto info = parse_inspect(it.kind, it.body)) srv_.resources.put(resource_cache::key(it.kind, it.name), *info);
            rq_.req.objects.emplace_back(it.kind + ":" + it.name, std::move(it.body));
        }
        decide();
    }

    // ---- decision ----------------------------------------------------------
    void decide() {
        disarm();
        const auto decide_start = std::chrono::steady_clock::now();
        // A body read for the shadow alone stays out of the live decision: it decides as without a shadow.
        std::optional<std::string> shadow_only_body;
        if (rq_.shadow_reads_body) shadow_only_body = std::exchange(rq_.req.body, std::nullopt);
        auto d = rt::decide(*rq_.prog, rq_.req, &rq_.bound);
        if (shadow_only_body) rq_.req.body = std::move(shadow_only_body);
        srv_.stats.latency.decision_seconds.observe(std::chrono::steady_clock::now() - decide_start);
        auto shadow = shadow_decide(rq_);
        if (!d.lookups.empty() && !rq_.req.objects_known) return lookup_objects(d.lookups, shadow.lookups);
        if (rq_.shadow_prog) rq_.shadow = std::move(shadow).settle();
        // A create body dockerd would read differently than it shows (top-level HostConfig fields).
        if (d.bad_request) return bad_request(d.reason);
        // A rewritten body needs the body that was read: never forward the client's instead (fail closed).
        if (d.eff == rt::effect::allow && d.forward_body && !rq_.body_buffered)
            return deny(rt::error_decision("the owner label cannot be set: the request body was not read"));
        if (d.eff == rt::effect::allow) {
            rq_.decision = "allow";
            rq_.rule = std::move(d.rule);
            rq_.reason = std::move(d.reason);
            srv_.stats.count_request(decision_label::allow, rq_.action_id);
            apply_rewrites(d);
            return ensure_upstream(&client_session::forward_send);
        }
        deny(std::move(d));
    }

    // What ownership changed: the body (owner label) replaces the one read, the `filters` value the one sent.
    void apply_rewrites(rt::decision& d) {
        rq_.rewrites = std::move(d.rewrites);
        if (d.forward_body) *rq_.req.body = std::move(*d.forward_body);
        if (d.forward_filters) {
            const std::string current =
                rq_.forward_target.empty() ? std::string(sv(req_p_->get().target())) : rq_.forward_target;
            rq_.forward_target = rt::replace_query_param(current, "filters", *d.forward_filters);
        }
    }

    void deny(rt::decision d) {
        rq_.decision = "deny";
        rq_.rule = std::move(d.rule);
        rq_.reason = std::move(d.reason);
        srv_.stats.count_request(decision_label::deny, rq_.action_id);
        send_local(http::status::forbidden, denial_body(rq_.action, id_.user, rq_.rule), close_after_local_answer(),
                   {});
    }

    // Whether a local answer (denial, 404) closes the connection: an unread body cannot be skipped safely. A
    // body read for the shadow alone would be unread without it, so the answer closes alike.
    bool close_after_local_answer() const { return (req_p_ && !req_p_->is_done()) || rq_.shadow_reads_body; }

    // ---- upstream connection ---------------------------------------------
    void ensure_upstream(member_step next) {
        // Beast sizes each read by the buffer's free capacity (at least 512 bytes): without a full relay
        // buffer reserved, a 512 MiB download would move in 512-byte TLS records.
        ubuf_.reserve(relay_buffer_bytes);
        if (up_ && up_->is_open()) return (this->*next)();
        if (auto s = upstream_.take_idle()) {
            up_.emplace(std::move(*s));
            ubuf_.clear();
            return (this->*next)();
        }
        up_.emplace(upstream_.make_socket());
        ubuf_.clear();
        after_connect_ = next;
        arm(upstream_connect_timeout);
        up_->async_connect(upstream_.endpoint(), bind(&client_session::on_upstream_connect));
    }

    void on_upstream_connect(beast::error_code ec) {
        disarm();
        if (ec) {
            close_upstream();
            srv_.stats.upstream_errors.fetch_add(1, std::memory_order_relaxed);
            if (after_connect_ == &client_session::lookup_send)
                return inspect_failed("cannot connect to dockerd: " + ec.message());
            return upstream_failed("cannot connect to dockerd at " + upstream_.path() + ": " + ec.message());
        }
        up_clean_ = true;
        (this->*after_connect_)();
    }

    // The invariant for pooling: an upstream connection is reused only after a complete final response
    // (keep-alive, parser done, nothing left unread); anything else closes it.
    void end_upstream_exchange(bool complete_keepalive) {
        if (complete_keepalive && ubuf_.size() == 0) up_clean_ = true;
        else close_upstream();
    }

    void close_upstream() {
        if (up_) {
            beast::error_code ignored;
            up_->close(ignored);
            up_.reset();
        }
        up_clean_ = false;
        ubuf_.clear();
    }

    // Nothing was sent to the client yet: answer 502 and close.
    void upstream_failed(std::string why) {
        close_upstream();
        srv_.stats.upstream_errors.fetch_add(1, std::memory_order_relaxed);
        rq_.reason = why;
        send_local(http::status::bad_gateway, upstream_error_body(why), true, {});
    }

    // ---- forwarding --------------------------------------------------------
    void forward_send() {
        auto& msg = req_p_->get();
        prepare_forward_head(msg.base(), forward_plan{rq_.forward_target, rq_.body_buffered,
                                                      rq_.body_buffered ? rq_.req.body->size() : 0, srv_.handoff});
        rq_.head_fields = field_count();   // the forwarded head's fields: a streamed body's trailers come on top
        up_clean_ = false;
        req_sr_.emplace(msg);
        if (req_p_->is_done()) {
            // No body, or the body was read for inspection: send it whole, framed by its length.
            if (rq_.body_buffered && !rq_.req.body->empty()) {
                msg.body().data = rq_.req.body->data();
                msg.body().size = rq_.req.body->size();
            } else {
                msg.body().data = nullptr;
                msg.body().size = 0;
            }
            msg.body().more = false;
            return http::async_write(*up_, *req_sr_, bind(&client_session::on_request_sent));
        }
        http::async_write_header(*up_, *req_sr_, bind(&client_session::on_request_head_sent));
    }

    void on_request_head_sent(beast::error_code ec, std::size_t) {
        if (ec) return upstream_failed("cannot send to dockerd: " + ec.message());
        cbuf_.reserve(relay_buffer_bytes);   // same reason as ubuf_ in ensure_upstream
        // A body upload may take long, but each read must make progress within the idle timeout.
        async_relay_body(tls_, cbuf_, *req_p_, *up_, *req_sr_, relay_span(0),
                         [this] { arm(srv_.cfg.idle_timeout); },
                         // A streamed upload with trailer fields does not end at dockerd: its last chunk is held back.
                         [this] { return trailer_refusal(rq_.head_fields, field_count()).empty(); },
                         bind(&client_session::on_request_body_sent));
    }

    void on_request_body_sent(beast::error_code ec, std::uint64_t n) {
        rq_.bytes_in += n;
        if (ec == finish_refused()) {
            // dockerd saw an unfinished body; the upstream connection cannot be reused.
            close_upstream();
            return bad_request("chunked trailer fields");
        }
        on_request_sent(ec, 0);
    }

    void on_request_sent(beast::error_code ec, std::size_t) {
        disarm();
        if (ec) return abort_request(ec);
        read_response_head();
    }

    void read_response_head() {
        res_sr_.reset();
        res_p_.emplace();
        res_p_->header_limit(static_cast<std::uint32_t>(rt::limits::max_upstream_head_bytes));
        res_p_->body_limit(boost::none);
        if (req_p_->get().method() == http::verb::head) res_p_->skip(true);
        // No deadline: dockerd may legitimately take long (`wait`, a pull, a commit).
        http::async_read_header(*up_, ubuf_, *res_p_, bind(&client_session::on_response_head));
    }

    void on_response_head(beast::error_code ec, std::size_t) {
        if (ec) return upstream_failed("no response from dockerd: " + ec.message());
        auto& res = res_p_->get();
        rq_.status = res.result_int();
        // An interim answer (100 Continue, 102, 103) is not the response: the final one follows on this connection.
        // The client's Expect was answered by dockpold, so interim answers are dropped.
        if (rq_.status / 100 == 1 && rq_.status != 101) return read_response_head();
        res_sr_.emplace(res);
        // Hijack is decided by the route: without `Upgrade: tcp` dockerd answers 200 and hijacks anyway.
        // A hijacked 200 is written raw, without framing; a framed 200 (`exec start` with Detach) is an
        // ordinary answer, and tunnelling it would let later requests on this connection skip the policy.
        bool framed = res.has_content_length() || res.chunked();
        bool tunnel_now = rq_.status == 101 || (rq_.hijack && rq_.status == 200 && !framed);
        if (tunnel_now) {
            phase_ = phase::tunnel;
            return http::async_write_header(tls_, *res_sr_, bind(&client_session::on_hijack_head_sent));
        }
        if (res_p_->is_done()) {
            res.body().data = nullptr;
            res.body().size = 0;
            res.body().more = false;
            return http::async_write(tls_, *res_sr_, bind(&client_session::on_response_sent));
        }
        // Body bytes already here (small JSON answers): the relay sends head and body in one write.
        // Otherwise flush the head now, so streams (`events`, `logs -f`) show their status immediately.
        if (ubuf_.size() > 0) return relay_response();
        http::async_write_header(tls_, *res_sr_, bind(&client_session::on_response_head_sent));
    }

    void on_response_head_sent(beast::error_code ec, std::size_t) {
        if (ec) return abort_request(ec);
        relay_response();
    }

    void relay_response() {
        async_relay_body(*up_, ubuf_, *res_p_, tls_, *res_sr_, relay_span(0), [] {}, [] { return true; },
                         bind(&client_session::on_response_body_sent));
    }

    void on_response_body_sent(beast::error_code ec, std::uint64_t n) {
        rq_.bytes_out += n;
        on_response_sent(ec, 0);
    }

    void on_response_sent(beast::error_code ec, std::size_t) {
        if (ec) return abort_request(ec);
        end_upstream_exchange(res_p_->is_done() && res_p_->keep_alive() && rq_.status >= 200);
        bool keep = req_p_->keep_alive() && res_p_->keep_alive() && res_p_->is_done() &&
                    !srv_.draining.load(std::memory_order_relaxed) && !too_old();
        finish_request();
        if (!keep) return graceful_close();
        do_read_head(false);
    }

    // ---- hijacked connections ----------------------------------------------
    void on_hijack_head_sent(beast::error_code ec, std::size_t) {
        if (ec) return abort_request(ec);
        disarm();
        up_clean_ = false;
        auto t = std::make_shared<tunnel>(executor_, tls_, *up_, cbuf_, ubuf_, relay_span(0), relay_span(1));
        auto self = shared_from_this();
        t->start(
            [self](const tunnel_result& r) {
                self->rq_.bytes_in += r.bytes_in;
                self->rq_.bytes_out += r.bytes_out;
                self->finish_request();
                self->close_upstream();
                self->close_all();
            },
            // dockerd is done: the client gets the idle timeout to finish its side.
            [self] { self->arm(self->srv_.cfg.idle_timeout); });
    }

    // ---- local answers -----------------------------------------------------
    void send_local(http::status st, std::string body, bool close, std::string_view reason) {
        if (!reason.empty() && rq_.reason.empty()) rq_.reason = std::string(reason);
        // The client asked to close (`Connection: close`, or HTTP/1.0 without keep-alive): close after the answer.
        if (req_p_ && req_p_->is_header_done() && !req_p_->keep_alive()) close = true;
        rq_.status = static_cast<unsigned>(st);
        local_res_.emplace(st, 11);
        local_res_->set(http::field::content_type, "application/json");
        local_res_->set(http::field::server, "dockpold");
        local_res_->body() = std::move(body);
        local_res_->keep_alive(!close);
        local_res_->prepare_payload();
        rq_.bytes_out += local_res_->body().size();
        local_close_ = close;
        arm(srv_.cfg.header_timeout);
        http::async_write(tls_, *local_res_, bind(&client_session::on_local_sent));
    }

    void on_local_sent(beast::error_code ec, std::size_t) {
        local_res_.reset();
        finish_request();
        if (ec) return close_all();
        if (local_close_ || srv_.draining.load(std::memory_order_relaxed) || too_old()) return graceful_close();
        do_read_head(false);
    }

    // An I/O error mid-request: nothing sensible can be sent any more.
    void abort_request(beast::error_code) {
        finish_request();
        close_upstream();
        close_all();
    }

    // ---- audit -------------------------------------------------------------
    void finish_request() {
        if (!rq_.active) return;
        rq_.active = false;
        srv_.stats.latency.request_seconds.observe(std::chrono::steady_clock::now() - rq_.start);
        if (srv_.audit) {
            auto e = audit_event_of(rq_, id_, peer_, srv_.host_name, std::chrono::steady_clock::now());
            srv_.audit->push(format_audit_line(e));
        }
        // Counted after its audit line is queued: whoever sees the count can find the line.
        if (srv_.shadow) record_shadow(srv_.shadow->tally, rq_, id_.user);
    }

    // ---- closing -----------------------------------------------------------
    // close_notify first, so the client knows the response was complete.
    void graceful_close() {
        if (phase_ == phase::closing || phase_ == phase::closed) return;
        phase_ = phase::closing;
        arm(std::chrono::seconds(5));
        tls_.async_close_notify(bind(&client_session::on_close_notify));
    }

    void on_close_notify(beast::error_code, std::size_t) { close_all(); }

    void close_all() {
        if (phase_ == phase::closed) return;
        finish_request();
        phase_ = phase::closed;
        tls_.close();
        // Pending relays and tunnels hold references to the upstream socket and buffer: close, do not destroy.
        if (!up_clean_ && up_) {
            beast::error_code ignored;
            up_->close(ignored);
        }
        timer_.cancel();
    }

    // Keep-alive connections end after a request once older than --max-conn-age (tunnels never reach here).
    bool too_old() const { return std::chrono::steady_clock::now() - conn_start_ >= srv_.cfg.max_conn_age; }

    // The client certificate is no longer accepted: close now, with an audit line saying why.
    void revoke(const std::string& why) {
        if (!rq_.active) {
            begin_request();
            rq_.action = "connection";
        }
        rq_.reason = "connection closed: client certificate no longer accepted (" + why + ")";
        close_all();
    }

    // Header fields of the request being read; more after its body than after its head are trailers.
    std::size_t field_count() const {
        const auto& msg = req_p_->get();
        return static_cast<std::size_t>(std::distance(msg.begin(), msg.end()));
    }

    // Relay buffers are allocated on first use: one for bodies, a second only for tunnels.
    std::span<char> relay_span(std::size_t which) {
        auto& b = relay_[which];
        if (!b) b = std::make_unique<char[]>(relay_buffer_bytes);
        return {b.get(), relay_buffer_bytes};
    }

    server_context& srv_;
    upstream_pool& upstream_;
    std::string peer_;
    SSL_CTX* handshake_ctx_;         // the context this connection's handshake used
    tls_stream tls_;
    net::any_io_executor executor_;
    net::steady_timer timer_;
    std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
    bool timer_armed_ = false;
    bool head_deadline_set_ = false;
    phase phase_ = phase::handshake;
    std::uint64_t registry_id_ = 0;

    identity id_;
    peer_chain peer_chain_;          // kept for re-checks after a CA/CRL reload
    std::chrono::steady_clock::time_point conn_start_ = std::chrono::steady_clock::now();
    beast::flat_buffer cbuf_;
    beast::flat_buffer ubuf_;
    std::size_t scan_from_ = 0;
    std::optional<unix_socket> up_;
    bool up_clean_ = false;          // up_ is between exchanges (may be pooled)
    member_step after_connect_ = nullptr;
    member_step looked_up_ = nullptr;  // what a finished lookup step continues with
    std::array<std::unique_ptr<char[]>, 2> relay_;

    request_state rq_;
    std::optional<http::request_parser<http::buffer_body>> req_p_;
    std::optional<http::request_serializer<http::buffer_body>> req_sr_;
    std::optional<http::response_parser<http::buffer_body>> res_p_;
    std::optional<http::response_serializer<http::buffer_body>> res_sr_;
    std::vector<lookup_item> lookup_;
    std::optional<http::response<http::string_body>> local_res_;
    bool local_close_ = false;
    bool reading_body_ = false;      // the inspected body is being read (its timeout answers 408)
    bool body_cut_ = false;          // ... and that timeout fired
};

} // namespace dockpol::sidecar
