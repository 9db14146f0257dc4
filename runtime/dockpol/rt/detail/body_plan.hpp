// Per document kind: the projection to scan (a per-process template of the
// kind's fact inputs, plus the slots' own raw paths and label keys, cached
// per thread), and how raw body values become policy values.
#pragma once
#include <algorithm>
#include <array>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dockpol/rt/detail/body_paths.hpp"
#include "dockpol/rt/detail/fact_inputs.hpp"
#include "dockpol/rt/fields.hpp"
#include "dockpol/rt/json_scan.hpp"
#include "dockpol/rt/program.hpp"
#include "dockpol/rt/value.hpp"

namespace dockpol::rt::detail {

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

// The projection of every input of one document kind, built once per
// process and sealed. doc_kind::count is the empty template (raw paths only).
struct fact_template {
    json_projection proj;
    input_nodes inputs;
};

inline const fact_template& template_for(doc_kind k) {
    static const auto all = [] {
        std::array<fact_template, doc_kind_count + 1> t;
        std::vector<path_step> steps;
        for (std::size_t i = 0; i < doc_kind_count; ++i) {
            // A few hundred nodes at most: within every projection limit.
            t[i].inputs.add(t[i].proj, static_cast<doc_kind>(i), steps);
            t[i].proj.seal();
        }
        t[doc_kind_count].proj.seal();
        return t;
    }();
    return all[static_cast<std::size_t>(k)];
}

// The labels fact a document kind's slots key into, and where the labels sit.
inline std::optional<field_id> labels_field(doc_kind k) {
    switch (k) {
    case doc_kind::create:
    case doc_kind::service: return field_id::container_labels;
    case doc_kind::inspect: return field_id::resource_container_labels;
    default: return std::nullopt;
    }
}

// The projection for one document kind and a slot list: the template plus
// the raw `body.*` paths (body documents only) and label keys, and where
// each slot's value sits in it.
struct slot_plan {
    using node_id = json_projection::node_id;
    std::vector<slot_desc> slots;        // owned copy: the projection's names point here
    doc_kind kind = doc_kind::count;
    bool with_raw = false;
    json_projection proj;
    std::vector<node_id> slot_node;      // raw path end or labels key node, per slot
    std::vector<std::uint32_t> sub_begin;// raw slots: first entry in `subs`
    std::vector<node_id> subs;           // sub-path nodes of raw slots
    bool own_paths = false;              // anything beyond the template
    std::optional<std::string> error;
};

inline constexpr std::string_view too_many_paths = "policy reads too many body paths";

inline void build_plan(slot_plan& plan) {
    plan.proj = template_for(plan.kind).proj;
    plan.slot_node.assign(plan.slots.size(), json_projection::none);
    plan.sub_begin.assign(plan.slots.size() + 1, 0);
    plan.subs.clear();
    plan.error.reset();
    plan.own_paths = false;
    const auto labels = labels_field(plan.kind);
    std::vector<path_step> steps;
    for (std::size_t i = 0; i < plan.slots.size(); ++i) {
        plan.sub_begin[i] = static_cast<std::uint32_t>(plan.subs.size());
        const slot_desc& slot = plan.slots[i];
        if (plan.with_raw && info(slot.field).source == field_source::body) {
            plan.own_paths = true;
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
        } else if (labels && slot.field == *labels) {
            // A label key is one exact map key, dots included.
            plan.own_paths = true;
            steps.clear();
            body_path_steps(*input_path(fact_input::labels, plan.kind), steps);
            steps.back().match = key_match::field;
            steps.push_back({slot.key, key_match::exact});
            const auto key = plan.proj.add(steps);
            if (!key) return static_cast<void>(plan.error = std::string(too_many_paths));
            plan.slot_node[i] = *key;
        }
    }
    plan.sub_begin[plan.slots.size()] = static_cast<std::uint32_t>(plan.subs.size());
    plan.proj.seal();
}

// The plan for `slots` and a document kind, built once per thread for the
// slot list last seen (a program's slots change only when the policy is
// reloaded) and matched by value, so a new program never sees a stale plan.
inline const slot_plan& plan_for(std::span<const slot_desc> slots, doc_kind kind, bool with_raw) {
    thread_local std::array<std::optional<slot_plan>, 2 * (doc_kind_count + 1)> cache;
    auto& cached = cache[2 * static_cast<std::size_t>(kind) + (with_raw ? 1 : 0)];
    if (!cached || !std::equal(slots.begin(), slots.end(), cached->slots.begin(), cached->slots.end())) {
        cached.emplace();
        cached->slots.assign(slots.begin(), slots.end());
        cached->kind = kind;
        cached->with_raw = with_raw;
        build_plan(*cached);
    }
    return *cached;
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
