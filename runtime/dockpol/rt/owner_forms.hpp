// Ownership per action, generated from owner_forms.def and the route table:
// what `owner label` changes in a request and what `allow own` checks.
#pragma once
#include <array>
#include <cstdint>
#include <string_view>

#include "dockpol/rt/actions.hpp"
#include "dockpol/rt/routes.hpp"

namespace dockpol::rt {

enum class owner_form : std::uint8_t {
    none,        // no owner form: `allow own` on it is dp-own-action
    target,      // the path names an ownable object: it must be the caller's
    create,
    keep,
    list,
    swarm_list,
    named,
};

// Kinds of object that carry the owner label (exec ids count as their container).
inline constexpr bool ownable_kind(std::string_view inspect_kind) {
    return inspect_kind == "container" || inspect_kind == "exec" || inspect_kind == "volume" ||
           inspect_kind == "network" || inspect_kind == "service" || inspect_kind == "secret" ||
           inspect_kind == "config";
}

namespace detail {
struct owner_form_row { action_code action; owner_form form; };
inline constexpr std::array owner_form_table = {
#define OWNER_FORM(action, form) owner_form_row{action_code::action, owner_form::form},
#include "dockpol/rt/owner_forms.def"
#undef OWNER_FORM
};

inline constexpr owner_form compute_owner_form(std::uint16_t action) {
    for (const auto& row : owner_form_table)
        if (rt::action_id(row.action) == action) return row.form;
    for (const auto& r : route_table)
        if (r.action_id == action && ownable_kind(r.inspect_kind)) return owner_form::target;
    return owner_form::none;
}

inline constexpr auto owner_forms = [] {
    std::array<owner_form, action_count> out{};
    for (std::size_t a = 0; a < action_count; ++a) out[a] = compute_owner_form(static_cast<std::uint16_t>(a));
    return out;
}();
} // namespace detail

inline constexpr owner_form owner_form_of(std::uint16_t action) {
    return action < action_count ? detail::owner_forms[action] : owner_form::none;
}

// The ownership check of `allow own` reads the objects these actions name in
// their JSON body: creates and updates, and network_connect/disconnect's
// `Container` (without it, a caller could attach anyone's container to their
// own network).
inline constexpr bool own_check_reads_body(std::uint16_t action) {
    const auto f = owner_form_of(action);
    return f == owner_form::create || f == owner_form::keep ||
           action == action_id(action_code::network_connect) || action == action_id(action_code::network_disconnect);
}

inline constexpr std::string_view owner_form_name(owner_form f) {
    switch (f) {
    case owner_form::none: return "none";
    case owner_form::target: return "target";
    case owner_form::create: return "create";
    case owner_form::keep: return "keep";
    case owner_form::list: return "list";
    case owner_form::swarm_list: return "swarm_list";
    case owner_form::named: return "named";
    }
    return "none";
}

} // namespace dockpol::rt
