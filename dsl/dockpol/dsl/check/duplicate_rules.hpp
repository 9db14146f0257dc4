// Stage duplicate_rules: no rule name twice across a policy's files. A stage
// of its own because it looks at all rules at once, where conditions are
// checked one rule at a time.
#pragma once
#include <cstddef>
#include <functional>
#include <map>
#include <string>

#include "dockpol/dsl/ast.hpp"
#include "dockpol/dsl/check/context.hpp"

namespace dockpol::dsl::detail {

// Rule names are unique across all files (they appear in denials and audit events).
inline void stage_duplicate_rules(check_context& cx) {
    std::map<std::string, std::size_t, std::less<>> seen;
    for (std::size_t i = 0; i < cx.pol.rules.size(); ++i) {
        const rule_decl& r = cx.pol.rules[i];
        auto [it, fresh] = seen.emplace(r.name, i);
        if (!fresh)
            cx.report(diag_code::duplicate_rule, r.name_sp, "rule `" + r.name + "` is already defined",
                     "the first definition is at " + cx.where(cx.pol.rules[it->second].name_sp));
    }
}

} // namespace dockpol::dsl::detail
