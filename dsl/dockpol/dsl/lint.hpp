// Lints: warnings about policies that compile but do not mean what their
// author likely meant. Like Cedar's validation warnings, each one is sound:
// when the analysis is unsure it says nothing. Lints read the checked rules
// (names inlined, fields resolved), so they compare what rules really test.
#pragma once
#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "dockpol/dsl/ast.hpp"
#include "dockpol/dsl/check.hpp"
#include "dockpol/dsl/detail/text.hpp"
#include "dockpol/dsl/diagnostic.hpp"
#include "dockpol/dsl/rule_actions.hpp"

namespace dockpol::dsl {

// Structural equality of checked expressions, ignoring spans (and set order).
inline bool same_expr(const expr& a, const expr& b) {
    detail::count_work();
    if (a.kind != b.kind) return false;
    switch (a.kind) {
    case expr_kind::string_lit: return a.str == b.str;
    case expr_kind::number_lit: return a.num == b.num;
    case expr_kind::bool_lit: return a.boolean == b.boolean;
    case expr_kind::set_lit: {
        std::set<std::string> x, y;
        for (const auto& i : a.items) x.insert(i.str);
        for (const auto& i : b.items) y.insert(i.str);
        return x == y;
    }
    case expr_kind::name_ref: return a.text == b.text;
    case expr_kind::field: return a.id == b.id && a.key == b.key && a.text == b.text;
    case expr_kind::loop_var: return a.key == b.key;
    case expr_kind::compare:
        if (a.op != b.op) return false;
        break;
    case expr_kind::any:
    case expr_kind::all:
    case expr_kind::not_:
    case expr_kind::and_:
    case expr_kind::or_: break;
    }
    if (a.items.size() != b.items.size()) return false;
    for (std::size_t i = 0; i < a.items.size(); ++i)
        if (!same_expr(a.items[i], b.items[i])) return false;
    return true;
}

namespace detail {

struct lint_context {
    const policy& pol;
    const check_output& co;
    std::vector<diagnostic>& diags;
    std::vector<bool> unreachable;   // set by lint_unreachable, read by later lints

