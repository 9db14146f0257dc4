// Field ids, types and sources generated from fields.def.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace dockpol::rt {

enum class field_type : std::uint8_t { string, number, boolean, list, groups, action, json };
enum class field_source : std::uint8_t { request, resource, body, fact_container, fact_image, fact_exec, fact_volume };

enum class field_id : std::uint16_t {
#define FIELD(id, name, type, keyed, source) id,
#include "dockpol/rt/fields.def"
#undef FIELD
};

struct field_info {
    field_id id;
    std::string_view name;
    field_type type;
    bool keyed;
    field_source source;
};

inline constexpr std::array field_table = {
#define FIELD(id, name, type, keyed, source) \
    field_info{field_id::id, name, field_type::type, keyed != 0, field_source::source},
#include "dockpol/rt/fields.def"
#undef FIELD
};

inline constexpr std::size_t field_count = field_table.size();

inline constexpr const field_info& info(field_id f) { return field_table[static_cast<std::size_t>(f)]; }

// Exact lookup of a non-keyed field name, or the keyed prefix (`host.labels`).
inline std::optional<field_id> find_field(std::string_view name) {
    for (const auto& f : field_table)
        if (f.name == name) return f.id;
    return std::nullopt;
}

// The actions a derived-fact source applies to; other actions see the fact absent.
// Returns an empty list for non-fact sources (meaning: any action).
inline constexpr std::array<std::string_view, 2> fact_actions(field_source s) {
    switch (s) {
    case field_source::fact_container: return {"container_create", ""};
    case field_source::fact_image: return {"image_create", "image_push"};
    case field_source::fact_exec: return {"container_exec", ""};
    case field_source::fact_volume: return {"volume_create", ""};
    default: return {"", ""};
    }
}

} // namespace dockpol::rt
