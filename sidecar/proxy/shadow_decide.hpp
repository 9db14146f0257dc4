// The shadow bundle's decision of one proxied request (docs/request-model.md#shadow-bundle).
// The shadow shares everything the live decision had — the routed request,
// the body read for inspection, the looked-up target and objects — and adds
// one rt::decide. It never changes the answer, the forwarded bytes or the
// live's bounds:
//   - body: when only the shadow reads the action's body, it is read only if
//     its Content-Length is declared and at most --max-body-inspect (a body
//     of that size is forwarded byte for byte, framed by the same length) and
//     under the same --body-timeout as a body the live reads; a chunked body or
//     a larger one is streamed as the live would, and the shadow decides
//     `error`;
//   - lookups: objects the shadow needs join the live's lookup round (one
//     round, within its bound, a failed shadow-only lookup never denies); a
//     lookup the live does not do at all (its target, or objects when the live
//     looks none up) is not done, and the shadow decides `error`;
//   - ownership rewrites of the shadow are computed by rt::decide and dropped.
#pragma once
#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dockpol/rt/decide.hpp"
#include "dockpol/rt/routes.hpp"
#include "dockpol/rt/vm.hpp"
#include "lookup_op.hpp"
#include "request_state.hpp"
#include "resource_lookup.hpp"

namespace dockpol::sidecar {

namespace shadow_reasons {
inline constexpr std::string_view body_not_read =
    "the request body was not read: the live bundle does not read it, and it is chunked or larger than --max-body-inspect";
inline constexpr std::string_view target_not_looked_up = "the target was not looked up: the live bundle does not read it";
inline constexpr std::string_view objects_not_looked_up =
    "objects the request names were not looked up: the live decision needed no lookup round";
inline constexpr std::string_view object_lookup_missing = "an object the shadow reads could not be looked up in the live's round";
inline constexpr std::string_view rewrite_without_body = "the owner label cannot be set: the request body was not read";
} // namespace shadow_reasons

inline shadow_verdict shadow_error(std::string_view reason) { return shadow_verdict{false, true, "error", std::string(reason)}; }

// Whether the body is read for the shadow alone: the live does not read it, the shadow does, and reading it
// cannot change what the client sees (a declared length within --max-body-inspect, so it is neither refused
// with 413 nor reframed when forwarded).
inline bool shadow_reads_body_alone(const request_state& rq, std::optional<std::uint64_t> content_length, bool chunked,
                                    std::uint64_t max_body_inspect) {
    return rq.shadow_prog && rq.has_body && !rt::needs_body(*rq.prog, rq.action_id) &&
           rt::needs_body(*rq.shadow_prog, rq.action_id) && !chunked && content_length &&
           *content_length <= max_body_inspect;
}

// One decide step of the shadow: a verdict, or the objects it wants looked up in the live's round.
struct shadow_step {
    std::optional<shadow_verdict> verdict;
    std::vector<std::string> lookups;

    // The verdict once the live decision is final: pending lookups the live did not do make it an error.
    shadow_verdict settle() && {
        if (verdict) return std::move(*verdict);
        return shadow_error(shadow_reasons::objects_not_looked_up);
    }
};

// What the shadow decides with what the live had; the caller skips it (empty step) without a shadow.
inline shadow_verdict shadow_verdict_of(rt::decision d, const request_state& rq) {
    if (rq.shadow_missing_objects) return shadow_error(shadow_reasons::object_lookup_missing);
    // The proxy answers 400 for what dockerd would read differently: a deny by rule `error`, as served.
    if (d.bad_request) return shadow_error("bad request: " + d.reason);
    if (d.eff == rt::effect::allow && d.forward_body && !rq.body_buffered)
        return shadow_error(shadow_reasons::rewrite_without_body);
    const bool error = d.eff != rt::effect::allow && d.rule == "error";
    return shadow_verdict{d.eff == rt::effect::allow, error, std::move(d.rule), error ? std::move(d.reason) : std::string()};
}

inline shadow_step shadow_decide(const request_state& rq) {
    if (!rq.shadow_prog) return {};
    const auto& sp = *rq.shadow_prog;
    if (rq.has_body && rt::needs_body(sp, rq.action_id) && !rq.body_buffered)
        return {shadow_error(shadow_reasons::body_not_read), {}};
    if (reads_target(sp, rq.route, rq.action_id) && !reads_target(*rq.prog, rq.route, rq.action_id))
        return {shadow_error(shadow_reasons::target_not_looked_up), {}};
    auto d = rt::decide(sp, rq.req);
    if (!d.lookups.empty() && !rq.req.objects_known) return {std::nullopt, std::move(d.lookups)};
    return {shadow_verdict_of(std::move(d), rq), {}};
}

// Adds the shadow's objects to the live's lookup round: those the live does not ask for, cached ones at once,
// the rest as shadow-only items, never past `max_items` for the round. Anything left out is noted in `rq`
// (the shadow then decides `error`).
inline void add_shadow_lookups(request_state& rq, std::vector<lookup_item>& round, resource_cache& cache,
                               const std::vector<std::string>& live_keys, const std::vector<std::string>& shadow_keys,
                               std::size_t max_items) {
    for (const auto& key : shadow_keys) {
        if (std::find(live_keys.begin(), live_keys.end(), key) != live_keys.end()) continue;
        const auto [kind, name] = object_key_parts(key);
        if (auto hit = cache.get(resource_cache::key(kind, name))) {
            rq.req.objects.emplace_back(key, hit->raw);
            continue;
        }
        auto item = inspect_item(kind, name, true);
        if (!item || round.size() >= max_items) {
            rq.shadow_missing_objects = true;
            continue;
        }
        round.push_back(std::move(*item));
    }
}

// The request is over: count the comparison. Only a request the live decided with rt::decide has a verdict.
inline void record_shadow(shadow_tally& tally, const request_state& rq, std::string_view user) {
    if (!rq.shadow) return;
    tally.record(shadow_comparison{rq.action_id, rq.action, rq.decision == "allow",
                                   rq.rule.empty() ? std::string_view("error") : std::string_view(rq.rule),
                                   &*rq.shadow, std::string_view(rt::image_of(*rq.shadow_prog).man.revision), rq.wall,
                                   rq.id, user});
}

} // namespace dockpol::sidecar
