// Name resolution: an operand as written (a literal, a name, a dotted name)
// becomes a checked operand: the any/all loop variable, an inlined constant
// or a schema field, or a "did you mean" error when it is none. It decides
// what a name is; compare.hpp and conditions.hpp decide what may be done with it.
#pragma once
#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dockpol/dsl/ast.hpp"
#include "dockpol/dsl/check/constants.hpp"
#include "dockpol/dsl/check/context.hpp"
#include "dockpol/dsl/check/fields.hpp"
#include "dockpol/dsl/check/types.hpp"
#include "dockpol/dsl/detail/text.hpp"
#include "dockpol/dsl/limits.hpp"
#include "dockpol/dsl/suggest.hpp"
#include "dockpol/rt/actions.hpp"
#include "dockpol/rt/fields.hpp"

namespace dockpol::dsl::detail {

// The size of an inlined constant, counted against max_checked_nodes.
inline std::size_t count_nodes(const expr& e) {
    std::size_t n = 1;
    for (const auto& c : e.items) n += count_nodes(c);
    return n;
}

// Resolves a name or dotted name used as an operand.
inline std::optional<operand> resolve_name(check_context& cx, const expr& e, const scope& sc) {
    const std::string& text = e.text;
    const std::string_view first = std::string_view(text).substr(0, text.find('.'));
    if (sc.var && first == *sc.var) {
        operand o;
        o.node.kind = expr_kind::loop_var;
        o.node.sp = e.sp;
        o.node.text = *sc.var;
        o.node.key = text.size() > first.size() ? text.substr(first.size() + 1) : std::string();
        o.dynamic = true;
        o.type = sc.elem;
        o.what = text;
        if (!o.node.key.empty() && sc.elem != vtype::json) {
            cx.report(diag_code::type, e.sp,
                     "the elements of `" + sc.list_name + "` are strings; `" + text + "` has no fields",
                     "use `" + *sc.var + "` itself");
            return std::nullopt;
        }
        return o;
    }
    if (e.kind == expr_kind::name_ref) {
        if (cx.constants.count(text)) {
            auto v = resolve_constant(cx, text, e.sp);
            if (!v) return std::nullopt;
            operand o;
            o.node = std::move(*v);
            set_data_spans(o.node, e.sp);
            cx.nodes += count_nodes(o.node);
            if (cx.nodes > max_checked_nodes) {
                if (!cx.node_limit_reported)
                    cx.report(diag_code::limit, e.sp,
                             "the policy is larger than " + std::to_string(max_checked_nodes) +
                                 " nodes once `let` names are inlined",
                             "use large sets in fewer places");
                cx.node_limit_reported = true;
                return std::nullopt;
            }
            o.dynamic = false;
            o.type = o.node.kind == expr_kind::string_lit ? vtype::string
                   : o.node.kind == expr_kind::number_lit ? vtype::number
                   : o.node.kind == expr_kind::bool_lit   ? vtype::boolean
                                                          : vtype::set;
            o.what = "`" + text + "`";
            return o;
        }
    }
    if (auto f = resolve_field(text)) {
        if (f->id == rt::field_id::resource_owner && cx.pol.owners.empty()) {
            cx.report(diag_code::no_owner_label, e.sp, "`resource.owner` needs an `owner label` statement",
                     std::string(owner_label_help));
            return std::nullopt;
        }
        if (sc.var) {
            cx.report(diag_code::type, e.sp,
                     "the predicate of `any`/`all` may only use `" + *sc.var + "` and constants; `" + text +
                         "` is a field",
                     "move the test on `" + text + "` before the `any`/`all`, joined with `and`");
            return std::nullopt;
        }
        operand o;
        o.node.kind = expr_kind::field;
        o.node.sp = e.sp;
        o.node.text = text;
        o.node.id = f->id;
        o.node.key = f->key;
        o.dynamic = true;
        o.type = type_of_field(rt::info(f->id).type);
        o.what = "`" + text + "`";
        return o;
    }
    // A keyed field written without its key.
    if (auto bare = rt::find_field(text); bare && rt::info(*bare).keyed) {
        cx.report(diag_code::unknown_field, e.sp, "field `" + text + "` needs a key, e.g. `" + text + ".NAME`");
        return std::nullopt;
    }
    if (e.kind == expr_kind::name_ref) {
        // `action == container_list`: an action name written without its quotes.
        if (rt::find_action(text) || rt::action_alias(text)) {
            const std::string name = rt::find_action(text) ? text : std::string(*rt::action_alias(text));
            cx.report(diag_code::undefined_name, e.sp, "undefined name `" + text + "`",
                     "action names are strings: write " + quote_string(name));
            return std::nullopt;
        }
        // The dp-data error already stands for it.
        if (cx.data_unread) return std::nullopt;
        std::vector<std::string> cands;
        for (const auto& [n, c] : cx.constants) cands.push_back(n);
        for (const auto& f : rt::field_table)
            if (!f.keyed) cands.emplace_back(f.name);
        if (sc.var) cands.push_back(*sc.var);
        cx.report(diag_code::undefined_name, e.sp, "undefined name `" + text + "`", did_you_mean(closest_match(text, cands)));
        return std::nullopt;
    }
    // Unknown dotted field: suggest a schema name, keeping the key for keyed fields.
    std::vector<std::string> cands;
    const auto segs = static_cast<std::size_t>(std::count(text.begin(), text.end(), '.')) + 1;
    for (const auto& f : rt::field_table) {
        if (!f.keyed) {
            cands.emplace_back(f.name);
            continue;
        }
        const auto fsegs = static_cast<std::size_t>(std::count(f.name.begin(), f.name.end(), '.')) + 1;
        if (segs <= fsegs) continue;
        std::size_t pos = 0;
        for (std::size_t k = 0; k < fsegs; ++k) pos = text.find('.', pos) + 1;
        cands.push_back(std::string(f.name) + "." + text.substr(pos));
    }
    cx.report(diag_code::unknown_field, e.sp, "unknown field `" + text + "`", did_you_mean(closest_match(text, cands)));
    return std::nullopt;
}

// Any operand: literals as they are, names and fields through resolve_name.
inline std::optional<operand> resolve_operand(check_context& cx, const expr& e, const scope& sc) {
    count_work();
    operand o;
    o.node = e;
    o.dynamic = false;
    switch (e.kind) {
    case expr_kind::string_lit: o.type = vtype::string; o.what = quote_string(e.str); return o;
    case expr_kind::number_lit: o.type = vtype::number; o.what = e.text; return o;
    case expr_kind::bool_lit: o.type = vtype::boolean; o.what = e.boolean ? "true" : "false"; return o;
    case expr_kind::set_lit: o.type = vtype::set; o.what = "a set"; return o;
    case expr_kind::name_ref:
    case expr_kind::field: return resolve_name(cx, e, sc);
    default: break;
    }
    cx.report(diag_code::internal, e.sp, "internal error: unexpected operand (please report this)");
    return std::nullopt;
}

} // namespace dockpol::dsl::detail
