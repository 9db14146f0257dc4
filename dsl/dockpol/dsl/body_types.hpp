// The types the Docker Engine API gives request-body paths (body_types.def,
// generated from moby's swagger by tools/gen_body_types.py), so the checker
// can reject `body.HostConfig.Privileged == "true"`, which never holds.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "dockpol/rt/actions.hpp"
#include "dockpol/rt/fields.hpp"

namespace dockpol::dsl {

enum class body_type { boolean, number };

struct body_type_row {
    std::uint16_t action;
    std::string_view path;   // dotted, as the swagger spells it
    body_type type;
};

// An action name actions.def does not have fails to compile here (no value in a constant expression).
inline constexpr body_type_row body_type_table[] = {
#define BODY_TYPE(action, path, type) {*rt::find_action(#action), path, body_type::type},
#include "dockpol/dsl/body_types.def"
#undef BODY_TYPE
};

namespace detail {

// Go's encoding/json matches object keys case-insensitively, so dockerd reads
// `hostconfig.privileged` as HostConfig.Privileged; the lookup does too.
inline bool same_path(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

} // namespace detail

// The type of body path `path` for a rule that can apply to `actions` (those
// that decode a JSON body; none = every such action). A path is typed only
// when every one of those actions types it, and the same way: for another
// action dockerd ignores the key, so the body may hold anything there.
inline std::optional<body_type> body_path_type(std::string_view path, const std::optional<rt::action_mask>& actions) {
    std::array<std::optional<body_type>, rt::action_count> typed{};
    for (const auto& r : body_type_table)
        if (r.action < rt::action_count && detail::same_path(r.path, path)) typed[r.action] = r.type;
    std::optional<body_type> agreed;
    for (std::size_t a = 0; a < rt::action_count; ++a) {
        if (!rt::all_actions()[a].json_body || (actions && !actions->test(a))) continue;
        if (!typed[a] || (agreed && *typed[a] != *agreed)) return std::nullopt;
        agreed = typed[a];
    }
    return agreed;
}

} // namespace dockpol::dsl
