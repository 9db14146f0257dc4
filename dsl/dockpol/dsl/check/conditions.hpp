// Type checking of whole conditions: `and`/`or`/`not`, `any`/`all` (the
// loop variable in scope for the predicate), and operands that stand alone as
// a bool; stage check_rules runs it over every rule's condition. The later
// per-rule stages read what it leaves in cx.rule_conds.
#pragma once
#include <cstddef>
#include <optional>
#include <string>

#include "dockpol/dsl/ast.hpp"
#include "dockpol/dsl/check/compare.hpp"
#include "dockpol/dsl/check/context.hpp"
#include "dockpol/dsl/check/names.hpp"
#include "dockpol/dsl/check/types.hpp"
#include "dockpol/dsl/detail/work_count.hpp"

namespace dockpol::dsl::detail {

std::optional<expr> check_cond(check_context& cx, const expr& e, const scope& sc);

// `any x in LIST: P` / `all ...`: a list field, then P with `x` in scope.

inline std::optional<expr> check_quantifier(check_context& cx, const expr& e, const scope& sc) {
    if (sc.var) {
        cx.report(diag_code::type, e.sp, "`any`/`all` cannot be nested inside another `any`/`all`");
        return std::nullopt;
    }
    auto list = resolve_operand(cx, e.items[0], sc);
    if (!list) return std::nullopt;
    if (!list->dynamic || !(list->type == vtype::list || list->type == vtype::groups || list->type == vtype::json)) {
        cx.report(diag_code::type, e.items[0].sp,
                 "`" + std::string(e.kind == expr_kind::any ? "any" : "all") + "` needs a list field; " + list->what +
                     " is " + std::string(describe(list->type)));
        return std::nullopt;
    }
    scope inner;
    inner.var = &e.text;
    inner.elem = list->type == vtype::json ? vtype::json : vtype::string;
    inner.list_name = e.items[0].text;
    auto pred = check_cond(cx, e.items[1], inner);
    if (!pred) return std::nullopt;
    expr out = e;
    out.items = {std::move(list->node), std::move(*pred)};
    return out;
}

// A condition checked, names inlined; none when any part of it is wrong.
inline std::optional<expr> check_cond(check_context& cx, const expr& e, const scope& sc) {
    count_work();
    switch (e.kind) {
    case expr_kind::and_:
    case expr_kind::or_:
    case expr_kind::not_: {
        expr out = e;
        bool ok = true;
        for (auto& item : out.items) {
            auto c = check_cond(cx, item, sc);
            if (c) item = std::move(*c);
            else ok = false;
        }
        return ok ? std::optional<expr>(std::move(out)) : std::nullopt;
    }
    case expr_kind::compare: return check_compare(cx, e, sc);
    case expr_kind::any:
    case expr_kind::all: return check_quantifier(cx, e, sc);
    default: break;
    }
    // An operand alone must be a bool.
    auto o = resolve_operand(cx, e, sc);
    if (!o) return std::nullopt;
    if (o->type == vtype::boolean || o->type == vtype::json) return o->node;
    if (o->dynamic)
        cx.report(diag_code::type, e.sp, o->what + " is " + std::string(describe(o->type)) + ", not a condition",
                 "compare it, e.g. `" + e.text + " == \"...\"`");
    else
        cx.report(diag_code::type, e.sp, o->what + " is " + std::string(describe(o->type)) + ", not a condition");
    return std::nullopt;
}

// Conditions: names inlined, fields resolved, types and actions checked.
inline void stage_check_rules(check_context& cx) {
    cx.rule_conds.assign(cx.pol.rules.size(), std::nullopt);
    cx.rule_ok.assign(cx.pol.rules.size(), false);
    for (std::size_t i = 0; i < cx.pol.rules.size(); ++i) {
        const rule_decl& r = cx.pol.rules[i];
        if (!r.cond) {
            cx.rule_ok[i] = true;
            continue;
        }
        if (auto c = check_cond(cx, *r.cond, scope{})) {
            cx.rule_conds[i] = std::move(c);
            cx.rule_ok[i] = true;
        }
    }
}

} // namespace dockpol::dsl::detail
