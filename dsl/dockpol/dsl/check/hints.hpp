// Hints for comparisons that type-check but likely mean something else: a
// glob compared with `==`, regular-expression syntax in a glob, a number or
// bool in quotes. Kept apart from the typing rules because a hint never makes
// a rule fail; it is a warning, or the help line of someone else's error.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

#include "dockpol/dsl/ast.hpp"
#include "dockpol/dsl/check/context.hpp"
#include "dockpol/dsl/check/types.hpp"
#include "dockpol/dsl/detail/text.hpp"

namespace dockpol::dsl::detail {

// The comparison written again without the quotes around its value.
inline std::string drop_quotes_help(const std::string& field, const std::string& op, const std::string& value) {
    return "drop the quotes: `" + field + " " + op + " " + value + "`";
}

// `container.uid == "0"`: a number or bool field compared with the same value
// in quotes. (Body paths: check/body_literals.hpp, which knows the rule's actions.)
inline std::string quoted_literal_help(const operand& field, const operand& lit, const std::string& op) {
    if (lit.type != vtype::string) return {};
    const std::string& v = lit.node.str;
    const bool numeric = looks_numeric(v);
    if ((field.type == vtype::number && numeric) || (field.type == vtype::boolean && (v == "true" || v == "false")))
        return drop_quotes_help(field.node.text, op, v);
    return {};
}

// dp-glob-equality: `host == "dev-*"` compares with the literal text, star included.
inline void glob_equality_hint(check_context& cx, const operand& field, const operand& lit, const std::string& op) {
    if (lit.type != vtype::string || lit.dynamic) return;
    const std::string& v = lit.node.str;
    if (field.type == vtype::string && looks_like_glob(v))
        cx.report(diag_code::glob_equality, lit.node.sp,
                   "`" + op + "` compares the whole value; " + quote_string(v) + " looks like a glob pattern",
                   "for a pattern write `" + std::string(op == "!=" ? "not " : "") + field.node.text + " matches " +
                       quote_string(v) + "`");
}

// Regular-expression syntax in a glob (`^dev-.*$`, `dev-{1,2}`): the glob would match it literally.
inline void regex_in_glob_hint(check_context& cx, const expr& pat) {
    const std::string& p = pat.str;
    const bool anchors = (!p.empty() && p.front() == '^') || (p.size() > 1 && p.back() == '$' && p[p.size() - 2] != '\\');
    const bool dot_star = p.find(".*") != std::string::npos || p.find(".+") != std::string::npos;
    const bool alternatives = p.find('{') != std::string::npos || p.find('|') != std::string::npos ||
                              p.find('(') != std::string::npos || p.find('+') != std::string::npos;
    if (!anchors && !dot_star && !alternatives) return;
    std::string glob = p;
    if (!glob.empty() && glob.front() == '^') glob.erase(0, 1);
    if (glob.size() > 1 && glob.back() == '$') glob.pop_back();
    for (std::size_t at; (at = glob.find(".*")) != std::string::npos;) glob.replace(at, 2, "*");
    for (std::size_t at; (at = glob.find(".+")) != std::string::npos;) glob.replace(at, 2, "?*");
    const bool expressible = glob.find_first_of("{}()|+") == std::string::npos;
    cx.report(diag_code::regex_glob, pat.sp,
               "`matches` takes a glob, not a regular expression: " + quote_string(p) + " is matched literally here",
               expressible ? "the glob spelling is " + quote_string(glob)
                           : "globs have `*`, `?` and `[abc]` only; write alternatives as separate conditions joined by `or`");
}

} // namespace dockpol::dsl::detail
