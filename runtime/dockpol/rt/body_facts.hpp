// Body-derived slot values: raw `body.A.B` paths and the derived facts of
// DESIGN §3.1, extracted from the request body in ONE projection scan (no
// DOM): every path any slot needs goes into one projection, the body is
// scanned once, and the facts are computed from the extracted pieces.
//
// How dockerd's reading is reproduced, and where it is approximated:
// - container_create's body is a ContainerConfigWrapper: Config fields at
//   the top, HostConfig and NetworkingConfig objects; without a HostConfig
//   object, dockerd 20.10 (Linux) takes HostConfig fields from the top level
//   and so do the facts (detail/fact_inputs.hpp).
// - Keys match as Go's encoding/json does (json_scan.hpp); map-typed fields
//   (Labels, DriverOpts, Options, ...) match keys exactly; two keys for one
//   read field deny. Raw `body.*` paths treat every component as a struct
//   field except after a well-known map field (detail/body_paths.hpp).
// - A JSON type dockerd could not decode where a fact reads it denies, named
//   by path; null and missing mean Go's zero value (false, "", empty list).
// - `container.uid`/`exec.uid` follow runc: the user part parsed like Go's
//   Atoi ("0000", "+0" are root); a user *name* gives no uid — policies that
//   care about root should also test `container.user` (e.g. "root").
// - Bind sources and local-volume devices are cleaned lexically; symlinks on
//   the host are not resolved (dockpol never touches the host filesystem).
#pragma once
#include <optional>
#include <span>
#include <string>

#include "dockpol/rt/detail/body_plan.hpp"
#include "dockpol/rt/fields.hpp"
#include "dockpol/rt/json_scan.hpp"
#include "dockpol/rt/program.hpp"
#include "dockpol/rt/request.hpp"
#include "dockpol/rt/value.hpp"

namespace dockpol::rt {

// Fills out[i] for every slot i whose field source is body or a derived fact
// (fact_container/fact_image/fact_exec/fact_volume); leaves other slots
// untouched. Facts of an action that does not apply stay absent. Returns an
// error reason when the request must be denied: body needed but missing,
// malformed, too deep, duplicate/ambiguous key, or a value dockerd could not
// decode where a fact reads it.
inline std::optional<std::string> fill_facts(const request& req, std::span<const slot_desc> slots,
                                             std::span<value> out) {
    if (out.size() < slots.size()) return std::string("internal: fewer values than slots");
    const detail::body_needs needs = detail::classify(req, slots, out);
    const detail::fact_template& base = detail::template_for(needs.group);
    const detail::slot_plan* plan = nullptr;
    const json_projection* proj = &base.proj;
    if (needs.own_paths) {
        plan = &detail::plan_for(slots, needs.group);
        if (plan->error) return plan->error;
        proj = &plan->proj;
    }

    const bool have_body = req.body && !req.body->empty();
    if (needs.facts && !have_body) return std::string("request body required");
    json_value root;
    if ((needs.facts || needs.raw) && have_body) {
        if (const auto err = scan_json(*req.body, *proj, root)) return "request body: " + err->message();
        // dockerd decodes these bodies into a struct: anything but an object is refused.
        if (needs.facts && root.type != json_type::object)
            return "request body: expected a JSON object, got " + std::string(type_name(root.type));
    }

    detail::fact_reader rd(*proj, root, base.inputs);
    for (std::size_t i = 0; i < slots.size(); ++i) {
        const field_source src = info(slots[i].field).source;
        if (src == field_source::body) {
            out[i] = have_body ? detail::raw_slot_value(*plan, root, i) : value::absent();
            continue;
        }
        if (!is_fact_source(src) || !detail::fact_applies(src, req.action)) continue;
        const detail::fact_row* row = detail::find_fact(slots[i].field);
        if (!row) {
            out[i] = value::absent();
            continue;
        }
        const auto key_node = plan ? plan->slot_node[i] : json_projection::none;
        detail::fact_env env{req, rd, *proj, root, key_node};
        out[i] = row->compute(env);
        if (rd.error) return "request body: " + *rd.error;
    }
    return std::nullopt;
}

} // namespace dockpol::rt
