// Binding: turns one request into the program's input — the action id and
// one value per slot, in slot order — then `decide` evaluates it. Request and
// resource fields come straight from the request; body fields and derived
// facts come from the BODY part's one-pass scanner (rt::fill_facts).
// rt::decide (decide.hpp) binds, evaluates and applies ownership.
#pragma once
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "dockpol/rt/actions.hpp"
#include "dockpol/rt/body_facts.hpp"
#include "dockpol/rt/request.hpp"
#include "dockpol/rt/value.hpp"
#include "dockpol/rt/vm.hpp"

namespace dockpol::rt {

namespace detail::bind_impl {

// The first value of `key` in ordered pairs (`host.labels.K`, `query.K`, `resource.labels.K`).
inline value bind_first(const string_pairs& pairs, std::string_view key) {
    for (const auto& [k, v] : pairs)
        if (k == key) return value::string(v);
    return value::absent();
}

inline value bind_strings(const std::vector<std::string>& xs) {
    std::vector<value> items;
    items.reserve(xs.size());
    for (const auto& x : xs) items.push_back(value::string(x));
    return value::list(std::move(items));
}

// A string that is empty when the request has none (no version prefix, no
// target) reads as absent, so a comparison with it is false.
inline value bind_nonempty(const std::string& s) { return s.empty() ? value::absent() : value::string(s); }

} // namespace detail::bind_impl

// The value a request/resource/owner-sourced field has for this request;
// absent for body and fact fields (fill_facts supplies those) and for
// `action`. `owner_label` is the program's (`owner label "NAME"`): resource.owner
// is the target's value of it, absent without a label or a target.
inline value request_value(field_id f, std::string_view key, const request& req, std::string_view owner_label = {}) {
    switch (f) {
    case field_id::user: return value::string(req.user);
    case field_id::groups:
    case field_id::group: return detail::bind_impl::bind_strings(req.groups);
    case field_id::host: return value::string(req.host);
    case field_id::host_labels: return detail::bind_impl::bind_first(req.host_labels, key);
    case field_id::method: return value::string(req.method);
    case field_id::path: return value::string(req.path);
    case field_id::api_version: return detail::bind_impl::bind_nonempty(req.api_version);
    case field_id::query: return detail::bind_impl::bind_first(req.query, key);
    case field_id::resource_id: return detail::bind_impl::bind_nonempty(req.resource_id);
    case field_id::resource_name: return req.resource_name ? value::string(*req.resource_name) : value::absent();
    case field_id::resource_labels: return detail::bind_impl::bind_first(req.resource_labels, key);
    case field_id::resource_owner:
        return owner_label.empty() ? value::absent() : detail::bind_impl::bind_first(req.resource_labels, owner_label);
    default: return value::absent();
    }
}

// The action id a request's action name has; names no table row knows are `unknown`.
inline std::uint16_t action_id_of(std::string_view action_name) {
    auto a = find_action(action_name);
    return a ? *a : unknown_action_id;
}

inline std::variant<input, fact_error> bind(const program& p, const request& req) {
    const auto& slots = p.image.slots;
    input in;
    in.action_id = action_id_of(req.action);
    in.slots.resize(slots.size());
    bool any_body = false;
    for (std::size_t i = 0; i < slots.size(); ++i) {
        const auto src = info(slots[i].field).source;
        if (src == field_source::request || src == field_source::resource || src == field_source::owner)
            in.slots[i] = request_value(slots[i].field, slots[i].key, req, p.image.owner_label);
        else
            any_body = true;
    }
    if (any_body)
        if (auto e = fill_facts(p.image, req, in.action_id, slots, in.slots)) return *e;
    return in;
}

} // namespace dockpol::rt
