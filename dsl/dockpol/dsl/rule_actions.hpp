// The actions a rule can match, read from its condition: the one analysis
// the checker (dp-fact-action), the lints and lowering (body/inspect needs)
// share, so they never disagree about a rule.
#pragma once
#include <optional>
#include <vector>

#include "dockpol/dsl/ast.hpp"
#include "dockpol/dsl/detail/work_count.hpp"
#include "dockpol/rt/actions.hpp"
#include "dockpol/rt/fields.hpp"

namespace dockpol::dsl {

namespace detail {

// Every conjunct of `e`: the operands of `and`, nested `and`s (parentheses) flattened.
inline void top_conjuncts(const expr& e, std::vector<const expr*>& out) {
    count_work();
    if (e.kind == expr_kind::and_) {
        for (const auto& i : e.items) top_conjuncts(i, out);
        return;
    }
    out.push_back(&e);
}

} // namespace detail

// The actions a checked condition can match: the intersection of its
// conjuncts `action == "x"` and `action in {...}` (the checker has already
// turned `action matches GLOB` into `action in {...}`). none = the
// condition does not constrain the action (or there is no condition).
// Conjuncts under `or`/`not` are ignored: the answer is an upper bound.
inline std::optional<rt::action_mask> rule_action_mask(const expr* cond) {
    if (!cond) return std::nullopt;
    std::vector<const expr*> conj;
    detail::top_conjuncts(*cond, conj);
    std::optional<rt::action_mask> acc;
    for (const expr* c : conj) {
        if (c->kind != expr_kind::compare || c->items.size() != 2 || c->items[0].kind != expr_kind::field ||
            c->items[0].id != rt::field_id::action)
            continue;
        const expr& rhs = c->items[1];
        rt::action_mask m;
        if (c->op == compare_op::eq && rhs.kind == expr_kind::string_lit) {
            if (auto id = rt::find_action(rhs.str)) m.set(*id);
        } else if (c->op == compare_op::in && rhs.kind == expr_kind::set_lit) {
            for (const auto& s : rhs.items)
                if (auto id = rt::find_action(s.str)) m.set(*id);
        } else {
            continue;
        }
        acc = acc ? (*acc & m) : m;
    }
    return acc;
}

inline std::optional<rt::action_mask> rule_action_mask(const std::optional<expr>& cond) {
    return rule_action_mask(cond ? &*cond : nullptr);
}

} // namespace dockpol::dsl
