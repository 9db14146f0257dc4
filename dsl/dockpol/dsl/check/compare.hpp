// Type checking of one comparison: both operands resolved, the operator's
// typing rules applied (which types each side may have, which side must be a
// constant), and the normal form built that lowering relies on (see
// check.hpp): the field on the left, ordering operators flipped to match.
#pragma once
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "dockpol/dsl/ast.hpp"
#include "dockpol/dsl/check/actions.hpp"
#include "dockpol/dsl/check/context.hpp"
#include "dockpol/dsl/check/hints.hpp"
#include "dockpol/dsl/check/names.hpp"
#include "dockpol/dsl/check/types.hpp"
#include "dockpol/rt/glob.hpp"

namespace dockpol::dsl::detail {

// "cannot compare `a` (a string) with 3 (a number)": two operands of types no comparison joins.
inline std::string cannot_compare(const operand& l, const operand& r) {
    return "cannot compare " + l.what + " (" + std::string(describe(l.type)) + ") with " + r.what + " (" +
           std::string(describe(r.type)) + ")";
}

// Field-to-field `==`/`!=`: two fields of one scalar type (string, number,
// bool), kept in source order. Absent on either side makes both false.
inline std::optional<expr> check_field_pair(check_context& cx, const expr& e, const operand& L, const operand& R) {
    auto scalar = [](vtype t) { return t == vtype::string || t == vtype::number || t == vtype::boolean; };
    for (const operand* o : {&L, &R}) {
        if (scalar(o->type)) continue;
        std::string help;
        if (o->type == vtype::groups)
            help = "`" + o->node.text + "` is the set of the user's groups; compare it with a constant (`" +
                   o->node.text + " == \"dev\"`) or use `in`";
        else if (o->type == vtype::list)
            help = "test its elements with `any x in " + o->node.text + ": ...` against constants";
        else if (o->type == vtype::action)
            help = "compare `action` with an action name or a set of them";
        else
            help = "two fields compare only when both are strings, numbers or bools";
        cx.report(diag_code::type, o->node.sp,
                 "`" + std::string(op_spelling(e.op)) + "` between two fields needs one value on each side; " +
                     o->what + " is " + std::string(describe(o->type)),
                 std::move(help));
        return std::nullopt;
    }
    if (L.type != R.type) {
        cx.report(diag_code::type, e.sp, cannot_compare(L, R), "two fields compare only when they have the same type");
        return std::nullopt;
    }
    expr out = e;
    out.items = {L.node, R.node};
    return out;
}

// One comparison, checked and in normal form; the diagnostics say why not.
inline std::optional<expr> check_compare(check_context& cx, const expr& e, const scope& sc) {
    auto lo = resolve_operand(cx, e.items[0], sc);
    auto ro = resolve_operand(cx, e.items[1], sc);
    if (!lo || !ro) return std::nullopt;
    operand L = std::move(*lo), R = std::move(*ro);
    expr out = e;
    const std::string op(op_spelling(e.op));
    auto type_error = [&](std::string msg, std::string help = {}) {
        cx.report(diag_code::type, e.sp, std::move(msg), std::move(help));
        return std::nullopt;
    };
    auto finish = [&](operand a, operand b, compare_op o) -> std::optional<expr> {
        out.op = o;
        out.items = {std::move(a.node), std::move(b.node)};
        return out;
    };

    const bool two_fields = L.node.kind == expr_kind::field && R.node.kind == expr_kind::field;
    if ((e.op == compare_op::eq || e.op == compare_op::ne) && two_fields) return check_field_pair(cx, e, L, R);
    if (e.op != compare_op::in && L.dynamic == R.dynamic)
        return L.dynamic ? type_error("`" + op + "` compares two fields; one side must be a constant",
                                      two_fields ? "only `==` and `!=` compare two fields" : "")
                         : type_error("`" + op + "` compares two constants; one side must be a field");

    switch (e.op) {
    case compare_op::eq:
    case compare_op::ne: {
        if (!L.dynamic) std::swap(L, R);
        if (R.type == vtype::set)
            return type_error("`" + op + "` compares with one value, not a set", "use `in` to test membership");
        const bool ok = L.type == vtype::json || (stringish(L.type) && R.type == vtype::string) ||
                        (L.type == vtype::number && R.type == vtype::number) ||
                        (L.type == vtype::boolean && R.type == vtype::boolean);
        if (!ok)
            return type_error(cannot_compare(L, R), quoted_literal_help(L, R, op));
        if (L.type == vtype::action && !check_action_name(cx, R.node)) return std::nullopt;
        glob_equality_hint(cx, L, R, op);
        return finish(std::move(L), std::move(R), e.op);
    }
    case compare_op::lt:
    case compare_op::le:
    case compare_op::gt:
    case compare_op::ge: {
        compare_op o = e.op;
        if (!L.dynamic) {
            std::swap(L, R);
            o = flipped(o);
        }
        if (!(L.type == vtype::number || L.type == vtype::json))
            return type_error("`" + op + "` compares numbers; " + L.what + " is " + std::string(describe(L.type)));
        if (R.type != vtype::number)
            return type_error("`" + op + "` compares numbers; " + R.what + " is " + std::string(describe(R.type)));
        return finish(std::move(L), std::move(R), o);
    }
    case compare_op::in: {
        if (!R.dynamic && R.type == vtype::set) {
            if (!L.dynamic) return type_error("`in` compares two constants; the left side must be a field");
            if (!(stringish(L.type) || L.type == vtype::json || L.type == vtype::list))
                return type_error("sets hold strings; " + L.what + " is " + std::string(describe(L.type)));
            if (L.type == vtype::action) {
                bool all_ok = true;
                for (const auto& s : R.node.items) all_ok = check_action_name(cx, s) && all_ok;
                if (!all_ok) return std::nullopt;
            }
            return finish(std::move(L), std::move(R), e.op);
        }
        if (R.dynamic && (R.type == vtype::list || R.type == vtype::groups || R.type == vtype::json)) {
            if (L.dynamic) return type_error("`in` compares two fields; one side must be a constant");
            if (L.type != vtype::string)
                return type_error("the left of `in` must be one string when the right is a list; " + L.what +
                                  " is " + std::string(describe(L.type)));
            return finish(std::move(L), std::move(R), e.op);
        }
        if (!R.dynamic && R.type == vtype::string)
            return type_error("`in` needs a set or a list field on its right; " + R.what + " is a string",
                              "use `==` to compare with one value");
        return type_error("`in` needs a set or a list field on its right; " + R.what + " is " +
                          std::string(describe(R.type)));
    }
    case compare_op::matches: {
        if (!L.dynamic)
            return type_error("the pattern goes on the right: " + R.what + " matches " + L.what);
        if (R.type != vtype::string)
            return type_error("`matches` needs a glob pattern string on its right; " + R.what + " is " +
                              std::string(describe(R.type)));
        if (L.type == vtype::groups)
            return type_error("`" + L.node.text + "` is a set of names; `matches` needs one string",
                              "use `any g in groups: g matches " + R.what + "`");
        if (L.type == vtype::list)
            return type_error(L.what + " is a list; `matches` needs one string",
                              "use `any x in " + L.node.text + ": x matches " + R.what + "`");
        if (!(L.type == vtype::string || L.type == vtype::action || L.type == vtype::json))
            return type_error("`matches` needs a string; " + L.what + " is " + std::string(describe(L.type)));
        auto g = rt::compile_glob(R.node.str);
        if (auto* err = std::get_if<std::string>(&g)) {
            cx.report(diag_code::bad_glob, R.node.sp, "malformed glob " + R.what + ": " + *err);
            return std::nullopt;
        }
        regex_in_glob_hint(cx, R.node);
        if (L.type == vtype::action) {
            out.items = {L.node, R.node};
            return expand_action_glob(cx, out, std::get<rt::glob>(g), R.node);
        }
        return finish(std::move(L), std::move(R), e.op);
    }
    case compare_op::covers: {
        const operand& d = L.dynamic ? L : R;
        const operand& c = L.dynamic ? R : L;
        if (d.type == vtype::list || d.type == vtype::groups)
            return type_error("`covers` compares one path; " + d.what + " is a list",
                              "use `any p in " + d.node.text + ": p covers ...`");
        if (!(d.type == vtype::string || d.type == vtype::json))
            return type_error("`covers` compares paths; " + d.what + " is " + std::string(describe(d.type)));
        if (c.type != vtype::string)
            return type_error("`covers` compares paths; " + c.what + " is " + std::string(describe(c.type)));
        return finish(std::move(L), std::move(R), e.op);
    }
    }
    return std::nullopt;
}

} // namespace dockpol::dsl::detail
