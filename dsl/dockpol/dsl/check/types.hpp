// The static types the checker gives operands (vtype), how messages name
// them, and the checked operand. A stage of its own vocabulary: name
// resolution assigns these types, comparisons and body literals test them.
#pragma once
#include <string>
#include <string_view>

#include "dockpol/dsl/ast.hpp"
#include "dockpol/rt/fields.hpp"

namespace dockpol::dsl::detail {

// The static type of an operand.
enum class vtype { string, number, boolean, set, list, groups, action, json };

inline std::string_view describe(vtype t) {
    struct row { vtype t; std::string_view text; };
    static constexpr row table[] = {
        {vtype::string, "a string"}, {vtype::number, "a number"}, {vtype::boolean, "a bool"},
        {vtype::set, "a set"}, {vtype::list, "a list"}, {vtype::groups, "the set of the user's groups"},
        {vtype::action, "an action name"}, {vtype::json, "a JSON value"},
    };
    for (const auto& r : table)
        if (r.t == t) return r.text;
    return "a value";
}

inline vtype type_of_field(rt::field_type t) {
    struct row { rt::field_type f; vtype t; };
    static constexpr row table[] = {
        {rt::field_type::string, vtype::string}, {rt::field_type::number, vtype::number},
        {rt::field_type::boolean, vtype::boolean}, {rt::field_type::list, vtype::list},
        {rt::field_type::groups, vtype::groups}, {rt::field_type::action, vtype::action},
        {rt::field_type::json, vtype::json},
    };
    for (const auto& r : table)
        if (r.f == t) return r.t;
    return vtype::json;
}

inline bool stringish(vtype t) { return t == vtype::string || t == vtype::action || t == vtype::groups; }

// A checked operand: the node plus what the checker knows about it.
struct operand {
    expr node;
    bool dynamic = false;   // a field or loop variable (else a constant)
    vtype type = vtype::string;
    std::string what;       // how to name it in messages: `user`, `"x"`
};

} // namespace dockpol::dsl::detail
