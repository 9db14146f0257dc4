// The .dpol grammar: PEGTL rules only, one per line; no actions, no messages
// (those live in grammar_errors.hpp).
//
// Padding convention: every token rule eats the whitespace *after* it (`sp`),
// never before, so a rule starts exactly at its first significant byte and
// spans in the AST are tight.
//
// Statements and lines: the parser is given one statement at a time. A
// statement starts on a line whose first byte is a letter or `_` (every
// statement starts with a keyword) and runs until the next such line; so a
// condition may continue on indented lines (or a line starting with `}`, `)`),
// and inside a statement a newline is whitespace like any other. This keeps
// one syntax error from swallowing the rest of the file (each statement
// reports its own) and makes "a new statement starts at column 1" the single
// layout rule (see split_statements in parse.hpp).
//
// Precedence, loosest first: `or`, `and`, `not`, comparison. `any x in L: P`
// sits at the `not` level but its predicate P is a full condition, so it runs
// to the end of the enclosing parentheses or rule.
#pragma once
#include <tao/pegtl.hpp>

namespace dockpol::dsl::grammar {

namespace pegtl = tao::pegtl;
using namespace tao::pegtl;
// <csignal> declares ::raise; a translation unit that includes it first would
// make `raise<...>` ambiguous through the using-directive.
using tao::pegtl::raise;

// clang-format off

// A comment runs to the end of its line and counts as whitespace.
struct comment : seq< one< '#' >, until< eolf > > {};
// Whitespace inside a statement, newlines included (statements are pre-split).
struct ws : sor< one< ' ', '\t', '\r', '\n' >, comment > {};
// Optional whitespace after a token.
struct sp : star< ws > {};

// Identifier characters; a keyword must not be followed by one of these.
struct ident_first : ranges< 'a', 'z', 'A', 'Z', '_' > {};
struct ident_other : ranges< 'a', 'z', 'A', 'Z', '0', '9', '_' > {};
// A plain identifier: the first segment of a name.
struct identifier : seq< ident_first, star< ident_other > > {};

// A keyword is the word alone, never the prefix of a longer identifier (`index` is not `in`).
template< typename Word > struct key : seq< Word, not_at< ident_other > > {};
struct kw_default : key< TAO_PEGTL_STRING( "default" ) > {};
struct kw_let : key< TAO_PEGTL_STRING( "let" ) > {};
struct kw_rule : key< TAO_PEGTL_STRING( "rule" ) > {};
struct kw_allow : key< TAO_PEGTL_STRING( "allow" ) > {};
struct kw_deny : key< TAO_PEGTL_STRING( "deny" ) > {};
struct kw_if : key< TAO_PEGTL_STRING( "if" ) > {};
struct kw_and : key< TAO_PEGTL_STRING( "and" ) > {};
struct kw_or : key< TAO_PEGTL_STRING( "or" ) > {};
struct kw_not : key< TAO_PEGTL_STRING( "not" ) > {};
struct kw_in : key< TAO_PEGTL_STRING( "in" ) > {};
struct kw_matches : key< TAO_PEGTL_STRING( "matches" ) > {};
struct kw_covers : key< TAO_PEGTL_STRING( "covers" ) > {};
struct kw_any : key< TAO_PEGTL_STRING( "any" ) > {};
struct kw_all : key< TAO_PEGTL_STRING( "all" ) > {};
struct kw_true : key< TAO_PEGTL_STRING( "true" ) > {};
struct kw_false : key< TAO_PEGTL_STRING( "false" ) > {};
// Every reserved word; none of them can name a `let`, a rule or a loop variable.
struct keyword : sor< kw_default, kw_let, kw_rule, kw_allow, kw_deny, kw_if, kw_and, kw_or, kw_not, kw_in, kw_matches, kw_covers, kw_any, kw_all, kw_true, kw_false > {};
// A name the user defines: an identifier that is not a keyword.
struct name : seq< not_at< keyword >, identifier > {};

// After a dot any word is allowed, keywords and dashes included (`query.all`, `host.labels.data-center`).
struct segment : plus< sor< ident_other, one< '-' > > > {};
// A field, a `let` name or a loop variable with sub-path: `container.labels.team`, `m.Type`.
struct dotted : seq< name, star< one< '.' >, must< segment > > > {};

// The escapes a string may use; anything else after a backslash is an error.
struct escape_code : one< '"', '\\', 'n', 't' > {};
// A backslash escape inside a string.
struct escaped : seq< one< '\\' >, must< escape_code > > {};
// Strings live on one line: a raw newline means the closing quote is missing.
struct plain_char : not_one< '"', '\\', '\n', '\r' > {};
// The closing quote, its own rule so a missing one gets its own message.
struct string_close : one< '"' > {};
// A double-quoted string literal.
struct string_lit : seq< one< '"' >, star< sor< escaped, plain_char > >, must< string_close > > {};

// An integer or decimal, optionally negative; `1.x` and `1a` are not numbers.
struct number : seq< opt< one< '-' > >, plus< digit >, opt< one< '.' >, plus< digit > >, not_at< ident_other > > {};
// The closing brace of a set, or the reason a set is malformed (sets hold string literals only).
struct set_close : one< '}' > {};
// A set element after a comma (a trailing comma is allowed).
struct set_more : seq< one< ',' >, sp, opt< string_lit, sp > > {};
// A set of string literals: `{"a", "b"}`.
struct set_lit : seq< one< '{' >, sp, opt< string_lit, sp, star< set_more > >, must< set_close > > {};

// `true` or `false`.
struct bool_lit : sor< kw_true, kw_false > {};
// Anything a comparison can compare, a `let` can hold, or a bool operand alone.
struct operand : sor< string_lit, number, set_lit, bool_lit, dotted > {};

// The comparison operators, longest first so `<=` is not read as `<`.
struct op_eq : string< '=', '=' > {};
struct op_ne : string< '!', '=' > {};
struct op_le : string< '<', '=' > {};
struct op_ge : string< '>', '=' > {};
struct op_lt : one< '<' > {};
struct op_gt : one< '>' > {};
// A lone `=` is a common slip for `==`.
struct single_eq : one< '=' > {};
// Raised (never matched) after a lone `=`, so the slip gets its own message.
struct single_eq_error : one< '=' > {};
// Any comparison operator.
struct cmp_op : sor< op_eq, op_ne, op_le, op_ge, op_lt, op_gt, kw_in, kw_matches, kw_covers > {};
// The right-hand side of a comparison, its own rule for its message.
struct rhs : operand {};
// `a OP b`, or a single operand (a bool field, `true`, a name) used as a condition.
struct comparison : seq< operand, sp, opt< sor< seq< cmp_op, sp, must< rhs > >, seq< at< single_eq >, raise< single_eq_error > > >, sp > > {};

struct condition;
// A condition where one is required (after `if`, `(`, `not`, `and`, `or`, `:`).
struct term;
// The closing parenthesis of a group.
struct paren_close : one< ')' > {};
// A parenthesised condition.
struct paren_expr : seq< one< '(' >, sp, must< condition >, must< paren_close >, sp > {};
// `not` applies to the next term only: `not a in S` is `not (a in S)`.
struct not_expr : seq< kw_not, sp, must< term > > {};
// The loop variable of `any`/`all`.
struct loop_var : name {};
// The `in` of a quantifier, its own rule for its message.
struct loop_in : kw_in {};
// The list a quantifier ranges over (a field).
struct loop_list : dotted {};
// The colon before a quantifier's predicate.
struct loop_colon : one< ':' > {};
// The quantifier kind, kept as a node.
struct quant_kind : sor< kw_any, kw_all > {};
// `any x in LIST: PRED`; PRED runs to the end of the enclosing parentheses or rule.
struct quantifier : seq< quant_kind, sp, must< loop_var >, sp, must< loop_in >, sp, must< loop_list >, sp, must< loop_colon >, sp, must< condition > > {};
// One operand of `and`.
struct term : sor< not_expr, quantifier, paren_expr, comparison > {};
// Terms joined by `and`.
struct and_expr : seq< term, star< kw_and, sp, must< term > > > {};
// `and` groups joined by `or`; this is a whole condition.
struct or_expr : seq< and_expr, star< kw_or, sp, must< and_expr > > > {};
// A condition (the entry point of the recursive part).
struct condition : or_expr {};

// The words of a `safe` statement; `safe` is not reserved (it starts a statement only at column 1).
struct kw_safe : key< TAO_PEGTL_STRING( "safe" ) > {};
struct kw_host : key< TAO_PEGTL_STRING( "host" ) > {};
struct kw_paths : key< TAO_PEGTL_STRING( "paths" ) > {};
struct kw_volume : key< TAO_PEGTL_STRING( "volume" ) > {};
struct kw_drivers : key< TAO_PEGTL_STRING( "drivers" ) > {};
// What a `safe` statement declares: `host paths` or `volume drivers`.
struct safe_kind : sor< seq< kw_host, sp, kw_paths >, seq< kw_volume, sp, kw_drivers > > {};
// The value of a `safe` statement: a set, or a `let` name holding one.
struct safe_value : sor< set_lit, dotted > {};
// `safe host paths {...}` / `safe volume drivers {...}`: what host_access does not count.
struct safe_stmt : seq< kw_safe, sp, must< safe_kind >, sp, must< safe_value >, sp > {};

// The words of an `owner label` statement; neither is reserved (`owner` starts a statement only at column 1).
struct kw_owner : key< TAO_PEGTL_STRING( "owner" ) > {};
struct kw_label : key< TAO_PEGTL_STRING( "label" ) > {};
// `label` after `owner`, its own rule for its message.
struct owner_label_word : kw_label {};
// The label key, a string literal.
struct owner_name : string_lit {};
// `owner label "NAME"`: the label that records who owns an object.
struct owner_stmt : seq< kw_owner, sp, must< owner_label_word >, sp, must< owner_name >, sp > {};

// `allow` or `deny`.
struct effect : sor< kw_allow, kw_deny > {};
// `own` after `allow`: the rule decides only for the caller's own objects (not reserved).
struct own_mark : key< TAO_PEGTL_STRING( "own" ) > {};
// `default allow|deny`: the decision when no rule matches.
struct default_stmt : seq< kw_default, sp, must< effect >, sp > {};
// The name a `let` defines.
struct let_name : name {};
// The `=` of a `let`.
struct let_eq : one< '=' > {};
// The value of a `let`: a constant or another name.
struct let_value : operand {};
// `let NAME = VALUE`.
struct let_stmt : seq< kw_let, sp, must< let_name >, sp, must< let_eq >, sp, must< let_value >, sp > {};
// The name of a rule (shown in denials and audit events).
struct rule_name : name {};
// The colon after a rule name.
struct rule_colon : one< ':' > {};
// The optional `if CONDITION` of a rule.
struct rule_if : seq< kw_if, sp, must< condition > > {};
// `rule NAME: allow [own]|deny [if CONDITION]`.
struct rule_stmt : seq< kw_rule, sp, must< rule_name >, sp, must< rule_colon >, sp, must< effect >, sp, opt< own_mark, sp >, opt< rule_if > > {};
// Any statement.
struct statement : sor< default_stmt, let_stmt, rule_stmt, safe_stmt, owner_stmt > {};
// A statement keyword where a statement already ended: probably a statement that is indented.
struct statement_keyword : sor< kw_rule, kw_let, kw_default, kw_safe, kw_owner > {};
// Raised (never matched) for an indented statement: statements start at column 1.
struct indented_statement : statement_keyword {};
// Nothing may follow a complete statement except whitespace and comments.
struct statement_end : sor< eof, seq< at< statement_keyword >, raise< indented_statement > > > {};
// One pre-split statement: the unit the parser runs on.
struct chunk : seq< sp, must< statement >, sp, must< statement_end > > {};

// clang-format on

} // namespace dockpol::dsl::grammar
