// Body-derived slot values: raw `body.A.B` paths and the derived facts of
// facts.def, extracted from the request body (and the target's inspect
// answer, and the named objects looked up) with ONE projection scan per
// document (no DOM), then computed from a summary of what was read.
//
// How dockerd's reading is reproduced, and where it is approximated:
// - container_create's body is a ContainerConfigWrapper: Config fields at
//   the top, HostConfig and NetworkingConfig objects. HostConfig fields at
//   the top level (read by dockerd before 27.0) are refused as a bad request.
// - Keys match as Go's encoding/json does (json_scan.hpp); map-typed fields
//   (Labels, DriverOpts, Options, ...) match keys exactly; two keys for one
//   read field deny. Raw `body.*` paths treat every component as a struct
//   field except after a well-known map field (detail/body_paths.hpp).
// - A JSON type dockerd could not decode where a fact reads it denies, named
//   by path; null and missing mean Go's zero value (false, "", empty list).
// - `container.uid`/`exec.uid` follow runc: the user part parsed like Go's
//   Atoi ("0000", "+0" are root); a user *name* gives no uid — policies that
//   care about root should also test `container.user` (e.g. "root").
// - Host paths are cleaned lexically and `/proc/PID/root/X` is read as `/X`;
//   symlinks on the host are not resolved (dockpol never touches the host
//   filesystem: `safe host paths` must not be writable by untrusted users).
#pragma once
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dockpol/rt/detail/fact_table.hpp"
#include "dockpol/rt/fields.hpp"
#include "dockpol/rt/program.hpp"
#include "dockpol/rt/request.hpp"
#include "dockpol/rt/value.hpp"

namespace dockpol::rt {

// Why a request's facts could not be computed. `bad_request`: the request
// itself is malformed (dockpold answers 400, eval denies by rule `error`).
struct fact_error {
    std::string reason;
    bool bad_request = false;
    std::vector<std::string> lookups;   // "KIND:NAME" objects to look up before deciding again
};

// Fills out[i] for every slot i whose field is a raw body path or a derived
// fact; leaves other slots untouched. Facts of an action they do not apply
// to stay absent. Returns the reason when the request must be denied: body
// or target needed but missing, malformed, too deep, duplicate/ambiguous
// key, a value dockerd could not decode where a fact reads it, or a named
// object not looked up.
inline std::optional<fact_error> fill_facts(const program_image& prog, const request& req, std::uint16_t action,
                                            std::span<const slot_desc> slots, std::span<value> out) {
    if (out.size() < slots.size()) return fact_error{"internal: fewer values than slots", false, {}};
    detail::fact_context c(req, prog, slots, action);
    bool raw = false;
    for (const auto& s : slots) raw = raw || info(s.field).source == field_source::body;
    const bool have_body = req.body && !req.body->empty();
    // Raw paths and the body's facts come from one scan of the body.
    if (raw && have_body) c.body(true);
    for (std::size_t i = 0; i < slots.size() && !c.error; ++i) {
        const field_id f = slots[i].field;
        const field_source src = info(f).source;
        if (src == field_source::body) {
            detail::scanned_doc* d = have_body ? c.body(true) : nullptr;
            out[i] = d ? detail::raw_slot_value(*d->plan, d->root, i) : value::absent();
            continue;
        }
        if (!is_fact_source(src)) continue;
        const auto fn = detail::fact_function(f);
        out[i] = fn && field_applies(f, action) ? fn(c, i) : value::absent();
    }
    if (c.error) return fact_error{*c.error, c.bad_request, c.wanted};
    return std::nullopt;
}

} // namespace dockpol::rt
