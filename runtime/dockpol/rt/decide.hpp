// The entry point: one request → one decision, with what must change in the
// request before it is forwarded. Binding and the VM decide which rule holds;
// ownership (docs/language.md#ownership) then has its say:
//   - an `allow own` rule decides only when the request touches the caller's
//     objects (its target and every object it names); otherwise the next rule
//     is tried, exactly as if the rule's condition had been false;
//   - every allowed create of an ownable object carries the owner label (set
//     in the body), an update must keep it, and an `allow own` list, event or
//     prune is narrowed to the caller's objects (its `filters` rewritten).
// dockpold and `dockpolc eval`/`test` both call this, so they agree.
#pragma once
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "dockpol/rt/bind.hpp"
#include "dockpol/rt/ownership.hpp"

namespace dockpol::rt {

namespace detail::decide_impl {

inline decision error_with(std::string reason, bool bad_request) {
    auto d = error_decision(std::move(reason));
    d.bad_request = bad_request;
    return d;
}

// Whether some `allow own` rule is a candidate for this action (its ownership check may need lookups).
inline bool own_rule_may_run(const program& p, std::uint16_t action) {
    const std::size_t row = action < action_count ? action : action_count;
    for (auto k = p.first[row]; k < p.first[row + 1]; ++k)
        if (p.image.rules[p.candidates[k].rule].own) return true;
    return false;
}

// The first value of query parameter `key` as dockerd reads it, if any.
inline std::optional<std::string_view> query_value(const request& req, std::string_view key) {
    for (const auto& [k, v] : req.query)
        if (k == key) return std::string_view(v);
    return std::nullopt;
}

// The owner label set on creates, kept on updates, and the filters of an `allow own` list.
// Returns an error decision when the request cannot be forwarded as allowed.
inline std::optional<decision> apply_owner_rewrites(const program& p, const request& req, std::uint16_t action,
                                                    decision& d) {
    const std::string& label = p.image.owner_label;
    if (label.empty()) return std::nullopt;
    switch (owner_form_of(action)) {
    case owner_form::create: {
        if (!req.body) return error_with("the create has no body to set the owner label in", true);
        auto s = splice_owner_label(action, *req.body, label, req.user);
        if (s.error != owner_errc::none) return error_with(s.reason, s.error == owner_errc::bad_request);
        if (s.changed) {
            d.forward_body = std::move(s.body);
            for (auto& r : s.rewrites) d.rewrites.push_back(rewrite{"body", std::move(r)});
        }
        return std::nullopt;
    }
    case owner_form::keep: {
        if (!req.body) return std::nullopt;   // dockerd refuses an update without a spec
        std::optional<std::string_view> owner;
        for (const auto& [k, v] : req.resource_labels)
            if (k == label) owner = v;
        auto e = check_owner_label_kept(action, *req.body, label, owner);
        if (e.error != owner_errc::none) return error_with(e.reason, e.error == owner_errc::bad_request);
        return std::nullopt;
    }
    case owner_form::list:
    case owner_form::swarm_list: {
        if (!d.own) return std::nullopt;
        auto f = merge_owner_filter(owner_form_of(action), query_value(req, "filters"), label, req.user);
        if (f.error != owner_errc::none) return error_with(f.reason, f.error == owner_errc::bad_request);
        d.forward_filters = std::move(f.filters);
        d.rewrites.push_back(rewrite{"query", std::move(f.rewrite)});
        return std::nullopt;
    }
    default: return std::nullopt;
    }
}

} // namespace detail::decide_impl

// `bound`, when given, receives the input the rules were evaluated on (the
// slot values, for the audit line's `facts`); it stays empty when binding
// failed. The values are moved out, not bound again.
inline decision decide(const program& p, const request& req, std::optional<input>* bound = nullptr) {
    namespace di = detail::decide_impl;
    if (bound) bound->reset();
    auto b = bind(p, req);
    const std::uint16_t action = action_id_of(req.action);
    if (auto* e = std::get_if<fact_error>(&b)) {
        auto d = di::error_with(e->reason, e->bad_request);
        d.lookups = std::move(e->lookups);
        // One round of lookups for everything: the facts' objects and those an `allow own` rule may check.
        if (!d.lookups.empty() && !req.objects_known && !p.image.owner_label.empty() && di::own_rule_may_run(p, action)) {
            auto named = owned_objects_named(action, req);
            for (auto& k : named.keys)
                if (std::find(d.lookups.begin(), d.lookups.end(), k) == d.lookups.end()) d.lookups.push_back(std::move(k));
        }
        return d;
    }
    auto& in = std::get<input>(b);
    // Every return below has evaluated `in`; hand it over on the way out.
    struct hand_over {
        input& src;
        std::optional<input>* dst;
        ~hand_over() { if (dst) dst->emplace(std::move(src)); }
    } give{in, bound};
    std::uint32_t from = 0;
    for (;;) {
        decision d = evaluate(p, in, from);
        if (d.own) {
            // The check reads objects the body names: an unread body cannot prove ownership (fail closed).
            if (own_check_reads_body(action) && !req.body)
                return di::error_with("ownership cannot be checked without the request body", false);
            auto oc = check_ownership(action, req, p.image.owner_label);
            if (oc.verdict == ownership::need_lookups) {
                if (req.objects_known)
                    return di::error_with("ownership check needs objects that were not looked up", false);
                auto l = error_decision("objects to look up: " + std::to_string(oc.lookups.size()));
                l.lookups = std::move(oc.lookups);
                return l;
            }
            if (oc.verdict == ownership::error) return di::error_with(oc.reason, oc.bad_request);
            if (oc.verdict == ownership::not_owned) {
                from = static_cast<std::uint32_t>(d.rule_index) + 1;
                continue;
            }
        }
        if (d.eff == effect::allow)
            if (auto refused = di::apply_owner_rewrites(p, req, action, d)) return std::move(*refused);
        return d;
    }
}

} // namespace dockpol::rt
