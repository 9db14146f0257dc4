// The per-request body plan: which slots need the body, the projection to
// scan (a per-process template of fact inputs, plus the slots' own paths,
// cached per thread), and how raw body values become policy values.
#pragma once
#include <algorithm>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dockpol/rt/detail/body_paths.hpp"
#include "dockpol/rt/detail/fact_inputs.hpp"
#include "dockpol/rt/detail/fact_table.hpp"
#include "dockpol/rt/fields.hpp"
#include "dockpol/rt/json_scan.hpp"
#include "dockpol/rt/program.hpp"
#include "dockpol/rt/request.hpp"
#include "dockpol/rt/value.hpp"

namespace dockpol::rt::detail {


inline bool fact_applies(field_source s, std::string_view action) {
    const auto id = find_action(action);
    return id && scope_actions(s).test(*id);
}

// A JSON scalar as a policy value; containers and null are absent.
inline value scalar_value(const json_value& v) {
    switch (v.type) {
    case json_type::boolean: return value::boolean(v.boolean);
    case json_type::number: return value::number(v.number);
    case json_type::string: return value::string(v.text);
    default: return value::absent();
    }
}

// A raw body value: scalars as themselves, arrays as lists of scalars
// (non-scalar elements absent), null/object/missing absent.
inline value raw_value(const json_value* v) {
    if (!v) return value::absent();
    if (v->type != json_type::array) return scalar_value(*v);
    std::vector<value> items;
    items.reserve(v->elements.size());
    for (const auto& e : v->elements) items.push_back(scalar_value(e));
    return value::list(std::move(items));
}

// The projection of every input a fact source's facts read, built once
// per process and sealed: a request whose slots add no paths of their own
// scans with it as it is.
struct fact_template {
    json_projection proj;
    input_nodes inputs;
};

inline std::uint32_t source_inputs(field_source src) {
    std::uint32_t mask = 0;
    for (const auto& r : fact_table)
        if (info(r.field).source == src) mask |= r.inputs;
    return mask;
}

inline const fact_template& template_for(field_source src) {
    static const auto build = [](field_source s) {
        fact_template t;
        std::vector<path_step> steps;
        t.inputs.add(t.proj, source_inputs(s), steps);   // a few dozen nodes: within every limit
        t.proj.seal();
        return t;
    };
    static const fact_template none = build(field_source::request);
    static const fact_template container = build(field_source::fact_container);
    static const fact_template exec = build(field_source::fact_exec);
    static const fact_template volume = build(field_source::fact_volume);
    switch (src) {
    case field_source::fact_container: return container;
    case field_source::fact_exec: return exec;
    case field_source::fact_volume: return volume;
    default: return none;
    }
}

// What one request needs from its body: which fact source applies (an
// action has at most one), and whether slots bring paths of their own.
struct body_needs {
    field_source group = field_source::request;
    bool raw = false;        // some raw body path is wanted
    bool facts = false;      // some body-derived fact applies
    bool own_paths = false;  // raw paths or label keys beyond the template
};

// Classifies the slots for this request; out[i] of inapplicable facts becomes absent.
inline body_needs classify(const request& req, std::span<const slot_desc> slots, std::span<value> out) {
    body_needs needs;
    for (std::size_t i = 0; i < slots.size(); ++i) {
        const field_source src = info(slots[i].field).source;
        if (src == field_source::body) {
            needs.raw = needs.own_paths = true;
        } else if (is_fact_source(src)) {
            if (!fact_applies(src, req.action)) {
                out[i] = value::absent();
                continue;
            }
            const fact_row* row = find_fact(slots[i].field);
            if (!row || row->inputs == 0) continue;
            needs.group = src;
            needs.facts = true;
            needs.own_paths = needs.own_paths || slots[i].field == field_id::container_labels;
        }
    }
    return needs;
}

// The projection for a slot list that brings paths of its own: the fact
// template plus those paths, and where each slot's value sits in it.
struct slot_plan {
    using node_id = json_projection::node_id;
    std::vector<slot_desc> slots;        // owned copy: the projection's names point here
    field_source group = field_source::request;
    json_projection proj;
    std::vector<node_id> slot_node;      // raw path end or labels key node, per slot
    std::vector<std::uint32_t> sub_begin;// raw slots: first entry in `subs`
    std::vector<node_id> subs;           // sub-path nodes of raw slots
    std::optional<std::string> error;
};

inline constexpr std::string_view too_many_paths = "policy reads too many body paths";

inline void build_plan(slot_plan& plan) {
    plan.proj = template_for(plan.group).proj;
    plan.slot_node.assign(plan.slots.size(), json_projection::none);
    plan.sub_begin.assign(plan.slots.size() + 1, 0);
    plan.subs.clear();
    plan.error.reset();
    std::vector<path_step> steps;
    for (std::size_t i = 0; i < plan.slots.size(); ++i) {
        plan.sub_begin[i] = static_cast<std::uint32_t>(plan.subs.size());
        const slot_desc& slot = plan.slots[i];
        const field_source src = info(slot.field).source;
        if (src == field_source::body) {
            steps.clear();
            body_path_steps(slot.key, steps);
            const auto n = plan.proj.add(steps);
            if (!n) return static_cast<void>(plan.error = std::string(too_many_paths));
            plan.slot_node[i] = *n;
            for (const auto& sp : slot.subpaths) {
                steps.clear();
                body_path_steps(sp, steps);
                const auto sn = plan.proj.add(steps, *n);
                if (!sn) return static_cast<void>(plan.error = std::string(too_many_paths));
                plan.subs.push_back(*sn);
            }
        } else if (slot.field == field_id::container_labels && src == plan.group) {
            // A label key is one exact map key, dots included.
            const auto labels = plan.proj.child(json_projection::root, {"Labels", key_match::field});
            const auto key = labels ? plan.proj.child(*labels, {slot.key, key_match::exact}) : std::nullopt;
            if (!key) return static_cast<void>(plan.error = std::string(too_many_paths));
            plan.slot_node[i] = *key;
        }
    }
    plan.sub_begin[plan.slots.size()] = static_cast<std::uint32_t>(plan.subs.size());
    plan.proj.seal();
}

// The plan for `slots`, built once per thread for the slot list last seen
// (a program's slots change only when the policy is reloaded) and matched
// by value, so a new program never sees a stale plan.
inline const slot_plan& plan_for(std::span<const slot_desc> slots, field_source group) {
    thread_local slot_plan cached;
    thread_local bool built = false;
    if (!built || cached.group != group ||
        !std::equal(slots.begin(), slots.end(), cached.slots.begin(), cached.slots.end())) {
        cached.slots.assign(slots.begin(), slots.end());
        cached.group = group;
        build_plan(cached);
        built = true;
    }
    return cached;
}

// The value of a raw slot: with sub-paths, a list of records (items[0] the
// element itself, items[k+1] its value at sub-path k).
inline value raw_slot_value(const slot_plan& plan, const json_value& root, std::size_t i) {
    const auto node = plan.slot_node[i];
    const json_value* v = json_at(plan.proj, root, json_projection::root, node);
    const auto b = plan.sub_begin[i], e = plan.sub_begin[i + 1];
    if (b == e || !v || v->type != json_type::array) return raw_value(v);
    std::vector<value> items;
    items.reserve(v->elements.size());
    for (const auto& el : v->elements) {
        std::vector<value> rec;
        rec.reserve(1 + e - b);
        rec.push_back(scalar_value(el));
        for (auto k = b; k < e; ++k)
            rec.push_back(el.type == json_type::object ? raw_value(json_at(plan.proj, el, node, plan.subs[k]))
                                                       : value::absent());
        items.push_back(value::record(std::move(rec)));
    }
    return value::list(std::move(items));
}

} // namespace dockpol::rt::detail
