// Action names in conditions: a string compared with `action` must name an
// action (with alias and pattern hints when it does not), `action matches
// GLOB` becomes the set of names it matches, and help text lists the actions
// of a mask. The action table (rt::all_actions) is a vocabulary of its own,
// used by comparisons and by the per-rule stages alike.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dockpol/dsl/ast.hpp"
#include "dockpol/dsl/check/context.hpp"
#include "dockpol/dsl/detail/text.hpp"
#include "dockpol/dsl/suggest.hpp"
#include "dockpol/rt/actions.hpp"
#include "dockpol/rt/glob.hpp"

namespace dockpol::dsl::detail {

// Every action name, in table order: the candidates for "did you mean".
inline std::vector<std::string> action_names() {
    std::vector<std::string> out;
    for (const auto& a : rt::all_actions()) out.emplace_back(a.name);
    return out;
}

// dp-unknown-action for a string compared with `action`; true when it names an action.
// The hint goes through the alias table first (`image_pull` is `image_create`, not
// the `image_push` edit distance would offer), says `matches` for a pattern, and
// only then falls back to the closest name.
inline bool check_action_name(check_context& cx, const expr& lit) {
    if (rt::find_action(lit.str)) return true;
    std::string help;
    if (auto alias = rt::action_alias(lit.str)) {
        help = did_you_mean(std::string(*alias), true);
        if (auto note = rt::action_alias_note(lit.str); !note.empty()) help += " (" + std::string(note) + ")";
    } else if (looks_like_glob(lit.str)) {
        help = "this compares whole names; for a pattern write `action matches " + quote_string(lit.str) + "`";
    } else {
        help = did_you_mean(closest_match(lit.str, action_names()), true);
    }
    cx.report(diag_code::unknown_action, lit.sp, "unknown action " + quote_string(lit.str), std::move(help));
    return false;
}

// `action matches GLOB` → `action in {every action name the glob matches}`.
inline std::optional<expr> expand_action_glob(check_context& cx, const expr& cmp, const rt::glob& g, const expr& pat) {
    expr set;
    set.kind = expr_kind::set_lit;
    set.sp = pat.sp;
    for (const auto& a : rt::all_actions()) {
        if (!rt::glob_match(g, a.name)) continue;
        expr s;
        s.kind = expr_kind::string_lit;
        s.sp = pat.sp;
        s.str = std::string(a.name);
        set.items.push_back(std::move(s));
    }
    if (set.items.empty()) {
        // Suggest by the pattern's literal prefix against the action resources (`contianer_` → `container_`).
        const std::string& p = pat.str;
        const std::size_t meta = p.find_first_of("*?[\\");
        std::string help;
        if (meta != std::string::npos && meta > 0) {
            std::vector<std::string> prefixes;
            for (const auto& a : rt::all_actions())
                if (!a.resource.empty()) prefixes.push_back(std::string(a.resource) + "_");
            if (auto best = closest_match(std::string_view(p).substr(0, meta), prefixes))
                help = did_you_mean(*best + p.substr(meta), true);
        }
        cx.report(diag_code::unknown_action, pat.sp, "action pattern " + quote_string(p) + " matches no action", help);
        return std::nullopt;
    }
    expr out = cmp;
    out.op = compare_op::in;
    out.items[1] = std::move(set);
    return out;
}

// Help lines name at most this many actions, then "and N more".
inline constexpr std::size_t max_actions_named = 4;

// "a, b, c and 27 more": the actions of `m` in table order.
inline std::string name_actions(const rt::action_mask& m) {
    std::string out;
    std::size_t named = 0, total = m.count();
    for (std::size_t i = 0; i < rt::action_count && named < max_actions_named; ++i) {
        if (!m.test(i)) continue;
        out += (named ? ", " : "") + std::string(rt::all_actions()[i].name);
        ++named;
    }
    if (total > named) out += " and " + std::to_string(total - named) + " more";
    return out;
}

} // namespace dockpol::dsl::detail
