// Body-derived slot values: raw `body.A.B` paths and the derived facts of
// DESIGN §3.1, extracted from the request body in ONE projection scan (no
// DOM): every path any slot needs goes into one projection, the body is
// scanned once, and the facts are computed from the extracted pieces.
#pragma once
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dockpol/rt/detail/body_paths.hpp"
#include "dockpol/rt/detail/fact_inputs.hpp"
#include "dockpol/rt/detail/fact_table.hpp"
#include "dockpol/rt/fields.hpp"
#include "dockpol/rt/image_ref.hpp"
#include "dockpol/rt/json_scan.hpp"
#include "dockpol/rt/program.hpp"
#include "dockpol/rt/request.hpp"
#include "dockpol/rt/value.hpp"

namespace dockpol::rt {

namespace detail {

inline bool is_fact_source(field_source s) {
    return s == field_source::fact_container || s == field_source::fact_image || s == field_source::fact_exec ||
           s == field_source::fact_volume;
}

inline bool fact_applies(field_source s, std::string_view action) {
    for (const auto a : fact_actions(s))
        if (!a.empty() && a == action) return true;
    return false;
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

// Per-request plan: the projection and where each slot's value sits in it.
struct body_plan {
    using node_id = json_projection::node_id;
    json_projection proj;
    input_nodes inputs;
    std::vector<node_id> slot_node;      // raw path end or labels key node, per slot
    std::vector<std::uint32_t> sub_begin;// raw slots: first entry in `subs`
    std::vector<node_id> subs;           // sub-path nodes of raw slots
    std::uint32_t input_mask = 0;
    bool raw = false;                    // some raw body path is wanted
    bool facts = false;                  // some body-derived fact applies
};

inline constexpr std::string_view too_many_paths = "policy reads too many or too long body paths";

// Builds the projection for every slot; out[i] of inapplicable facts becomes absent.
inline std::optional<std::string> plan_body(const request& req, std::span<const slot_desc> slots,
                                            std::span<value> out, body_plan& plan) {
    std::vector<path_step> steps;
    plan.slot_node.assign(slots.size(), json_projection::none);
    plan.sub_begin.assign(slots.size() + 1, 0);
    for (std::size_t i = 0; i < slots.size(); ++i) {
        plan.sub_begin[i] = static_cast<std::uint32_t>(plan.subs.size());
        const slot_desc& slot = slots[i];
        const field_source src = info(slot.field).source;
        if (src == field_source::body) {
            steps.clear();
            body_path_steps(slot.key, steps);
            const auto n = plan.proj.add(steps);
            if (!n) return std::string(too_many_paths);
            plan.slot_node[i] = *n;
            for (const auto& sp : slot.subpaths) {
                steps.clear();
                body_path_steps(sp, steps);
                const auto sn = plan.proj.add(steps, *n);
                if (!sn) return std::string(too_many_paths);
                plan.subs.push_back(*sn);
            }
            plan.raw = true;
            continue;
        }
        if (!is_fact_source(src)) continue;
        if (!fact_applies(src, req.action)) {
            out[i] = value::absent();
            continue;
        }
        const fact_row* row = find_fact(slot.field);
        if (!row || row->inputs == 0) continue;
        plan.input_mask |= row->inputs;
        plan.facts = true;
        if (slot.field == field_id::container_labels) {
            // A label key is one exact map key, dots included.
            const auto labels = plan.proj.child(json_projection::root, {"Labels", key_match::field});
            const auto key = labels ? plan.proj.child(*labels, {slot.key, key_match::exact}) : std::nullopt;
            if (!key) return std::string(too_many_paths);
            plan.slot_node[i] = *key;
        }
    }
    plan.sub_begin[slots.size()] = static_cast<std::uint32_t>(plan.subs.size());
    if (!plan.inputs.add(plan.proj, plan.input_mask, steps)) return std::string(too_many_paths);
    return std::nullopt;
}

// The value of a raw slot: with sub-paths, a list of records (items[0] the
// element itself, items[k+1] its value at sub-path k).
inline value raw_slot_value(const body_plan& plan, const json_value& root, std::size_t i) {
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

} // namespace detail

// Fills out[i] for every slot i whose field source is body or a derived fact
// (fact_container/fact_image/fact_exec/fact_volume); leaves other slots
// untouched. Facts of an action that does not apply stay absent. Returns an
// error reason when the request must be denied: body needed but missing,
// malformed, too deep, duplicate/ambiguous key, or a value dockerd could not
// decode where a fact reads it.
inline std::optional<std::string> fill_facts(const request& req, std::span<const slot_desc> slots,
                                             std::span<value> out) {
    if (out.size() < slots.size()) return std::string("internal: fewer values than slots");
    detail::body_plan plan;
    if (auto err = detail::plan_body(req, slots, out, plan)) return err;

    const bool have_body = req.body && !req.body->empty();
    if (plan.facts && !have_body) return std::string("request body required");
    json_value root;
    if ((plan.facts || plan.raw) && have_body) {
        if (const auto err = scan_json(*req.body, plan.proj, root)) return "request body: " + err->message();
        // dockerd decodes these bodies into a struct: anything but an object is refused.
        if (plan.facts && root.type != json_type::object)
            return "request body: expected a JSON object, got " + std::string(type_name(root.type));
    }

    detail::fact_reader rd(plan.proj, root, plan.inputs);
    for (std::size_t i = 0; i < slots.size(); ++i) {
        const field_source src = info(slots[i].field).source;
        if (src == field_source::body) {
            out[i] = have_body ? detail::raw_slot_value(plan, root, i) : value::absent();
            continue;
        }
        if (!detail::is_fact_source(src) || !detail::fact_applies(src, req.action)) continue;
        const detail::fact_row* row = detail::find_fact(slots[i].field);
        if (!row) {
            out[i] = value::absent();
            continue;
        }
        detail::fact_env env{req, rd, plan.proj, root, plan.slot_node[i]};
        out[i] = row->compute(env);
        if (rd.error) return "request body: " + *rd.error;
    }
    return std::nullopt;
}

} // namespace dockpol::rt
