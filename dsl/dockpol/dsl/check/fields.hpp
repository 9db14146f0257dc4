// Field names against the schema (rt::field_table): the row a dotted name
// resolves to (the longest keyed prefix wins) and whether a field can be
// absent at run time. Needs no checker state, so the lints use it too.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "dockpol/rt/fields.hpp"

namespace dockpol::dsl::detail {

// Where a field name resolves: the schema row and, for keyed fields, the key.
struct field_ref {
    rt::field_id id{};
    std::string key;
};

// The schema row of `text`: an exact unkeyed name, else the longest keyed prefix plus its key.
inline std::optional<field_ref> resolve_field(std::string_view text) {
    for (const auto& f : rt::field_table)
        if (!f.keyed && f.name == text) return field_ref{f.id, {}};
    std::optional<field_ref> best;
    std::size_t best_len = 0;
    for (const auto& f : rt::field_table) {
        if (!f.keyed || text.size() <= f.name.size() + 1) continue;
        if (text.substr(0, f.name.size()) != f.name || text[f.name.size()] != '.') continue;
        if (f.name.size() > best_len) {
            best_len = f.name.size();
            best = field_ref{f.id, std::string(text.substr(f.name.size() + 1))};
        }
    }
    return best;
}

// Fields that can be absent at run time (so `not` over a comparison on them is true then).
inline bool may_be_absent(rt::field_id id) {
    const auto& fi = rt::info(id);
    return fi.keyed || fi.source != rt::field_source::request || id == rt::field_id::resource_id;
}

// The help where `resource.owner` or `allow own` is used without an `owner label` to read.
inline constexpr std::string_view owner_label_help =
    "declare the label that records owners, e.g. `owner label \"dockpol.owner\"`";

} // namespace dockpol::dsl::detail
