// Stage fact_actions (facts scope): a rule may read a fact (a field only some
// actions have) only if one of its actions has it. Runs on checked conditions,
// after check_rules, since it needs both the fields resolved and the rule's
// action mask.
#pragma once
#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

#include "dockpol/dsl/ast.hpp"
#include "dockpol/dsl/check/actions.hpp"
#include "dockpol/dsl/check/context.hpp"
#include "dockpol/dsl/rule_actions.hpp"
#include "dockpol/rt/actions.hpp"
#include "dockpol/rt/fields.hpp"

namespace dockpol::dsl::detail {

// Every field a checked condition reads that only some actions have (facts,
// resource.owner), first use first.
inline void fact_reads(const expr& e, std::vector<const expr*>& out) {
    if (e.kind == expr_kind::field && rt::is_scoped_source(rt::info(e.id).source) &&
        std::none_of(out.begin(), out.end(), [&](const expr* f) { return f->id == e.id; }))
        out.push_back(&e);
    for (const auto& i : e.items) fact_reads(i, out);
}

// dp-fact-action: a rule reading a fact that none of its actions has would
// test a value that is always absent. Rules that do not constrain the action
// are fine (the fact is absent for the other actions); so are rules whose
// action constraints contradict each other (they never match at all).
inline void stage_fact_actions(check_context& cx) {
    for (std::size_t i = 0; i < cx.pol.rules.size(); ++i) {
        if (!cx.rule_conds[i]) continue;
        const auto acts = rule_action_mask(cx.rule_conds[i]);
        if (!acts || acts->none()) continue;
        std::vector<const expr*> facts;
        fact_reads(*cx.rule_conds[i], facts);
        bool bad = false;
        for (const expr* f : facts) {
            const auto& has = rt::field_actions(f->id);
            if ((*acts & has).any()) continue;
            bad = true;
            const std::string name(rt::info(f->id).name);
            cx.report(diag_code::fact_action, f->sp,
                     "rule `" + cx.pol.rules[i].name + "` reads `" + name + "`, which none of its actions (" +
                         name_actions(*acts) + ") has",
                     name + " exists only for " + name_actions(has));
        }
        if (bad) {
            cx.rule_ok[i] = false;
            cx.rule_conds[i].reset();
        }
    }
}

} // namespace dockpol::dsl::detail
