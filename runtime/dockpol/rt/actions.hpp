// The action vocabulary generated from actions.def: ids, names, resources
// and the per-action facts the sidecar needs (JSON body, hijacked stream).
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "dockpol/rt/detail/action_aliases.hpp"

namespace dockpol::rt {

struct action_info {
    std::string_view name;      // "container_list", ..., "unknown"
    std::string_view resource;  // prefix of name: "container", "image", ... ("" for unknown)
    bool json_body;             // request body (when any) is JSON dockerd decodes
    bool hijack;                // connection is hijacked after the response head
};

// Action ids as an enum, for code that names one action (`action_code::exec_start`).
enum class action_code : std::uint16_t {
#define ACTION(name, resource, json_body, hijack) name,
#include "dockpol/rt/actions.def"
#undef ACTION
};

namespace detail {
inline constexpr std::array action_table = {
#define ACTION(name, resource, json_body, hijack) action_info{#name, resource, json_body != 0, hijack != 0},
#include "dockpol/rt/actions.def"
#undef ACTION
};
} // namespace detail

inline constexpr std::size_t action_count = detail::action_table.size();

// Id 0 is `unknown`, so a default-initialised id never names a real action.
inline constexpr std::uint16_t unknown_action_id = static_cast<std::uint16_t>(action_code::unknown);
static_assert(unknown_action_id == 0 && detail::action_table[0].name == "unknown");

// Ids travel as std::uint16_t in bundles and results.
static_assert(action_count <= 0xffff);

inline constexpr std::uint16_t action_id(action_code a) { return static_cast<std::uint16_t>(a); }

// All actions; an action's id is its index (stable within one build).
inline std::span<const action_info> all_actions() { return detail::action_table; }

inline constexpr std::optional<std::uint16_t> find_action(std::string_view name) {
    for (std::size_t i = 0; i < detail::action_table.size(); ++i)
        if (detail::action_table[i].name == name) return static_cast<std::uint16_t>(i);
    return std::nullopt;
}

// The dockpol action another product's name means; for did-you-mean only.
inline constexpr std::optional<std::string_view> action_alias(std::string_view other_product_name) {
    for (const auto& row : detail::action_alias_table)
        if (row.other == other_product_name) return row.action;
    return std::nullopt;
}

// What else the command behind an alias sends, for the hint ("" when nothing).
inline constexpr std::string_view action_alias_note(std::string_view other_product_name) {
    for (const auto& row : detail::action_alias_table)
        if (row.other == other_product_name) return row.also;
    return {};
}

} // namespace dockpol::rt
