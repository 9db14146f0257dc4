// Stage body_types: a `body.*` path compared with a literal, against the
// Engine API's type of that path for the actions the rule applies to. A stage
// of its own because it needs the whole checked condition (its action mask),
// which a single comparison does not know.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <utility>

#include "dockpol/dsl/ast.hpp"
#include "dockpol/dsl/body_types.hpp"
#include "dockpol/dsl/check/context.hpp"
#include "dockpol/dsl/check/hints.hpp"
#include "dockpol/dsl/check/types.hpp"
#include "dockpol/dsl/detail/text.hpp"
#include "dockpol/dsl/rule_actions.hpp"
#include "dockpol/rt/actions.hpp"

namespace dockpol::dsl::detail {

// The literal of a checked comparison as the policy wrote it, and its type.
inline std::pair<std::string, vtype> literal_of(const expr& lit) {
    switch (lit.kind) {
    case expr_kind::string_lit: return {quote_string(lit.str), vtype::string};
    case expr_kind::number_lit: return {lit.text.empty() ? std::to_string(lit.num) : lit.text, vtype::number};
    case expr_kind::bool_lit: return {lit.boolean ? "true" : "false", vtype::boolean};
    default: return {"a set", vtype::set};
    }
}

// One comparison of a `body.*` path with a literal. Where the Engine API
// types the path (body_types.hpp) for every action the rule applies to, a
// literal of another type is dp-type: `body.HostConfig.Privileged == "true"`
// never holds, a JSON bool is never a string. Elsewhere a quoted `true` or
// number is only suspicious (dp-quoted-literal). True when it is an error.
inline bool check_body_literal(check_context& cx, const expr& cmp, const std::optional<rt::action_mask>& acts) {
    const expr& path = cmp.items[0];
    const auto [text, type] = literal_of(cmp.items[1]);
    const std::string op(op_spelling(cmp.op));
    const std::string& v = cmp.items[1].str;
    const bool quoted_bool = type == vtype::string && (v == "true" || v == "false");
    const bool quoted_number = type == vtype::string && looks_numeric(v);
    const auto api = body_path_type(path.key, acts);
    if (!api) {
        if ((cmp.op == compare_op::eq || cmp.op == compare_op::ne) && (quoted_bool || quoted_number))
            cx.report(diag_code::quoted_literal, cmp.items[1].sp,
                       "`" + path.text + "` is compared with the string " + text +
                           ", which a JSON boolean or number never equals",
                       "if the API sends a " + std::string(quoted_number ? "number" : "boolean") + ", " +
                           drop_quotes_help(path.text, op, v));
        return false;
    }
    const vtype want = *api == body_type::boolean ? vtype::boolean : vtype::number;
    const bool ordering = cmp.op == compare_op::lt || cmp.op == compare_op::le || cmp.op == compare_op::gt ||
                          cmp.op == compare_op::ge;
    if (type == want && (cmp.op == compare_op::eq || cmp.op == compare_op::ne || (ordering && want == vtype::number)))
        return false;
    std::string help;
    if ((want == vtype::boolean && quoted_bool) || (want == vtype::number && quoted_number))
        help = drop_quotes_help(path.text, op, v);
    cx.report(diag_code::type, cmp.sp,
             "cannot compare `" + path.text + "` (" + std::string(describe(want)) + " in the Engine API) with " +
                 text + " (" + std::string(describe(type)) + ")" +
                 (type == want ? " using `" + op + "`" : std::string()),
             std::move(help));
    return true;
}

// Every body comparison in `e`; true when any of them is an error.
inline bool check_body_literals(check_context& cx, const expr& e, const std::optional<rt::action_mask>& acts) {
    bool bad = false;
    if (e.kind == expr_kind::compare && e.items.size() == 2 && e.items[0].kind == expr_kind::field &&
        e.items[0].id == rt::field_id::body && e.items[1].kind != expr_kind::field)
        bad = check_body_literal(cx, e, acts);
    for (const auto& i : e.items) bad = check_body_literals(cx, i, acts) || bad;
    return bad;
}

// Body paths compared with literals, against the API's types for the rule's actions.
inline void stage_body_types(check_context& cx) {
    for (std::size_t i = 0; i < cx.pol.rules.size(); ++i) {
        if (!cx.rule_conds[i]) continue;
        if (check_body_literals(cx, *cx.rule_conds[i], rule_action_mask(cx.rule_conds[i]))) {
            cx.rule_ok[i] = false;
            cx.rule_conds[i].reset();
        }
    }
}

} // namespace dockpol::dsl::detail
