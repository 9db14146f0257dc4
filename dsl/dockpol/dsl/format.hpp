// `dockpolc fmt`: the canonical layout of one file.
//
// The scheme: statements in source order, one blank line between them; each
// statement's comments on the lines above it (comments that were inside a
// statement move above it); single spaces around operators; sets as
// `{"a", "b"}`, or one element per line when a `let` set does not fit in
// `format_width`; a rule on one line when it fits, else
//     rule NAME:
//         EFFECT if A
//             and B
// breaking before each top-level `and` (or `or`). Parentheses are printed
// where the tree needs them, so formatting keeps the meaning and formatting
// twice changes nothing.
#pragma once
#include <string>
#include <vector>

#include "dockpol/dsl/ast.hpp"
#include "dockpol/dsl/detail/text.hpp"

namespace dockpol::dsl {

// Lines up to this many code points stay on one line.
inline constexpr std::size_t format_width = 100;

namespace detail {

// Binding strength: a child weaker than its parent needs parentheses.
inline int strength(const expr& e) {
    switch (e.kind) {
    case expr_kind::or_: return 1;
    case expr_kind::and_: return 2;
    case expr_kind::not_: return 3;
    case expr_kind::any:
    case expr_kind::all: return 0;
    default: return 4;
    }
}

inline std::string print_expr(const expr& e, bool tail);

// A child of an operator: in parentheses when weaker than `min`, or when it is
// a quantifier that does not end the enclosing condition (its predicate would
// swallow what follows).
inline std::string print_child(const expr& c, int min, bool tail) {
    const bool quant = c.kind == expr_kind::any || c.kind == expr_kind::all;
    const bool paren = quant ? !tail : strength(c) < min;
    return paren ? "(" + print_expr(c, true) + ")" : print_expr(c, tail);
}

inline std::string print_set(const expr& e) {
    std::string s = "{";
    for (std::size_t i = 0; i < e.items.size(); ++i) s += (i ? ", " : "") + quote_string(e.items[i].str);
    return s + "}";
}

inline std::string print_expr(const expr& e, bool tail) {
    switch (e.kind) {
    case expr_kind::string_lit: return quote_string(e.str);
    case expr_kind::number_lit: return e.text;
    case expr_kind::bool_lit: return e.boolean ? "true" : "false";
    case expr_kind::set_lit: return print_set(e);
    case expr_kind::name_ref:
    case expr_kind::field:
    case expr_kind::loop_var: return e.text;
    case expr_kind::compare:
        return print_expr(e.items[0], false) + " " + std::string(op_spelling(e.op)) + " " + print_expr(e.items[1], false);
    case expr_kind::not_: return "not " + print_child(e.items[0], 3, tail);
    case expr_kind::any:
    case expr_kind::all:
        return std::string(e.kind == expr_kind::any ? "any " : "all ") + e.text + " in " + e.items[0].text + ": " +
               print_expr(e.items[1], true);
    case expr_kind::and_:
    case expr_kind::or_: {
        const bool is_and = e.kind == expr_kind::and_;
        std::string s;
        for (std::size_t i = 0; i < e.items.size(); ++i) {
            if (i) s += is_and ? " and " : " or ";
            s += print_child(e.items[i], is_and ? 3 : 2, tail && i + 1 == e.items.size());
        }
        return s;
    }
    }
    return {};
}

inline std::string effect_word(rt::effect e) { return e == rt::effect::allow ? "allow" : "deny"; }

// `allow`, `allow own` or `deny`.
inline std::string rule_effect(const rule_decl& r) { return effect_word(r.eff) + (r.own ? " own" : ""); }

inline std::string format_rule(const rule_decl& r) {
    const std::string head = "rule " + r.name + ": " + rule_effect(r);
    if (!r.cond) return head + "\n";
    const std::string one = head + " if " + print_expr(*r.cond, true);
    if (code_points(one) <= format_width && one.find('\n') == std::string::npos) return one + "\n";
    std::string s = "rule " + r.name + ":\n    " + rule_effect(r) + " if ";
    const expr& c = *r.cond;
    if (c.kind != expr_kind::and_ && c.kind != expr_kind::or_) return s + print_expr(c, true) + "\n";
    const bool is_and = c.kind == expr_kind::and_;
    for (std::size_t i = 0; i < c.items.size(); ++i) {
        if (i) s += is_and ? "\n        and " : "\n        or ";
        s += print_child(c.items[i], is_and ? 3 : 2, i + 1 == c.items.size());
    }
    return s + "\n";
}

// `HEAD VALUE`, a set one element per line when it does not fit.
inline std::string format_value_stmt(const std::string& head, const expr& value) {
    const std::string one = head + print_expr(value, true);
    if (value.kind != expr_kind::set_lit || code_points(one) <= format_width) return one + "\n";
    std::string s = head + "{\n";
    for (const auto& i : value.items) s += "    " + quote_string(i.str) + ",\n";
    return s + "}\n";
}

inline std::string format_let(const let_decl& d) { return format_value_stmt("let " + d.name + " = ", d.value); }

inline std::string format_safe(const safe_decl& d) {
    return format_value_stmt(d.what == safe_list::host_paths ? "safe host paths " : "safe volume drivers ", d.value);
}

} // namespace detail

// The canonical text of file `file_index` of a parsed policy.
inline std::string format_file(const policy& pol, std::size_t file_index) {
    std::string out;
    if (file_index >= pol.parsed.size()) return out;
    const parsed_file& pf = pol.parsed[file_index];
    for (const auto& st : pf.statements) {
        if (!out.empty()) out += "\n";
        for (const auto& c : st.comments) out += c + "\n";
        switch (st.kind) {
        case stmt_kind::default_:
            out += "default " + detail::effect_word(pol.def ? pol.def->eff : rt::effect::deny) + "\n";
            break;
        case stmt_kind::let: out += detail::format_let(pol.lets[st.index]); break;
        case stmt_kind::rule: out += detail::format_rule(pol.rules[st.index]); break;
        case stmt_kind::safe: out += detail::format_safe(pol.safes[st.index]); break;
        case stmt_kind::owner: out += "owner label " + detail::quote_string(pol.owners[st.index].name.str) + "\n"; break;
        }
    }
    if (!pf.trailing_comments.empty()) {
        if (!out.empty()) out += "\n";
        for (const auto& c : pf.trailing_comments) out += c + "\n";
    }
    return out;
}

} // namespace dockpol::dsl
