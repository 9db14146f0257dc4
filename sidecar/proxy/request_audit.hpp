// The audit event of one finished request, built from its state alone (no
// sockets, no session): `resource` is the target as the request named it,
// `target_id` the exact id forwarded instead, and a denial without a rule is
// rule "error".
#pragma once
#include <chrono>
#include <string_view>

#include "audit_log.hpp"
#include "identity.hpp"
#include "request_state.hpp"

namespace dockpol::sidecar {

// The event points into `rq`, `id`, `peer` and `host`: format it before they change.
inline audit_event audit_event_of(const request_state& rq, const identity& id, std::string_view peer, std::string_view host,
                                  std::chrono::steady_clock::time_point now) {
    audit_event e;
    e.time = rq.wall;
    e.id = rq.id;
    e.user = id.user;
    e.groups = &id.groups;
    e.peer = peer;
    e.host = host;
    e.method = rq.method;
    e.path = rq.path;
    e.action = rq.action;
    e.resource = rq.route.resource_id;
    e.target_id = rq.target_id;
    e.decision = rq.decision;
    e.rule = rq.rule.empty() && rq.decision == "deny" ? std::string_view("error") : std::string_view(rq.rule);
    e.reason = rq.reason;
    e.revision = rq.prog ? std::string_view(rt::image_of(*rq.prog).man.revision) : std::string_view();
    e.rewrites = &rq.rewrites;
    if (rq.bound && rq.prog) e.facts = {&rt::image_of(*rq.prog), &*rq.bound};
    // Only a different decision is a disagreement (shadow_tally.hpp): the same decision by another rule is not.
    if (rq.shadow && rq.shadow->allow != (rq.decision == "allow"))
        e.shadow = audit_event::shadow_part{rq.shadow->allow ? "allow" : "deny", rq.shadow->rule,
                                            rt::image_of(*rq.shadow_prog).man.revision};
    e.status = rq.status;
    e.bytes_in = rq.bytes_in;
    e.bytes_out = rq.bytes_out;
    e.duration_ms = std::chrono::duration<double, std::milli>(now - rq.start).count();
    return e;
}

} // namespace dockpol::sidecar
