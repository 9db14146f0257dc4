// One AuthZReq → one decision, by the same route table, request model and
// rt::decide as the proxy (client_session.hpp), with what a plugin cannot do
// decided as deny by rule `error` (fail closed):
//   - the body: dockerd sends RequestBody only for `application/json` bodies
//     it could buffer (and, before CVE-2024-41110 was fixed, not for chunked
//     ones), so a policy that reads body facts for the action and an empty
//     RequestBody is a denial, whatever the headers say;
//   - rewrites: a plugin cannot change the request, so an allow that needs
//     the owner label set or the list filters narrowed is a denial;
//   - lookups: the target and the objects a request names are inspected
//     through dockerd (plugin_lookup.hpp) when --docker is given, with the
//     plugin's nonce so that dockerd's authz chain lets them through; without
//     --docker a policy that needs them is a denial. The plugin cannot pin
//     the object it looked up (dockerd resolves the name again), so a target
//     that does not exist is a denial rather than dockerd's 404.
// Identity: the TLS client of dockerd (User = the leaf certificate's CN, groups
// = its O values), or --local-user/--local-groups for the UNIX socket.
// Proxy and plugin together (handoff.hpp): a request carrying the proxy's
// signed X-Dockpol-Decision is allowed as the proxy decided it when the
// header verifies, and denied when it does not; the plugin's own inspects
// carry its per-process nonce and are allowed (inspects only).
// Pure apart from parsing certificates and the hand-off's replay window: no sockets.
#pragma once
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "authz_protocol.hpp"
#include "handoff/handoff.hpp"
#include "dockpol/rt/actions.hpp"
#include "dockpol/rt/decide.hpp"
#include "dockpol/rt/routes.hpp"
#include "proxy/deny_response.hpp"
#include "proxy/identity.hpp"
#include "proxy/lookup_op.hpp"
#include "proxy/request_refusals.hpp"

namespace dockpol::sidecar::plugin {

// What the plugin knows beyond the request: how to name callers of the UNIX socket, and the host.
struct plugin_settings {
    std::string local_user = "local";
    std::vector<std::string> local_groups;
    std::string host;
    rt::string_pairs host_labels;
    std::uint64_t max_body_inspect = 1u << 20;
    handoff::verifier* handoff = nullptr;   // --handoff-key: accept what the proxy signed
    std::string lookup_nonce;               // what the plugin's own inspects carry; "" = no lookups (no --docker)
};

// The reasons a plugin decides deny by rule `error` where the proxy could go on.
namespace reasons {
inline constexpr std::string_view body_not_seen =
    "the policy reads the request body, but dockerd sent the plugin none (not JSON, too large or chunked)";
inline constexpr std::string_view rewrite_needs_proxy = "ownership rewrite needs the proxy";
inline constexpr std::string_view no_lookups = "the policy needs a resource lookup: give dockpold plugin --docker";
inline constexpr std::string_view bad_lookup_header = "X-Dockpol-Lookup is the plugin's own, for its inspects only";
} // namespace reasons

// The rules named in audit lines for requests decided elsewhere.
namespace rules {
inline constexpr std::string_view handoff = "handoff";   // the proxy decided it (signed hand-off)
inline constexpr std::string_view lookup = "lookup";     // the plugin's own inspect
} // namespace rules

// Inspects to make before the decision can be finished: the target (and, for an exec, its container),
// then the objects the request names — at most three rounds.
struct pending_lookups {
    rt::request q;                   // the request as far as it is known
    bool target = false;             // the items are the target (else the named objects)
    std::vector<lookup_item> items;
};

struct plugin_outcome {
    bool allow = false;
    identity id;                     // who the decision was for ("" before it is known)
    rt::route_result route;          // the routed request (action, resource, path) for the audit line
    std::string_view action = "unknown";
    std::uint16_t action_id = rt::unknown_action_id;
    std::string rule = "error";
    std::string reason;
    std::string msg;                 // the client-facing message of a denial
    std::optional<pending_lookups> pending;   // set: look these up, then plugin_resume (not an answer yet)
    std::optional<rt::input> bound;  // the slot values the decision read (audit `facts`); empty when none
};

// The identity of the request's caller, or why there is none.
inline std::variant<identity, std::string> plugin_identity(const authz_request& r, const plugin_settings& s) {
    using result = std::variant<identity, std::string>;
    if (r.peer_certificates_pem.empty()) {
        // dockerd names a user only from a TLS client certificate, which it then sends too.
        if (!r.user.empty()) return result(std::in_place_index<1>, "User is set but no peer certificate was sent");
        return result(std::in_place_index<0>, identity{s.local_user, s.local_groups});
    }
    const std::string& pem = r.peer_certificates_pem.front();
    if (pem.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
        return result(std::in_place_index<1>, "peer certificate too large");
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
    if (!bio) return result(std::in_place_index<1>, "out of memory reading the peer certificate");
    std::unique_ptr<X509, decltype(&X509_free)> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), X509_free);
    if (!cert) return result(std::in_place_index<1>, "the peer certificate is not a PEM certificate");
    auto id = identity_from_cert(cert.get());
    if (auto* e = std::get_if<1>(&id)) return result(std::in_place_index<1>, "peer certificate: " + *e);
    // dockerd's User is the leaf's CN: anything else means the two do not describe the same caller.
    if (std::get<0>(id).user != r.user)
        return result(std::in_place_index<1>, "User does not match the peer certificate's CN");
    return result(std::in_place_index<0>, std::move(std::get<0>(id)));
}

