// The typed syntax tree. Every node has a span. The parser builds it with
// fields as written (`field.text`); the checker resolves each field to the
// schema (`field.id`, `field.key`), inlines `let` names, and expands action
// globs, producing a `checked_policy` that lowering and the reference
// evaluator consume.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dockpol/dsl/source.hpp"
#include "dockpol/rt/fields.hpp"
#include "dockpol/rt/program.hpp"

namespace dockpol::dsl {

enum class expr_kind {
    string_lit,   // str
    number_lit,   // num
    bool_lit,     // boolean
    set_lit,      // items: string_lit elements
    name_ref,     // text: a `let` name or `--data` key (gone after checking)
    field,        // a schema field (text as written; id/key after checking)
    loop_var,     // text: the any/all variable; key: sub-path after it ("" = the element)
    not_,         // items[0]
    and_,         // items: 2+ operands, evaluated left to right
    or_,          // items: 2+ operands
    compare,      // op; items[0] lhs, items[1] rhs
    any,          // text: variable; items[0]: the list (a field); items[1]: the predicate
    all,
};

enum class compare_op { eq, ne, in, matches, covers, lt, le, gt, ge };

// How each operator is written in a policy (indexed by compare_op): the one
// table the formatter and the checker's messages share.
inline std::string_view op_spelling(compare_op op) {
    static constexpr std::string_view table[] = {"==", "!=", "in", "matches", "covers", "<", "<=", ">", ">="};
    return table[static_cast<std::size_t>(op)];
}

// The operator that holds with the operands swapped (`3 < x` is `x > 3`); the
// others are symmetric or, for `in`/`matches`/`covers`, never swapped.
inline compare_op flipped(compare_op op) {
    switch (op) {
    case compare_op::lt: return compare_op::gt;
    case compare_op::le: return compare_op::ge;
    case compare_op::gt: return compare_op::lt;
    case compare_op::ge: return compare_op::le;
    default: return op;
    }
}

struct expr {
    expr_kind kind = expr_kind::bool_lit;
    span sp;
    std::string text;          // field / name / variable as written
    std::string str;           // string_lit value (unescaped)
    double num = 0;
    bool boolean = false;
    compare_op op = compare_op::eq;
    std::vector<expr> items;

    // Set by the checker on `field` nodes.
    rt::field_id id{};
    std::string key;           // keyed fields: the rest of the dotted path; loop_var: sub-path
};

struct default_decl {
    rt::effect eff = rt::effect::deny;
    span sp;
};

struct let_decl {
    std::string name;
    span name_sp;
    expr value;
    span sp;
};

struct rule_decl {
    std::string name;
    span name_sp;
    rt::effect eff = rt::effect::deny;
    bool own = false;          // `allow own`
    span own_sp;               // the `own` keyword, when own
    std::optional<expr> cond;  // none: unconditional
    span sp;
};

// `safe host paths {...}` / `safe volume drivers {...}`: at most one of each per policy.
enum class safe_list { host_paths, volume_drivers };
struct safe_decl {
    safe_list what = safe_list::host_paths;
    expr value;   // set_lit or name_ref, as written
    span sp;
};

// `owner label "NAME"`: at most one per policy (duplicates are the checker's).
struct owner_decl {
    expr name;    // string_lit as written
    span sp;
};

// Comments are kept so `fmt` can reproduce them: each statement owns the
// comment lines directly above it; `trailing` holds comments after the last one.
enum class stmt_kind { default_, let, rule, safe, owner };
struct statement {
    stmt_kind kind;
    std::size_t index;                  // into policy::lets / rules / safes / owners, or 0 for default
    std::vector<std::string> comments;  // full comment lines, with '#'
};

struct parsed_file {
    std::vector<statement> statements;
    std::vector<std::string> trailing_comments;
};

// What the parser produces for a set of files.
struct policy {
    std::vector<source_file> files;
    std::vector<parsed_file> parsed;     // parallel to files
    std::optional<default_decl> def;
    std::vector<let_decl> lets;
    std::vector<rule_decl> rules;        // command-line order, then source order
    std::vector<safe_decl> safes;        // every `safe` statement (duplicates are the checker's)
    std::vector<owner_decl> owners;      // every `owner label` statement (duplicates are the checker's)
};

// What the checker produces: conditions with every name inlined, every
// field resolved, action globs expanded to set literals of action names.
struct checked_rule {
    std::string name;
    rt::effect eff = rt::effect::deny;
    bool own = false;                    // `allow own`
    std::optional<expr> cond;
    rt::source_pos pos;
};

struct checked_policy {
    std::vector<source_file> files;
    rt::effect default_effect = rt::effect::deny;
    std::vector<checked_rule> rules;     // the policy's rules only; lowering appends builtin_ping
    std::vector<std::string> safe_host_paths;       // `safe host paths`, cleaned
    std::vector<std::string> safe_volume_drivers;   // `safe volume drivers`
    std::string owner_label;                        // `owner label "NAME"`; "" = none
};

} // namespace dockpol::dsl
