// `let` and `--data` constants: stage collect_lets (a `let` name is unique,
// not a field, not a data key), stage resolve_lets (every value resolves,
// used or not), and resolve_constant, which the stages and name resolution
// call to resolve one constant on first use, reporting cycles. Constants are
// a table of their own, resolved apart from any rule condition.
#pragma once
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "dockpol/dsl/ast.hpp"
#include "dockpol/dsl/check/context.hpp"
#include "dockpol/dsl/check/fields.hpp"
#include "dockpol/rt/fields.hpp"

namespace dockpol::dsl::detail {

// A constant inlined at a use: the nodes that came from a `--data` file (they
// have no policy position) take the use's span; a `let`'s nodes keep their own.
inline void set_data_spans(expr& e, const span& sp) {
    if (e.sp.file == data_file) e.sp = sp;
    for (auto& c : e.items) set_data_spans(c, sp);
}

// The value of constant `name` (which must be in cx.constants), resolving a
// `let` on first use; `use` is where a cycle is reported.
inline std::optional<expr> resolve_constant(check_context& cx, const std::string& name, span use) {
    auto it = cx.constants.find(name);
    constant& c = it->second;
    if (c.st == constant::state::done) return c.value;
    if (c.st == constant::state::failed) return std::nullopt;
    if (c.st == constant::state::visiting) {
        cx.report(diag_code::undefined_name, use, "`" + name + "` is defined in terms of itself");
        c.st = constant::state::failed;
        return std::nullopt;
    }
    c.st = constant::state::visiting;
    const let_decl& d = cx.pol.lets[*c.let_index];
    std::optional<expr> v;
    if (d.value.kind == expr_kind::name_ref && cx.constants.count(d.value.text)) {
        v = resolve_constant(cx, d.value.text, d.value.sp);
    } else if (d.value.kind == expr_kind::name_ref || d.value.kind == expr_kind::field) {
        if (resolve_field(d.value.text) || rt::find_field(d.value.text))
            cx.report(diag_code::type, d.value.sp, "a `let` holds a constant; `" + d.value.text + "` is a field",
                     "use the field directly in rule conditions");
        else if (!cx.data_unread)
            cx.report(diag_code::undefined_name, d.value.sp, "undefined name `" + d.value.text + "`");
    } else {
        v = d.value;
    }
    if (c.st == constant::state::failed || !v) {
        c.st = constant::state::failed;
        return std::nullopt;
    }
    c.st = constant::state::done;
    c.value = *v;
    return v;
}

// `let` names: unique, not a field name, no clash with `--data` keys.
inline void stage_collect_lets(check_context& cx) {
    std::map<std::string, std::size_t, std::less<>> seen;
    for (std::size_t i = 0; i < cx.pol.lets.size(); ++i) {
        const let_decl& d = cx.pol.lets[i];
        if (auto it = seen.find(d.name); it != seen.end()) {
            cx.report(diag_code::duplicate_let, d.name_sp, "`" + d.name + "` is already defined",
                     "the first definition is at " + cx.where(cx.pol.lets[it->second].name_sp));
            continue;
        }
        seen.emplace(d.name, i);
        if (rt::find_field(d.name)) {
            cx.report(diag_code::duplicate_let, d.name_sp, "`" + d.name + "` is a field name; a `let` needs another name");
            continue;
        }
        if (auto it = cx.constants.find(d.name); it != cx.constants.end()) {
            cx.report(diag_code::data, d.name_sp,
                     "`" + d.name + "` is defined by this `let` and by data file " + it->second.data_file_name);
            continue;
        }
        constant c;
        c.let_index = i;
        cx.constants.emplace(d.name, std::move(c));
    }
}

// Every `let` value resolves to a constant (checked even when unused).
inline void stage_resolve_lets(check_context& cx) {
    for (const auto& d : cx.pol.lets) {
        auto it = cx.constants.find(d.name);
        if (it != cx.constants.end() && it->second.let_index && &cx.pol.lets[*it->second.let_index] == &d)
            (void)resolve_constant(cx, d.name, d.name_sp);
    }
}

} // namespace dockpol::dsl::detail
