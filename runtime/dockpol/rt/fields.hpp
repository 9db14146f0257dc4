// Field ids, types and sources generated from fields.def (request, resource
// and raw body fields) and facts.def (derived facts), and which actions
// each field exists for.
#pragma once
#include <array>
#include <bitset>
#include <cstdint>
#include <optional>
#include <string_view>

#include "dockpol/rt/actions.hpp"
#include "dockpol/rt/owner_forms.hpp"

namespace dockpol::rt {

enum class field_type : std::uint8_t { string, number, boolean, list, groups, action, json };
// Where a field's value comes from; the fact_* scopes are facts.def's.
enum class field_source : std::uint8_t {
    request, resource, body, owner,
    fact_container, fact_target, fact_image, fact_exec, fact_volume, fact_plugin, fact_build, fact_host
};

enum class field_id : std::uint16_t {
#define FIELD(id, name, type, keyed, source) id,
#define FACT(id, name, type, keyed, scope, fn, doc) id,
#define CONTAINER_FACT(id, suffix, type, keyed, fn, doc) container_##id, resource_container_##id,
#include "dockpol/rt/fields.def"
#include "dockpol/rt/facts.def"
#undef CONTAINER_FACT
#undef FACT
#undef FIELD
};

struct field_info {
    field_id id;
    std::string_view name;
    field_type type;
    bool keyed;
    field_source source;
    std::string_view derived_from;   // facts: how the value is derived (docs); "" otherwise
};

inline constexpr std::array field_table = {
#define FIELD(id, name, type, keyed, source) \
    field_info{field_id::id, name, field_type::type, keyed != 0, field_source::source, ""},
#define FACT(id, name, type, keyed, scope, fn, doc) \
    field_info{field_id::id, name, field_type::type, keyed != 0, field_source::scope, doc},
#define CONTAINER_FACT(id, suffix, type, keyed, fn, doc)                                                          \
    field_info{field_id::container_##id, "container." suffix, field_type::type, keyed != 0,                      \
               field_source::fact_container, doc},                                                               \
        field_info{field_id::resource_container_##id, "resource.container." suffix, field_type::type, keyed != 0, \
                   field_source::fact_target, doc},
#include "dockpol/rt/fields.def"
#include "dockpol/rt/facts.def"
#undef CONTAINER_FACT
#undef FACT
#undef FIELD
};

inline constexpr std::size_t field_count = field_table.size();

inline constexpr const field_info& info(field_id f) { return field_table[static_cast<std::size_t>(f)]; }

static_assert([] {
    for (std::size_t i = 0; i < field_table.size(); ++i)
        if (static_cast<std::size_t>(field_table[i].id) != i) return false;
    return true;
}(), "field_table rows must follow field_id order");

// Exact lookup of a non-keyed field name, or the keyed prefix (`host.labels`).
inline std::optional<field_id> find_field(std::string_view name) {
    for (const auto& f : field_table)
        if (f.name == name) return f.id;
    return std::nullopt;
}

using action_mask = std::bitset<action_count>;

inline constexpr bool is_fact_source(field_source s) { return s >= field_source::fact_container; }
// Fields only some actions have (the rest see them absent): facts and resource.owner.
inline constexpr bool is_scoped_source(field_source s) { return s == field_source::owner || is_fact_source(s); }

namespace detail {

inline action_mask mask_of(std::initializer_list<action_code> codes) {
    action_mask m;
    for (auto c : codes) m.set(action_id(c));
    return m;
}

// Actions whose path target is an existing container (or an exec, whose
// container is the target): read straight from the route table.
inline action_mask container_target_actions() {
    action_mask m;
#define ROUTE(method, pattern, action, kind)                                            \
    if (std::string_view(kind) == "container" || std::string_view(kind) == "exec") \
        m.set(action_id(action_code::action));
#include "dockpol/rt/routes.def"
#undef ROUTE
    return m;
}

// Actions whose target's owner is known: owner form target or keep.
inline action_mask owned_target_actions() {
    action_mask m;
    for (std::size_t a = 0; a < action_count; ++a) {
        const auto f = owner_form_of(static_cast<std::uint16_t>(a));
        if (f == owner_form::target || f == owner_form::keep) m.set(a);
    }
    return m;
}

} // namespace detail

// The actions a fact scope applies to; other actions see its facts absent.
// For request, resource and body fields: every action; for `owner`
// (resource.owner): the actions with an ownable target.
inline const action_mask& scope_actions(field_source s) {
    using a = action_code;
    static const action_mask all = action_mask{}.set();
    static const action_mask container = detail::mask_of({a::container_create, a::service_create, a::service_update});
    static const action_mask target = detail::container_target_actions();
    static const action_mask image = detail::mask_of(
        {a::image_create, a::image_push, a::image_load, a::image_build, a::image_commit, a::image_tag});
    static const action_mask exec = detail::mask_of({a::container_exec});
    static const action_mask volume = detail::mask_of({a::volume_create});
    static const action_mask plugin = detail::mask_of({a::plugin_pull, a::plugin_upgrade, a::plugin_set, a::plugin_create});
    static const action_mask build = detail::mask_of({a::image_build});
    static const action_mask owned = detail::owned_target_actions();
    switch (s) {
    case field_source::owner: return owned;
    case field_source::fact_container: return container;
    case field_source::fact_target: return target;
    case field_source::fact_image: return image;
    case field_source::fact_exec: return exec;
    case field_source::fact_volume: return volume;
    case field_source::fact_plugin: return plugin;
    case field_source::fact_build: return build;
    default: return all;
    }
}

// The actions field `f` has a value for (all actions for non-facts).
inline const action_mask& field_actions(field_id f) { return scope_actions(info(f).source); }

inline bool field_applies(field_id f, std::uint16_t action) {
    return action < action_count && field_actions(f).test(action);
}

// Actions that run code in, write into or start an existing container:
// the target's host access is theirs (docs/facts.md (Host access)).
inline const action_mask& host_target_actions() {
    using a = action_code;
    static const action_mask m = detail::mask_of(
        {a::container_exec, a::exec_start, a::container_attach, a::container_attach_websocket,
         a::container_archive_put, a::container_start, a::container_restart, a::container_unpause,
         a::container_update, a::checkpoint_create});
    return m;
}

// What a fact needs fetched, per action: the request body (read by
// dockpold only for actions in `body`) and the target's inspect JSON
// (looked up for actions in `target`).
struct fact_needs {
    action_mask body;
    action_mask target;
};

inline fact_needs needs_of(field_id f) {
    using a = action_code;
    static const action_mask body_host = detail::mask_of({a::container_create, a::service_create, a::service_update,
                                                          a::container_exec, a::volume_create, a::plugin_pull,
                                                          a::plugin_upgrade, a::plugin_set});
    switch (info(f).source) {
    case field_source::fact_container:
    case field_source::fact_exec:
    case field_source::fact_volume: return {scope_actions(info(f).source), {}};
    case field_source::fact_plugin: return {detail::mask_of({a::plugin_pull, a::plugin_upgrade, a::plugin_set}), {}};
    case field_source::fact_target: return {{}, scope_actions(field_source::fact_target)};
    case field_source::fact_host: return {body_host, host_target_actions()};
    default: return {};
    }
}

} // namespace dockpol::rt
