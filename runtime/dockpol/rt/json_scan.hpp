// One-pass, no-DOM JSON projection scanner for request bodies.
//
// scan_json validates the whole text strictly (RFC 8259: no trailing commas,
// no comments, no leading zeros, valid escapes and surrogate pairs, valid
// UTF-8) and extracts only the values a json_projection names, matching keys
// the way Go's encoding/json decodes into Docker's structs: a struct field
// prefers the exact key, else a case-insensitive one (ASCII plus `ſ` ≡ s and
// the Kelvin sign ≡ k); a map key must be byte-equal. Two keys of one object
// that select the same projected node are an error (dockerd would keep the
// last one silently). Everything else is skipped, but still validated.
#pragma once
#include <optional>
#include <string_view>

#include "dockpol/rt/detail/json_limits.hpp"
#include "dockpol/rt/detail/json_projection.hpp"
#include "dockpol/rt/detail/json_scanner.hpp"
#include "dockpol/rt/detail/json_value.hpp"

namespace dockpol::rt {

// Scans `text` once. On success `root` is the projection root's value (its
// `fields` follow the root's children) and nullopt is returned.
inline std::optional<json_error> scan_json(std::string_view text, const json_projection& proj, json_value& root) {
    root = json_value{};
    detail::json_scanner s(text, proj);
    if (s.run(root)) return std::nullopt;
    return s.error();
}

// The value of `target` when `base` is the value of its ancestor `from`;
// nullptr when a container on the way is missing or not an object. Array
// elements are not entered: walk to the array, then from each element.
inline const json_value* json_at(const json_projection& proj, const json_value& base,
                                 json_projection::node_id from, json_projection::node_id target) {
    // Collect the child indices from target up to `from` (bounded by the depth limit).
    std::uint32_t idx[json_max_depth + 1];
    std::size_t n = 0;
    for (auto at = target; at != from; at = proj.at(at).parent) {
        if (at == json_projection::none || n == json_max_depth + 1) return nullptr;
        idx[n++] = proj.at(at).index;
    }
    const json_value* v = &base;
    while (n > 0) {
        if (v->type != json_type::object) return nullptr;
        v = &v->fields[idx[--n]];
    }
    return v;
}

} // namespace dockpol::rt