namespace detail {

inline plugin_outcome& deny_error(plugin_outcome& o, std::string reason) {
    o.allow = false;
    o.rule = "error";
    o.reason = std::move(reason);
    o.msg = denial_message(o.action, o.id.user, o.rule);
    return o;
}

// A request the proxy would refuse with 400: the plugin denies it with the same message.
inline plugin_outcome& deny_bad_request(plugin_outcome& o, std::string_view why) {
    o.allow = false;
    o.rule = "error";
    o.reason = "bad request: " + std::string(why);
    o.msg = bad_request_message(why);
    return o;
}

} // namespace detail

// A plugin request that could not be parsed: denied, with the reason in both Msg and Err.
inline plugin_outcome malformed_outcome(std::string why) {
    plugin_outcome o;
    o.reason = "bad plugin request: " + why;
    o.msg = "[dockpol] bad plugin request: " + why;
    return o;
}

namespace detail {

// The decision once the target is known: named objects may still need a round of lookups.
inline plugin_outcome& decide_known(const rt::program& prog, rt::request q, const plugin_settings& s, plugin_outcome& o) {
    auto d = rt::decide(prog, q, &o.bound);
    if (!d.lookups.empty() && !q.objects_known) {
        if (s.lookup_nonce.empty()) return deny_error(o, std::string(reasons::no_lookups));
        if (d.lookups.size() > max_object_lookups) return deny_error(o, too_many_objects(d.lookups.size()));
        std::vector<lookup_item> items;
        for (const auto& key : d.lookups) {
            auto item = object_lookup(key);
            if (auto* why = std::get_if<std::string>(&item)) return deny_error(o, *why);
            items.push_back(std::get<lookup_item>(std::move(item)));
        }
        q.objects_known = true;
        o.pending = pending_lookups{std::move(q), false, std::move(items)};
        return o;
    }
    o.pending.reset();
    if (d.bad_request) return deny_bad_request(o, d.reason);
    if (d.eff == rt::effect::allow) {
        // The allow holds only for the request as the proxy would rewrite it; dockerd would act on the original.
        if (d.forward_body || d.forward_filters || !d.rewrites.empty())
            return detail::deny_error(o, std::string(reasons::rewrite_needs_proxy));
        o.allow = true;
        o.rule = std::move(d.rule);
        o.reason = std::move(d.reason);
        return o;
    }
    o.allow = false;
    o.rule = std::move(d.rule);
    o.reason = std::move(d.reason);
    o.msg = denial_message(o.action, o.id.user, o.rule);
    return o;
}

} // namespace detail

