// Ownership (`owner label`, `allow own`): stage owner_label (one valid label
// key per policy) and stage own_rules (an `allow own` rule applies only to
// actions that have an owner form). Separate from conditions: own_rules reads
// the action mask of a rule's checked condition.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "dockpol/dsl/ast.hpp"
#include "dockpol/dsl/check/actions.hpp"
#include "dockpol/dsl/check/context.hpp"
#include "dockpol/dsl/check/fields.hpp"
#include "dockpol/dsl/detail/text.hpp"
#include "dockpol/dsl/rule_actions.hpp"
#include "dockpol/rt/actions.hpp"
#include "dockpol/rt/owner_forms.hpp"
#include "dockpol/rt/owner_label.hpp"

namespace dockpol::dsl::detail {

// `owner label "NAME"`: one per policy, a label key rt::owner_label_problem accepts.
inline void stage_owner_label(check_context& cx) {
    const owner_decl* first = nullptr;
    for (const auto& d : cx.pol.owners) {
        if (first) {
            cx.report(diag_code::duplicate_owner_label, d.sp, "a policy has one `owner label`; this is a second one",
                     "the first is at " + cx.where(first->sp));
            continue;
        }
        first = &d;
        if (auto why = rt::owner_label_problem(d.name.str)) {
            cx.report(diag_code::owner_label, d.name.sp, "invalid owner label " + quote_string(d.name.str) + ": " + *why,
                     "use a namespaced Docker label key, e.g. \"dockpol.owner\" or \"com.example.owner\"");
            continue;
        }
        cx.out.owner_label = d.name.str;
    }
}

// `allow own`: needs an owner label, and every action the rule can apply to
// must have an owner form (owner_forms.def); a rule with no action condition
// applies to all actions, so it needs one.
inline void stage_own_rules(check_context& cx) {
    rt::action_mask unowned;
    for (std::size_t a = 0; a < rt::action_count; ++a)
        if (rt::owner_form_of(static_cast<std::uint16_t>(a)) == rt::owner_form::none) unowned.set(a);
    for (std::size_t i = 0; i < cx.pol.rules.size(); ++i) {
        const rule_decl& r = cx.pol.rules[i];
        if (!r.own) continue;
        if (cx.pol.owners.empty()) {
            cx.report(diag_code::no_owner_label, r.own_sp, "`allow own` needs an `owner label` statement",
                     std::string(owner_label_help));
            cx.rule_ok[i] = false;
            continue;
        }
        if (!cx.rule_ok[i]) continue;
        const auto acts = rule_action_mask(cx.rule_conds[i]).value_or(rt::action_mask{}.set());
        const auto bad = acts & unowned;
        if (bad.none()) continue;
        cx.report(diag_code::own_action, r.own_sp,
                 "rule `" + r.name + "` is `allow own`, but it can apply to " + name_actions(bad) +
                     (bad.count() == 1 ? ", which has" : ", which have") + " no owner",
                 "`own` works on creates (the owner label is set), actions on one container, volume, network, "
                 "service, secret or config (it must be the caller's), and lists, events and prunes (filtered "
                 "to the caller's); restrict the rule with `action in {...}` to such actions");
        cx.rule_ok[i] = false;
        cx.rule_conds[i].reset();
    }
}

} // namespace dockpol::dsl::detail
