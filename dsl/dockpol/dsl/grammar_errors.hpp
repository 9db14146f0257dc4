// Syntax error messages, one per anchor rule of grammar.hpp, and the parser
// control that turns a local failure of such a rule into a parse_error.
// The control also bounds the parser's recursion (limits.hpp).
#pragma once
#include <cstddef>
#include <type_traits>

#include <tao/pegtl.hpp>

#include "dockpol/dsl/grammar.hpp"
#include "dockpol/dsl/limits.hpp"

namespace dockpol::dsl::grammar {

template <typename Rule>
inline constexpr const char* error_message = nullptr;

// clang-format off
template<> inline constexpr auto error_message< statement > = "expected a statement: 'default', 'let', 'rule', 'safe' or 'owner label'";
template<> inline constexpr auto error_message< owner_label_word > = "expected 'label' after 'owner'";
template<> inline constexpr auto error_message< owner_name > = "expected the label key as a string, e.g. \"dockpol.owner\"";
template<> inline constexpr auto error_message< safe_kind > = "expected 'host paths' or 'volume drivers' after 'safe'";
template<> inline constexpr auto error_message< safe_value > = "expected a set {\"a\", \"b\"} or the name of a `let` holding one";
template<> inline constexpr auto error_message< statement_end > = "unexpected text; expected 'and', 'or', a comparison or the end of the statement";
template<> inline constexpr auto error_message< indented_statement > = "a statement must start at column 1 (only continuation lines are indented)";
template<> inline constexpr auto error_message< effect > = "expected 'allow' or 'deny'";
template<> inline constexpr auto error_message< let_name > = "expected a name after 'let' (keywords cannot be names)";
template<> inline constexpr auto error_message< let_eq > = "expected '=' after the name";
template<> inline constexpr auto error_message< let_value > = "expected a value: a string, a number, true, false, a set {\"a\", \"b\"} or a name";
template<> inline constexpr auto error_message< rule_name > = "expected a rule name after 'rule' (keywords cannot be names)";
template<> inline constexpr auto error_message< rule_colon > = "expected ':' after the rule name";
template<> inline constexpr auto error_message< condition > = "expected a condition";
template<> inline constexpr auto error_message< term > = "expected a condition: a comparison, a bool field, 'not', 'any', 'all' or '('";
template<> inline constexpr auto error_message< and_expr > = "expected a condition after 'or'";
template<> inline constexpr auto error_message< paren_close > = "expected ')'";
template<> inline constexpr auto error_message< rhs > = "expected a value after the operator";
template<> inline constexpr auto error_message< single_eq_error > = "'=' is not a comparison; use '=='";
template<> inline constexpr auto error_message< loop_var > = "expected a loop variable name after 'any'/'all'";
template<> inline constexpr auto error_message< loop_in > = "expected 'in' after the loop variable";
template<> inline constexpr auto error_message< loop_list > = "expected a list field after 'in'";
template<> inline constexpr auto error_message< loop_colon > = "expected ':' before the predicate";
template<> inline constexpr auto error_message< segment > = "expected a name after '.'";
template<> inline constexpr auto error_message< escape_code > = "unknown escape; a string may use \\\" \\\\ \\n \\t";
template<> inline constexpr auto error_message< string_close > = "unterminated string (strings end on the same line)";
template<> inline constexpr auto error_message< set_close > = "expected a string or '}' (sets hold string literals only)";
// clang-format on

struct errors {
    template <typename Rule>
    static constexpr auto message = error_message<Rule>;
};

// Thrown when conditions nest deeper than max_nesting_depth; reported as dp-limit.
struct nesting_too_deep {
    std::size_t byte = 0;
};

// Per-parse state threaded through the control.
struct parse_state {
    std::size_t depth = 0;
};

template <typename Rule>
struct control : tao::pegtl::must_if<errors>::control<Rule> {
    // `term` is where the grammar recurses (parentheses, `not`, quantifiers).
    static constexpr bool counts_depth = std::is_same_v<Rule, term>;

    template <typename ParseInput, typename... States>
    static void start(const ParseInput& in, parse_state& ps, States&&...) {
        if constexpr (counts_depth) {
            if (++ps.depth > max_nesting_depth) throw nesting_too_deep{in.byte()};
        }
    }
    template <typename ParseInput, typename... States>
    static void success(const ParseInput&, parse_state& ps, States&&...) {
        if constexpr (counts_depth) --ps.depth;
    }
    template <typename ParseInput, typename... States>
    static void failure(const ParseInput& in, parse_state& ps, States&&... st) {
        if constexpr (counts_depth) --ps.depth;
        tao::pegtl::must_if<errors>::control<Rule>::failure(in, ps, st...);
    }
};

} // namespace dockpol::dsl::grammar