inline plugin_outcome plugin_decide(const rt::program& prog, const authz_request& r, const plugin_settings& s) {
    plugin_outcome o;
    o.route = rt::route(r.method, r.uri);
    if (!o.route.ok) return detail::deny_bad_request(o, o.route.error);
    o.action = o.route.action;
    o.action_id = o.route.action_id;
    auto id = plugin_identity(r, s);
    if (auto* e = std::get_if<1>(&id)) {
        o.id.user = r.user;
        return detail::deny_error(o, *e);
    }
    o.id = std::move(std::get<0>(id));
    if (auto h = header_value(r, handoff::decision_header); h && s.handoff) {
        // The proxy decided and signed this exact method and target: allowed once, or a forgery.
        if (auto why = s.handoff->verify(*h, r.method, r.uri); !why.empty()) return detail::deny_error(o, why);
        o.allow = true;
        o.rule = rules::handoff;
        o.reason = "allowed by dockpold the proxy, hand-off " + std::string(h->substr(0, h->find('.')));
        return o;
    }
    if (auto n = header_value(r, handoff::lookup_header)) {
        // Only this process knows the nonce, and it sends it only with GET inspects.
        const bool inspect = r.method == "GET" && o.route.action.ends_with("_inspect");
        if (s.lookup_nonce.empty() || !inspect || n->size() != s.lookup_nonce.size() ||
            CRYPTO_memcmp(n->data(), s.lookup_nonce.data(), n->size()) != 0)
            return detail::deny_error(o, std::string(reasons::bad_lookup_header));
        o.allow = true;
        o.rule = rules::lookup;
        return o;
    }
    if (auto why = query_refusal(o.route.query); !why.empty()) return detail::deny_bad_request(o, why);
    if (auto ct = header_value(r, "Content-Type"))
        if (auto why = content_type_refusal(*ct); !why.empty()) return detail::deny_bad_request(o, why);

    rt::request q;
    q.user = o.id.user;
    q.groups = o.id.groups;
    q.host = s.host;
    q.host_labels = s.host_labels;
    q.method = r.method;
    q.target = r.uri;
    q.path = o.route.path;
    q.api_version = o.route.api_version;
    q.query = o.route.query;
    q.action = std::string(o.route.action);
    q.resource_id = o.route.resource_id;

    // The proxy reads the body only when the policy needs it; so does the plugin, and it must have one.
    if (rt::needs_body(prog, o.action_id)) {
        if (!r.body || r.body->empty()) return detail::deny_error(o, std::string(reasons::body_not_seen));
        if (r.body->size() > s.max_body_inspect)
            return detail::deny_error(o, "request body larger than --max-body-inspect (" +
                                             std::to_string(s.max_body_inspect) + " bytes)");
        q.body = r.body;
    }
    if (reads_target(prog, o.route, o.action_id)) {
        if (s.lookup_nonce.empty()) return detail::deny_error(o, std::string(reasons::no_lookups));
        auto item = inspect_item(o.route.inspect_kind, o.route.resource_id);
        // A target no inspect path can address exactly is not looked up, as in the proxy (no resource facts).
        if (!item) {
            detail::decide_known(prog, std::move(q), s, o);
            return o;
        }
        o.pending = pending_lookups{std::move(q), true, {std::move(*item)}};
        return o;
    }
    detail::decide_known(prog, std::move(q), s, o);
    return o;
}

// After the pending lookups were answered (each item's status and body): the next round, or the decision.
// `error` is why the lookup itself failed ("" when dockerd answered).
inline plugin_outcome plugin_resume(const rt::program& prog, plugin_outcome o, const plugin_settings& s,
                                    std::string_view error = {}) {
    if (!o.pending) return o;
    auto p = std::move(*o.pending);
    o.pending.reset();
    if (!error.empty()) return detail::deny_error(o, "resource lookup failed: " + std::string(error));
    if (p.target) {
        const auto& it = p.items.back();
        auto answer = read_target_answer(it);
        // dockerd would answer 404, but it resolves the name again: one created meanwhile must not slip through.
        if (std::holds_alternative<target_missing>(answer))
            return detail::deny_error(o, "target not found: " + it.kind + " " + it.name);
        if (auto* why = std::get_if<std::string>(&answer)) return detail::deny_error(o, "resource lookup failed: " + *why);
        if (auto* next = std::get_if<lookup_item>(&answer)) {
            o.pending = pending_lookups{std::move(p.q), true, {std::move(*next)}};
            return o;
        }
        set_resource(p.q, o.route, std::get<resource_info>(answer));
        detail::decide_known(prog, std::move(p.q), s, o);
        return o;
    }
    for (auto& it : p.items) {
        // Not found: dockerd creates a volume with the options already counted, and refuses to join a
        // container that does not exist.
        if (it.status == 404) continue;
        if (it.status != 200)
            return detail::deny_error(o, fmt::format("resource lookup failed: dockerd answered {} for {}", it.status, it.path));
        p.q.objects.emplace_back(it.kind + ":" + it.name, std::move(it.body));
    }
    detail::decide_known(prog, std::move(p.q), s, o);
    return o;
}

// The answer dockerd gets: a denial carries the message the CLI prints; a malformed request also sets Err.
inline authz_response response_of(const plugin_outcome& o, bool malformed = false) {
    authz_response r;
    r.allow = o.allow;
    if (!o.allow) r.msg = o.msg;
    if (malformed) r.err = o.reason;
    return r;
}

} // namespace dockpol::sidecar::plugin
