// What is forwarded: the request target with the path's object replaced by
// the full id a lookup returned, so dockerd acts on the object the policy
// decided on (a name or id prefix is resolved again by dockerd, and can be
// rebound in between: rename, or a new container named like another's id
// prefix). Pure: tested without sockets.
#pragma once
#include <array>
#include <string>
#include <string_view>

#include "dockpol/rt/actions.hpp"
#include "dockpol/rt/detail/percent.hpp"
#include "dockpol/rt/routes.hpp"

namespace dockpol::sidecar {

// How each inspect kind's answer names the object exactly, and whether dockerd
// resolves that kind by name/prefix (then the path is rewritten to the id).
struct kind_row {
    std::string_view kind;
    std::string_view id_field;   // top-level inspect field holding the exact id
    bool rewrite;
};

inline constexpr std::array kind_table = {
    kind_row{"container", "Id", true},
    kind_row{"network", "Id", true},
    // Volumes have no id: the name is exact (no prefix matching), and Name is what inspect returns.
    kind_row{"volume", "Name", true},
    kind_row{"service", "ID", true},
    kind_row{"node", "ID", true},
    kind_row{"task", "ID", true},
    kind_row{"secret", "ID", true},
    kind_row{"config", "ID", true},
    kind_row{"plugin", "Id", true},
    // Images are addressed by reference (a tag names what the request means); exec ids are exact already.
    kind_row{"image", "Id", false},
    kind_row{"exec", "ID", false},
};

inline const kind_row* find_kind(std::string_view kind) {
    for (const auto& k : kind_table)
        if (k.kind == kind) return &k;
    return nullptr;
}

namespace detail {

// Go's httputils.BoolValue on the first value: anything but "", 0, no, false, none (any case, trimmed).
inline bool go_bool_value(const rt::string_pairs& query, std::string_view key) {
    for (const auto& [k, v] : query) {
        if (k != key) continue;
        std::string s;
        std::string_view t = v;
        while (!t.empty() && (t.front() == ' ' || t.front() == '\t' || t.front() == '\n' || t.front() == '\r')) t.remove_prefix(1);
        while (!t.empty() && (t.back() == ' ' || t.back() == '\t' || t.back() == '\n' || t.back() == '\r')) t.remove_suffix(1);
        for (char c : t) s += (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
        return !(s.empty() || s == "0" || s == "no" || s == "false" || s == "none");
    }
    return false;
}

} // namespace detail

// Whether the routed request's path target is forwarded as the looked-up id.
inline bool rewrites_target(const rt::route_result& r) {
    if (r.resource_id.empty() || r.route_index == 0) return false;
    const auto* k = find_kind(r.inspect_kind);
    if (!k || !k->rewrite) return false;
    // `docker rm --link` names a link (/parent/alias), not a container: dockerd resolves it as a link.
    if (r.action_id == rt::action_id(rt::action_code::container_delete) && detail::go_bool_value(r.query, "link"))
        return false;
    return true;
}

// The target to forward for `raw_target` (as the client sent it, routed as `r`)
// with the path object replaced by `full_id`; "" when no target can be built
// that the router maps back to the same action, id and query. The query is
// kept byte for byte.
inline std::string forward_target(std::string_view method, std::string_view raw_target, const rt::route_result& r,
                                  std::string_view full_id) {
    if (full_id.empty() || r.route_index == 0 || r.route_index > rt::all_routes().size()) return "";
    const auto pattern = rt::all_routes()[r.route_index - 1].pattern;
    const auto prefix = pattern.substr(0, pattern.find('{'));
    if (!r.path.starts_with(prefix) || r.path.size() < prefix.size() + r.resource_id.size() ||
        std::string_view(r.path).substr(prefix.size(), r.resource_id.size()) != r.resource_id)
        return "";
    const std::string_view rest = std::string_view(r.path).substr(prefix.size() + r.resource_id.size());
    std::string t;
    t.reserve(raw_target.size() + full_id.size() + 16);
    if (!r.api_version.empty()) t += "/v" + r.api_version;
    t += prefix;
    rt::detail::encode_path_bytes(full_id, false, t);
    rt::detail::encode_path_bytes(rest, true, t);
    if (auto q = raw_target.find('?'); q != std::string_view::npos) t += raw_target.substr(q);
    // Proof by the router itself: the new target routes to the same action and query, naming the id.
    const auto back = rt::route(method, t);
    if (!back.ok || back.action_id != r.action_id || back.resource_id != full_id || back.query != r.query ||
        back.api_version != r.api_version)
        return "";
    return t;
}

} // namespace dockpol::sidecar
