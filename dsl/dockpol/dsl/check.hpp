// The checker: a named list of stages (like OPA's compile stages) that turn a
// parsed `policy` into a `checked_policy`: `--data` constants are loaded, `let`
// names collected and resolved, and every rule condition has its names
// inlined, its fields resolved against the schema (rt::field_table), its
// types checked, its action names checked against rt::all_actions(), and
// `action matches GLOB` expanded to the set of matching action names.
//
// Normal forms in the checked output (what lowering may rely on):
//   - `==`, `!=`, `<`, `<=`, `>`, `>=`: items[0] is the field (or loop var),
//     items[1] the constant (operands are swapped, ordering operators flipped);
//     or, for `==`/`!=` only, two fields of one scalar type in source order;
//   - `in`: either FIELD in SET (set_lit), or STRING in LISTFIELD (list, groups, json);
//   - `matches`: FIELD matches STRING; on `action` it becomes `action in {names}`;
//   - `covers`: as written, one side a field or loop var, the other a string;
//   - any/all: items[0] the list field, items[1] a predicate over `loop_var`
//     nodes (text = variable, key = sub-path) and constants only.
//
// check.hpp is the driver: the stage table and check_policy. Each stage, and
// what the stages share, is its own header under check/:
//   context.hpp, types.hpp   the state every stage shares; the operand types
//   fields.hpp               field names against the schema
//   data.hpp                 load_data: `--data` files → constants
//   constants.hpp            collect_lets, resolve_lets; resolve_constant
//   duplicate_rules.hpp      duplicate_rules
//   ownership.hpp            owner_label, own_rules
//   safe_lists.hpp           safe_lists
//   names.hpp                name resolution in conditions
//   actions.hpp              action names and `action matches GLOB`
//   compare.hpp, hints.hpp   one comparison: typing rules, normal form, hints
//   conditions.hpp           check_rules: whole conditions
//   fact_actions.hpp         fact_actions: facts read by the rule's actions
//   body_literals.hpp        body_types: `body.*` literals against the API types
#pragma once
#include <cstddef>
#include <string_view>
#include <utility>
#include <vector>

#include "dockpol/dsl/ast.hpp"
#include "dockpol/dsl/check/body_literals.hpp"
#include "dockpol/dsl/check/conditions.hpp"
#include "dockpol/dsl/check/constants.hpp"
#include "dockpol/dsl/check/context.hpp"
#include "dockpol/dsl/check/data.hpp"
#include "dockpol/dsl/check/duplicate_rules.hpp"
#include "dockpol/dsl/check/fact_actions.hpp"
#include "dockpol/dsl/check/fields.hpp"
#include "dockpol/dsl/check/ownership.hpp"
#include "dockpol/dsl/check/safe_lists.hpp"
#include "dockpol/dsl/diagnostic.hpp"
#include "dockpol/rt/program.hpp"

namespace dockpol::dsl {

namespace detail {

// Assembles the checked policy from the rules that checked clean.
inline void stage_build(check_context& cx) {
    cx.out.files = cx.pol.files;
    cx.out.default_effect = cx.pol.def ? cx.pol.def->eff : rt::effect::deny;
    for (std::size_t i = 0; i < cx.pol.rules.size(); ++i) {
        const rule_decl& r = cx.pol.rules[i];
        checked_rule cr;
        cr.name = r.name;
        cr.eff = r.eff;
        cr.own = r.own;
        cr.cond = cx.rule_conds[i];
        cr.pos = rt::source_pos{r.sp.file, r.sp.line, r.sp.column};
        cx.out.rules.push_back(std::move(cr));
    }
}

} // namespace detail

// The check stages in order; each reads the context and appends diagnostics.
struct check_stage {
    std::string_view name;
    void (*run)(detail::check_context&);
};
inline constexpr check_stage check_stages[] = {
    {"load_data", detail::stage_load_data},
    {"collect_lets", detail::stage_collect_lets},          // after load_data: clashes with data keys
    {"resolve_lets", detail::stage_resolve_lets},          // after collect_lets: names are known
    {"duplicate_rules", detail::stage_duplicate_rules},
    {"owner_label", detail::stage_owner_label},
    {"safe_lists", detail::stage_safe_lists},              // after resolve_lets: a set may be a `let`
    {"check_rules", detail::stage_check_rules},            // after resolve_lets: inlines constants
    {"fact_actions", detail::stage_fact_actions},          // after check_rules: reads checked conditions
    {"body_types", detail::stage_body_types},              // after check_rules: reads checked conditions
    {"own_rules", detail::stage_own_rules},                // after check_rules: reads checked conditions
    {"build", detail::stage_build},
};

struct check_output {
    checked_policy checked;        // every rule; a rule whose condition failed has cond = none
    std::vector<bool> rule_ok;     // parallel to rules: the condition checked clean
};

inline check_output check_policy(const policy& pol, const front_options& opts, std::vector<diagnostic>& diags) {
    detail::check_context cx{pol, opts, diags, {}, {}, {}, {}, 0, false, false};
    for (const auto& st : check_stages) st.run(cx);
    return {std::move(cx.out), std::move(cx.rule_ok)};
}

} // namespace dockpol::dsl