    void warn(diag_code code, span sp, std::string msg, std::string help = {}) {
        diags.push_back(make_diag(pol.files, code, sp, std::move(msg), std::move(help)));
    }
    std::string where(span sp) const {
        return pol.files[sp.file].name + ":" + std::to_string(sp.line);
    }
    const std::optional<expr>& cond(std::size_t i) const { return co.checked.rules[i].cond; }
    bool usable(std::size_t i) const { return i < co.rule_ok.size() && co.rule_ok[i]; }
};

inline bool always_true(const std::optional<expr>& c) {
    return !c || (c->kind == expr_kind::bool_lit && c->boolean);
}

// The actions a rule can match (rule_actions.hpp); none = unconstrained.
inline std::optional<rt::action_mask> rule_actions(const std::optional<expr>& c) { return rule_action_mask(c); }

// Whether action `name` is in `m`.
inline bool has_action(const rt::action_mask& m, std::string_view name) {
    const auto id = rt::find_action(name);
    return id && m.test(*id);
}

// A rule after one that matches every request never runs.
inline void lint_unreachable(lint_context& lx) {
    lx.unreachable.assign(lx.pol.rules.size(), false);
    std::optional<std::size_t> catch_all;
    for (std::size_t i = 0; i < lx.pol.rules.size(); ++i) {
        if (catch_all) {
            const auto& first = lx.pol.rules[*catch_all];
            lx.unreachable[i] = true;
            lx.warn(diag_code::unreachable_rule, lx.pol.rules[i].name_sp,
                    "rule `" + lx.pol.rules[i].name + "` can never match: rule `" + first.name + "` (" +
                        lx.where(first.name_sp) + ") matches every request before it",
                    "move `" + lx.pol.rules[i].name + "` above `" + first.name + "` or remove it");
            continue;
        }
        // An `allow own` rule passes requests on other users' objects to the next rule.
        if (lx.usable(i) && always_true(lx.cond(i)) && !lx.pol.rules[i].own) catch_all = i;
    }
}

// A canonical text of a checked expression: equal texts ⇔ same_expr (sets sorted).
inline void canonical(const expr& e, std::string& out) {
    count_work();
    out += std::to_string(static_cast<int>(e.kind));
    switch (e.kind) {
    case expr_kind::string_lit: out += quote_string(e.str); return;
    case expr_kind::number_lit: out += std::to_string(e.num); return;
    case expr_kind::bool_lit: out += e.boolean ? "t" : "f"; return;
    case expr_kind::set_lit: {
        std::set<std::string> sorted;
        for (const auto& i : e.items) sorted.insert(i.str);
        out += "{";
        for (const auto& s : sorted) out += quote_string(s) + ",";
        out += "}";
        return;
    }
    case expr_kind::name_ref: out += e.text; return;
    case expr_kind::field: out += "#" + std::to_string(static_cast<int>(e.id)) + quote_string(e.key); return;
    case expr_kind::loop_var: out += quote_string(e.key); return;
    case expr_kind::compare: out += "op" + std::to_string(static_cast<int>(e.op)); break;
    default: break;
    }
    out += "(";
    for (const auto& i : e.items) {
        canonical(i, out);
        out += ",";
    }
    out += ")";
}

// A rule's conjuncts as canonical texts, hashed for quick comparison.
struct atom_key {
    std::size_t hash;
    std::string text;
    friend bool operator==(const atom_key&, const atom_key&) = default;
};
inline std::vector<atom_key> atom_keys(const expr& cond) {
    std::vector<const expr*> atoms;
    top_conjuncts(cond, atoms);
    std::vector<atom_key> out;
    for (const expr* a : atoms) {
        std::string t;
        canonical(*a, t);
        out.push_back({std::hash<std::string>{}(t), std::move(t)});
    }
    return out;
}

// A later rule whose conjuncts include all of an earlier rule's conjuncts never decides.
inline void lint_shadowed(lint_context& lx) {
    const auto& rules = lx.pol.rules;
    std::vector<std::optional<std::vector<atom_key>>> keys(rules.size());
    for (std::size_t i = 0; i < rules.size(); ++i)
        if (lx.usable(i) && lx.cond(i)) keys[i] = atom_keys(*lx.cond(i));
    for (std::size_t j = 0; j < rules.size(); ++j) {
        if (lx.unreachable[j] || !keys[j]) continue;
        const auto& later = *keys[j];
        for (std::size_t i = 0; i < j; ++i) {
            if (!keys[i] || rules[i].own) continue;
            const auto& earlier = *keys[i];
            const bool covered = std::all_of(earlier.begin(), earlier.end(), [&](const atom_key& a) {
                return std::find(later.begin(), later.end(), a) != later.end();
            });
            if (!covered) continue;
            lx.warn(diag_code::shadowed_rule, rules[j].name_sp,
                    "rule `" + rules[j].name + "` is shadowed by rule `" + rules[i].name + "` (" +
                        lx.where(rules[i].name_sp) + "): whenever its condition holds, `" + rules[i].name +
                        "`'s holds too and decides first",
                    "reorder the rules or remove `" + rules[j].name + "`");
            break;
        }
    }
}

// Denying a hijacked action shows the user only "unable to upgrade to tcp, received 403" (docs/request-model.md).
inline void lint_exec_attach(lint_context& lx) {
    struct pair_row { std::string_view setup, hijack; };
    static constexpr pair_row pairs[] = {{"container_exec", "exec_start"}, {"container_create", "container_attach"}};
    const auto& rules = lx.pol.rules;
    std::vector<std::optional<rt::action_mask>> acts(rules.size());
    for (std::size_t i = 0; i < rules.size(); ++i)
        if (lx.usable(i)) acts[i] = rule_actions(lx.cond(i));
    auto can_allow = [&](std::string_view action) {
        for (std::size_t i = 0; i < rules.size(); ++i)
            if (lx.usable(i) && !lx.unreachable[i] && rules[i].eff == rt::effect::allow &&
                (!acts[i] || has_action(*acts[i], action)))
                return true;
        return lx.pol.def && lx.pol.def->eff == rt::effect::allow;
    };
    for (std::size_t i = 0; i < rules.size(); ++i) {
        if (!lx.usable(i) || lx.unreachable[i] || !acts[i]) continue;
        for (const auto& p : pairs) {
            if (rules[i].eff == rt::effect::deny && has_action(*acts[i], p.hijack)) {
                lx.warn(diag_code::exec_attach, rules[i].name_sp,
                        "rule `" + rules[i].name + "` can deny `" + std::string(p.hijack) +
                            "`; the docker CLI shows that only as \"unable to upgrade to tcp, received 403\"",
                        "deny `" + std::string(p.setup) + "` instead, so the user sees the rule's name");
            }
            if (rules[i].eff == rt::effect::allow && has_action(*acts[i], p.setup) && !can_allow(p.hijack)) {
                lx.warn(diag_code::exec_attach, rules[i].name_sp,
                        "rule `" + rules[i].name + "` allows `" + std::string(p.setup) + "` but no rule allows `" +
                            std::string(p.hijack) + "`; the CLI will fail with \"unable to upgrade to tcp, received 403\"",
                        "allow `" + std::string(p.hijack) + "` under the same condition");
            }
        }
    }
}

// The field a `not` operand tests, when it is a comparison on a field or a field alone.
inline const expr* tested_field(const expr& e) {
    if (e.kind == expr_kind::field) return &e;
    if (e.kind == expr_kind::compare)
        for (const auto& i : e.items)
            if (i.kind == expr_kind::field) return &i;
    return nullptr;
}

inline void find_absent_nots(lint_context& lx, const expr& e, const std::optional<rt::action_mask>& acts) {
    count_work();
    for (const auto& i : e.items) find_absent_nots(lx, i, acts);
    if (e.kind != expr_kind::not_) return;
    const expr* f = tested_field(e.items[0]);
    if (!f || !may_be_absent(f->id)) return;
    // A derived fact is present for the actions it applies to; a rule limited to those is fine.
    if (rt::is_fact_source(rt::info(f->id).source) && acts && acts->any() &&
        (*acts & ~rt::field_actions(f->id)).none())
        return;
    std::string help = "a comparison with an absent value is false, so this `not` is true when `" + f->text +
                       "` is absent";
    if (e.items[0].kind == expr_kind::compare && e.items[0].op == compare_op::eq)
        help += "; `" + f->text + " != ...` is false when it is absent";
    lx.warn(diag_code::absent_not, e.sp, "`not` over a test of `" + f->text + "`, which can be absent", std::move(help));
}

inline void lint_absent_not(lint_context& lx) {
    for (std::size_t i = 0; i < lx.pol.rules.size(); ++i)
        if (lx.usable(i) && lx.cond(i)) find_absent_nots(lx, *lx.cond(i), rule_actions(lx.cond(i)));
}

} // namespace detail

struct lint_stage {
    std::string_view name;
    void (*run)(detail::lint_context&);
};
inline constexpr lint_stage lint_stages[] = {
    {"unreachable", detail::lint_unreachable},
    {"shadowed", detail::lint_shadowed},          // after unreachable: skips rules it already flagged
    {"exec_attach", detail::lint_exec_attach},
    {"absent_not", detail::lint_absent_not},
};

inline void run_lints(const policy& pol, const check_output& co, std::vector<diagnostic>& diags) {
    detail::lint_context lx{pol, co, diags, {}};
    for (const auto& st : lint_stages) st.run(lx);
}

} // namespace dockpol::dsl
