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
#pragma once
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "dockpol/dsl/ast.hpp"
#include "dockpol/dsl/detail/text.hpp"
#include "dockpol/dsl/diagnostic.hpp"
#include "dockpol/dsl/limits.hpp"
#include "dockpol/dsl/body_types.hpp"
#include "dockpol/dsl/rule_actions.hpp"
#include "dockpol/dsl/safe_paths.hpp"
#include "dockpol/dsl/suggest.hpp"
#include "dockpol/rt/actions.hpp"
#include "dockpol/rt/fields.hpp"
#include "dockpol/rt/glob.hpp"
#include "dockpol/rt/owner_forms.hpp"
#include "dockpol/rt/owner_label.hpp"

namespace dockpol::dsl {

// `--data FILE.json`: its top-level keys become global constants.
struct data_input {
    std::string name;
    std::string json_text;
};
struct front_options {
    std::vector<data_input> data;
};

namespace detail {

// Spans of values that come from `--data` (no policy file); replaced by the use site when inlined.
inline constexpr std::uint32_t data_file = 0xFFFFFFFFu;

// The static type of an operand.
enum class vtype { string, number, boolean, set, list, groups, action, json };

inline std::string_view describe(vtype t) {
    struct row { vtype t; std::string_view text; };
    static constexpr row table[] = {
        {vtype::string, "a string"}, {vtype::number, "a number"}, {vtype::boolean, "a bool"},
        {vtype::set, "a set"}, {vtype::list, "a list"}, {vtype::groups, "the set of the user's groups"},
        {vtype::action, "an action name"}, {vtype::json, "a JSON value"},
    };
    for (const auto& r : table)
        if (r.t == t) return r.text;
    return "a value";
}

inline vtype type_of_field(rt::field_type t) {
    struct row { rt::field_type f; vtype t; };
    static constexpr row table[] = {
        {rt::field_type::string, vtype::string}, {rt::field_type::number, vtype::number},
        {rt::field_type::boolean, vtype::boolean}, {rt::field_type::list, vtype::list},
        {rt::field_type::groups, vtype::groups}, {rt::field_type::action, vtype::action},
        {rt::field_type::json, vtype::json},
    };
    for (const auto& r : table)
        if (r.f == t) return r.t;
    return vtype::json;
}

// A checked operand: the node plus what the checker knows about it.
struct operand {
    expr node;
    bool dynamic = false;   // a field or loop variable (else a constant)
    vtype type = vtype::string;
    std::string what;       // how to name it in messages: `user`, `"x"`
};

// A `let` or `--data` constant.
struct constant {
    enum class state { unvisited, visiting, done, failed };
    state st = state::unvisited;
    std::optional<std::size_t> let_index;   // none for --data
    std::string data_file_name;
    expr value;                             // resolved value once done
};

// The loop variable in scope inside an any/all predicate.
struct scope {
    const std::string* var = nullptr;
    vtype elem = vtype::string;
    std::string list_name;
};

// Where a field name resolves: the schema row and, for keyed fields, the key.
struct field_ref {
    rt::field_id id{};
    std::string key;
};

inline std::optional<field_ref> resolve_field(std::string_view text) {
    for (const auto& f : rt::field_table)
        if (!f.keyed && f.name == text) return field_ref{f.id, {}};
    std::optional<field_ref> best;
    std::size_t best_len = 0;
    for (const auto& f : rt::field_table) {
        if (!f.keyed || text.size() <= f.name.size() + 1) continue;
        if (text.substr(0, f.name.size()) != f.name || text[f.name.size()] != '.') continue;
        if (f.name.size() > best_len) {
            best_len = f.name.size();
            best = field_ref{f.id, std::string(text.substr(f.name.size() + 1))};
        }
    }
    return best;
}

// Fields that can be absent at run time (so `not` over a comparison on them is true then).
inline bool may_be_absent(rt::field_id id) {
    const auto& fi = rt::info(id);
    return fi.keyed || fi.source != rt::field_source::request || id == rt::field_id::resource_id;
}

struct check_context {
    const policy& pol;
    const front_options& opts;
    std::vector<diagnostic>& diags;
    std::map<std::string, constant, std::less<>> constants;
    checked_policy out;
    std::vector<std::optional<expr>> rule_conds;   // parallel to pol.rules; set when the rule checked clean
    std::vector<bool> rule_ok;
    std::size_t nodes = 0;
    bool node_limit_reported = false;
    // A `--data` file could not be read as a whole: any unknown name may be one of its keys.
    bool data_unread = false;

    // The severity is the code's own (diagnostics.def).
    void report(diag_code code, span sp, std::string msg, std::string help = {}) {
        diags.push_back(make_diag(pol.files, code, sp, std::move(msg), std::move(help)));
    }
    std::string where(span sp) const {
        return (sp.file < pol.files.size() ? pol.files[sp.file].name : std::string("?")) + ":" +
               std::to_string(sp.line) + ":" + std::to_string(sp.column);
    }
};

inline std::string did_you_mean(const std::optional<std::string>& s, bool quote = false) {
    if (!s) return {};
    return "did you mean " + (quote ? quote_string(*s) : "`" + *s + "`") + "?";
}

inline std::vector<std::string> action_names() {
    std::vector<std::string> out;
    for (const auto& a : rt::all_actions()) out.emplace_back(a.name);
    return out;
}

// A string with glob characters, written where a whole value is compared.
inline bool looks_like_glob(std::string_view s) { return s.find_first_of("*?[") != std::string_view::npos; }

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

inline void set_span(expr& e, const span& sp) {
    if (e.sp.file == data_file) e.sp = sp;
    for (auto& c : e.items) set_span(c, sp);
}

inline std::size_t count_nodes(const expr& e) {
    std::size_t n = 1;
    for (const auto& c : e.items) n += count_nodes(c);
    return n;
}

std::optional<expr> resolve_constant(check_context& cx, const std::string& name, span use);

// Resolves a name or dotted name used as an operand.
inline std::optional<operand> resolve_name(check_context& cx, const expr& e, const scope& sc) {
    const std::string& text = e.text;
    const std::string_view first = std::string_view(text).substr(0, text.find('.'));
    if (sc.var && first == *sc.var) {
        operand o;
        o.node.kind = expr_kind::loop_var;
        o.node.sp = e.sp;
        o.node.text = *sc.var;
        o.node.key = text.size() > first.size() ? text.substr(first.size() + 1) : std::string();
        o.dynamic = true;
        o.type = sc.elem;
        o.what = text;
        if (!o.node.key.empty() && sc.elem != vtype::json) {
            cx.report(diag_code::type, e.sp,
                     "the elements of `" + sc.list_name + "` are strings; `" + text + "` has no fields",
                     "use `" + *sc.var + "` itself");
            return std::nullopt;
        }
        return o;
    }
    if (e.kind == expr_kind::name_ref) {
        if (cx.constants.count(text)) {
            auto v = resolve_constant(cx, text, e.sp);
            if (!v) return std::nullopt;
            operand o;
            o.node = std::move(*v);
            set_span(o.node, e.sp);
            cx.nodes += count_nodes(o.node);
            if (cx.nodes > max_checked_nodes) {
                if (!cx.node_limit_reported)
                    cx.report(diag_code::limit, e.sp,
                             "the policy is larger than " + std::to_string(max_checked_nodes) +
                                 " nodes once `let` names are inlined",
                             "use large sets in fewer places");
                cx.node_limit_reported = true;
                return std::nullopt;
            }
            o.dynamic = false;
            o.type = o.node.kind == expr_kind::string_lit ? vtype::string
                   : o.node.kind == expr_kind::number_lit ? vtype::number
                   : o.node.kind == expr_kind::bool_lit   ? vtype::boolean
                                                          : vtype::set;
            o.what = "`" + text + "`";
            return o;
        }
    }
    if (auto f = resolve_field(text)) {
        if (f->id == rt::field_id::resource_owner && cx.pol.owners.empty()) {
            cx.report(diag_code::no_owner_label, e.sp, "`resource.owner` needs an `owner label` statement",
                     "declare the label that records owners, e.g. `owner label \"dockpol.owner\"`");
            return std::nullopt;
        }
        if (sc.var) {
            cx.report(diag_code::type, e.sp,
                     "the predicate of `any`/`all` may only use `" + *sc.var + "` and constants; `" + text +
                         "` is a field",
                     "move the test on `" + text + "` before the `any`/`all`, joined with `and`");
            return std::nullopt;
        }
        operand o;
        o.node.kind = expr_kind::field;
        o.node.sp = e.sp;
        o.node.text = text;
        o.node.id = f->id;
        o.node.key = f->key;
        o.dynamic = true;
        o.type = type_of_field(rt::info(f->id).type);
        o.what = "`" + text + "`";
        return o;
    }
    // A keyed field written without its key.
    if (auto bare = rt::find_field(text); bare && rt::info(*bare).keyed) {
        cx.report(diag_code::unknown_field, e.sp, "field `" + text + "` needs a key, e.g. `" + text + ".NAME`");
        return std::nullopt;
    }
    if (e.kind == expr_kind::name_ref) {
        // `action == container_list`: an action name written without its quotes.
        if (rt::find_action(text) || rt::action_alias(text)) {
            const std::string name = rt::find_action(text) ? text : std::string(*rt::action_alias(text));
            cx.report(diag_code::undefined_name, e.sp, "undefined name `" + text + "`",
                     "action names are strings: write " + quote_string(name));
            return std::nullopt;
        }
        // The dp-data error already stands for it.
        if (cx.data_unread) return std::nullopt;
        std::vector<std::string> cands;
        for (const auto& [n, c] : cx.constants) cands.push_back(n);
        for (const auto& f : rt::field_table)
            if (!f.keyed) cands.emplace_back(f.name);
        if (sc.var) cands.push_back(*sc.var);
        cx.report(diag_code::undefined_name, e.sp, "undefined name `" + text + "`", did_you_mean(closest_match(text, cands)));
        return std::nullopt;
    }
    // Unknown dotted field: suggest a schema name, keeping the key for keyed fields.
    std::vector<std::string> cands;
    const auto segs = static_cast<std::size_t>(std::count(text.begin(), text.end(), '.')) + 1;
    for (const auto& f : rt::field_table) {
        if (!f.keyed) {
            cands.emplace_back(f.name);
            continue;
        }
        const auto fsegs = static_cast<std::size_t>(std::count(f.name.begin(), f.name.end(), '.')) + 1;
        if (segs <= fsegs) continue;
        std::size_t pos = 0;
        for (std::size_t k = 0; k < fsegs; ++k) pos = text.find('.', pos) + 1;
        cands.push_back(std::string(f.name) + "." + text.substr(pos));
    }
    cx.report(diag_code::unknown_field, e.sp, "unknown field `" + text + "`", did_you_mean(closest_match(text, cands)));
    return std::nullopt;
}

inline std::optional<operand> resolve_operand(check_context& cx, const expr& e, const scope& sc) {
    count_work();
    operand o;
    o.node = e;
    o.dynamic = false;
    switch (e.kind) {
    case expr_kind::string_lit: o.type = vtype::string; o.what = quote_string(e.str); return o;
    case expr_kind::number_lit: o.type = vtype::number; o.what = e.text; return o;
    case expr_kind::bool_lit: o.type = vtype::boolean; o.what = e.boolean ? "true" : "false"; return o;
    case expr_kind::set_lit: o.type = vtype::set; o.what = "a set"; return o;
    case expr_kind::name_ref:
    case expr_kind::field: return resolve_name(cx, e, sc);
    default: break;
    }
    cx.report(diag_code::internal, e.sp, "internal error: unexpected operand (please report this)");
    return std::nullopt;
}

inline bool stringish(vtype t) { return t == vtype::string || t == vtype::action || t == vtype::groups; }

std::optional<expr> check_cond(check_context& cx, const expr& e, const scope& sc);

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

inline compare_op flipped(compare_op op) {
    switch (op) {
    case compare_op::lt: return compare_op::gt;
    case compare_op::le: return compare_op::ge;
    case compare_op::gt: return compare_op::lt;
    case compare_op::ge: return compare_op::le;
    default: return op;
    }
}

inline std::string_view op_text(compare_op op) {
    static constexpr std::string_view table[] = {"==", "!=", "in", "matches", "covers", "<", "<=", ">", ">="};
    return table[static_cast<std::size_t>(op)];
}

// Field-to-field `==`/`!=`: two fields of one scalar type (string, number,
// bool), kept in source order. Absent on either side makes both false.
inline std::optional<expr> check_field_pair(check_context& cx, const expr& e, const operand& L, const operand& R) {
    auto scalar = [](vtype t) { return t == vtype::string || t == vtype::number || t == vtype::boolean; };
    for (const operand* o : {&L, &R}) {
        if (scalar(o->type)) continue;
        std::string help;
        if (o->type == vtype::groups)
            help = "`" + o->node.text + "` is the set of the user's groups; compare it with a constant (`" +
                   o->node.text + " == \"dev\"`) or use `in`";
        else if (o->type == vtype::list)
            help = "test its elements with `any x in " + o->node.text + ": ...` against constants";
        else if (o->type == vtype::action)
            help = "compare `action` with an action name or a set of them";
        else
            help = "two fields compare only when both are strings, numbers or bools";
        cx.report(diag_code::type, o->node.sp,
                 "`" + std::string(op_text(e.op)) + "` between two fields needs one value on each side; " + o->what +
                     " is " + std::string(describe(o->type)),
                 std::move(help));
        return std::nullopt;
    }
    if (L.type != R.type) {
        cx.report(diag_code::type, e.sp,
                 "cannot compare " + L.what + " (" + std::string(describe(L.type)) + ") with " + R.what + " (" +
                     std::string(describe(R.type)) + ")",
                 "two fields compare only when they have the same type");
        return std::nullopt;
    }
    expr out = e;
    out.items = {L.node, R.node};
    return out;
}

// A string literal that spells a number ("0", "-1.5"): the quotes are probably a slip.
inline bool looks_numeric(std::string_view v) {
    return !v.empty() && v.find_first_not_of("-0123456789.") == std::string_view::npos &&
           std::isdigit(static_cast<unsigned char>(v.back()));
}

// `container.uid == "0"`: a number or bool field compared with the same value in quotes.
inline std::string quoted_literal_help(const operand& field, const operand& lit, const std::string& op) {
    if (lit.type != vtype::string) return {};
    const std::string& v = lit.node.str;
    const bool numeric = looks_numeric(v);
    if ((field.type == vtype::number && numeric) || (field.type == vtype::boolean && (v == "true" || v == "false")))
        return "drop the quotes: `" + field.node.text + " " + op + " " + v + "`";
    return {};
}

// Warnings for comparisons that compile but rarely mean what they say.
inline void literal_hints(check_context& cx, const operand& field, const operand& lit, const std::string& op) {
    if (lit.type != vtype::string || lit.dynamic) return;
    const std::string& v = lit.node.str;
    // `host == "dev-*"` compares with the literal text, star included.
    if (field.type == vtype::string && looks_like_glob(v))
        cx.report(diag_code::glob_equality, lit.node.sp,
                   "`" + op + "` compares the whole value; " + quote_string(v) + " looks like a glob pattern",
                   "for a pattern write `" + std::string(op == "!=" ? "not " : "") + field.node.text + " matches " +
                       quote_string(v) + "`");
    // Body paths with a quoted `true` or number: stage_body_types, which knows the rule's actions.
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

inline std::optional<expr> check_compare(check_context& cx, const expr& e, const scope& sc) {
    auto lo = resolve_operand(cx, e.items[0], sc);
    auto ro = resolve_operand(cx, e.items[1], sc);
    if (!lo || !ro) return std::nullopt;
    operand L = std::move(*lo), R = std::move(*ro);
    expr out = e;
    const std::string op(op_text(e.op));
    auto type_error = [&](std::string msg, std::string help = {}) {
        cx.report(diag_code::type, e.sp, std::move(msg), std::move(help));
        return std::nullopt;
    };
    auto finish = [&](operand a, operand b, compare_op o) -> std::optional<expr> {
        out.op = o;
        out.items = {std::move(a.node), std::move(b.node)};
        return out;
    };

    const bool two_fields = L.node.kind == expr_kind::field && R.node.kind == expr_kind::field;
    if ((e.op == compare_op::eq || e.op == compare_op::ne) && two_fields) return check_field_pair(cx, e, L, R);
    if (e.op != compare_op::in && L.dynamic == R.dynamic)
        return L.dynamic ? type_error("`" + op + "` compares two fields; one side must be a constant",
                                      two_fields ? "only `==` and `!=` compare two fields" : "")
                         : type_error("`" + op + "` compares two constants; one side must be a field");

    switch (e.op) {
    case compare_op::eq:
    case compare_op::ne: {
        if (!L.dynamic) std::swap(L, R);
        if (R.type == vtype::set)
            return type_error("`" + op + "` compares with one value, not a set", "use `in` to test membership");
        const bool ok = L.type == vtype::json || (stringish(L.type) && R.type == vtype::string) ||
                        (L.type == vtype::number && R.type == vtype::number) ||
                        (L.type == vtype::boolean && R.type == vtype::boolean);
        if (!ok)
            return type_error("cannot compare " + L.what + " (" + std::string(describe(L.type)) + ") with " +
                                  R.what + " (" + std::string(describe(R.type)) + ")",
                              quoted_literal_help(L, R, op));
        if (L.type == vtype::action && !check_action_name(cx, R.node)) return std::nullopt;
        literal_hints(cx, L, R, op);
        return finish(std::move(L), std::move(R), e.op);
    }
    case compare_op::lt:
    case compare_op::le:
    case compare_op::gt:
    case compare_op::ge: {
        compare_op o = e.op;
        if (!L.dynamic) {
            std::swap(L, R);
            o = flipped(o);
        }
        if (!(L.type == vtype::number || L.type == vtype::json))
            return type_error("`" + op + "` compares numbers; " + L.what + " is " + std::string(describe(L.type)));
        if (R.type != vtype::number)
            return type_error("`" + op + "` compares numbers; " + R.what + " is " + std::string(describe(R.type)));
        return finish(std::move(L), std::move(R), o);
    }
    case compare_op::in: {
        if (!R.dynamic && R.type == vtype::set) {
            if (!L.dynamic) return type_error("`in` compares two constants; the left side must be a field");
            if (!(stringish(L.type) || L.type == vtype::json || L.type == vtype::list))
                return type_error("sets hold strings; " + L.what + " is " + std::string(describe(L.type)));
            if (L.type == vtype::action) {
                bool all_ok = true;
                for (const auto& s : R.node.items) all_ok = check_action_name(cx, s) && all_ok;
                if (!all_ok) return std::nullopt;
            }
            return finish(std::move(L), std::move(R), e.op);
        }
        if (R.dynamic && (R.type == vtype::list || R.type == vtype::groups || R.type == vtype::json)) {
            if (L.dynamic) return type_error("`in` compares two fields; one side must be a constant");
            if (L.type != vtype::string)
                return type_error("the left of `in` must be one string when the right is a list; " + L.what +
                                  " is " + std::string(describe(L.type)));
            return finish(std::move(L), std::move(R), e.op);
        }
        if (!R.dynamic && R.type == vtype::string)
            return type_error("`in` needs a set or a list field on its right; " + R.what + " is a string",
                              "use `==` to compare with one value");
        return type_error("`in` needs a set or a list field on its right; " + R.what + " is " +
                          std::string(describe(R.type)));
    }
    case compare_op::matches: {
        if (!L.dynamic)
            return type_error("the pattern goes on the right: " + R.what + " matches " + L.what);
        if (R.type != vtype::string)
            return type_error("`matches` needs a glob pattern string on its right; " + R.what + " is " +
                              std::string(describe(R.type)));
        if (L.type == vtype::groups)
            return type_error("`" + L.node.text + "` is a set of names; `matches` needs one string",
                              "use `any g in groups: g matches " + R.what + "`");
        if (L.type == vtype::list)
            return type_error(L.what + " is a list; `matches` needs one string",
                              "use `any x in " + L.node.text + ": x matches " + R.what + "`");
        if (!(L.type == vtype::string || L.type == vtype::action || L.type == vtype::json))
            return type_error("`matches` needs a string; " + L.what + " is " + std::string(describe(L.type)));
        auto g = rt::compile_glob(R.node.str);
        if (auto* err = std::get_if<std::string>(&g)) {
            cx.report(diag_code::bad_glob, R.node.sp, "malformed glob " + R.what + ": " + *err);
            return std::nullopt;
        }
        regex_in_glob_hint(cx, R.node);
        if (L.type == vtype::action) {
            out.items = {L.node, R.node};
            return expand_action_glob(cx, out, std::get<rt::glob>(g), R.node);
        }
        return finish(std::move(L), std::move(R), e.op);
    }
    case compare_op::covers: {
        const operand& d = L.dynamic ? L : R;
        const operand& c = L.dynamic ? R : L;
        if (d.type == vtype::list || d.type == vtype::groups)
            return type_error("`covers` compares one path; " + d.what + " is a list",
                              "use `any p in " + d.node.text + ": p covers ...`");
        if (!(d.type == vtype::string || d.type == vtype::json))
            return type_error("`covers` compares paths; " + d.what + " is " + std::string(describe(d.type)));
        if (c.type != vtype::string)
            return type_error("`covers` compares paths; " + c.what + " is " + std::string(describe(c.type)));
        return finish(std::move(L), std::move(R), e.op);
    }
    }
    return std::nullopt;
}

inline std::optional<expr> check_quantifier(check_context& cx, const expr& e, const scope& sc) {
    if (sc.var) {
        cx.report(diag_code::type, e.sp, "`any`/`all` cannot be nested inside another `any`/`all`");
        return std::nullopt;
    }
    auto list = resolve_operand(cx, e.items[0], sc);
    if (!list) return std::nullopt;
    if (!list->dynamic || !(list->type == vtype::list || list->type == vtype::groups || list->type == vtype::json)) {
        cx.report(diag_code::type, e.items[0].sp,
                 "`" + std::string(e.kind == expr_kind::any ? "any" : "all") + "` needs a list field; " + list->what +
                     " is " + std::string(describe(list->type)));
        return std::nullopt;
    }
    scope inner;
    inner.var = &e.text;
    inner.elem = list->type == vtype::json ? vtype::json : vtype::string;
    inner.list_name = e.items[0].text;
    auto pred = check_cond(cx, e.items[1], inner);
    if (!pred) return std::nullopt;
    expr out = e;
    out.items = {std::move(list->node), std::move(*pred)};
    return out;
}

inline std::optional<expr> check_cond(check_context& cx, const expr& e, const scope& sc) {
    count_work();
    switch (e.kind) {
    case expr_kind::and_:
    case expr_kind::or_:
    case expr_kind::not_: {
        expr out = e;
        bool ok = true;
        for (auto& item : out.items) {
            auto c = check_cond(cx, item, sc);
            if (c) item = std::move(*c);
            else ok = false;
        }
        return ok ? std::optional<expr>(std::move(out)) : std::nullopt;
    }
    case expr_kind::compare: return check_compare(cx, e, sc);
    case expr_kind::any:
    case expr_kind::all: return check_quantifier(cx, e, sc);
    default: break;
    }
    // An operand alone must be a bool.
    auto o = resolve_operand(cx, e, sc);
    if (!o) return std::nullopt;
    if (o->type == vtype::boolean || o->type == vtype::json) return o->node;
    if (o->dynamic)
        cx.report(diag_code::type, e.sp, o->what + " is " + std::string(describe(o->type)) + ", not a condition",
                 "compare it, e.g. `" + e.text + " == \"...\"`");
    else
        cx.report(diag_code::type, e.sp, o->what + " is " + std::string(describe(o->type)) + ", not a condition");
    return std::nullopt;
}

inline std::optional<expr> resolve_constant(check_context& cx, const std::string& name, span use) {
    auto it = cx.constants.find(name);
    constant& c = it->second;
    if (c.st == constant::state::done) return c.value;
    if (c.st == constant::state::failed) return std::nullopt;
    if (c.st == constant::state::visiting) {
        cx.report(diag_code::undefined_name, use, "`" + name + "` is defined in terms of itself");
        c.st = constant::state::failed;
        return std::nullopt;
    }
    c.st = constant::state::visiting;
    const let_decl& d = cx.pol.lets[*c.let_index];
    std::optional<expr> v;
    if (d.value.kind == expr_kind::name_ref && cx.constants.count(d.value.text)) {
        v = resolve_constant(cx, d.value.text, d.value.sp);
    } else if (d.value.kind == expr_kind::name_ref || d.value.kind == expr_kind::field) {
        if (resolve_field(d.value.text) || rt::find_field(d.value.text))
            cx.report(diag_code::type, d.value.sp, "a `let` holds a constant; `" + d.value.text + "` is a field",
                     "use the field directly in rule conditions");
        else if (!cx.data_unread)
            cx.report(diag_code::undefined_name, d.value.sp, "undefined name `" + d.value.text + "`");
    } else {
        v = d.value;
    }
    if (c.st == constant::state::failed || !v) {
        c.st = constant::state::failed;
        return std::nullopt;
    }
    c.st = constant::state::done;
    c.value = *v;
    return v;
}

// ---- stages ----

inline bool is_name(std::string_view s) {
    if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
    for (char ch : s)
        if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_')) return false;
    static constexpr std::string_view keywords[] = {"default", "let", "rule", "allow", "deny", "if",
                                                    "and", "or", "not", "in", "matches", "covers",
                                                    "any", "all", "true", "false"};
    for (auto k : keywords)
        if (k == s) return false;
    return true;
}

inline void data_error(check_context& cx, const data_input& in, std::size_t byte, std::string msg) {
    const line_index li(in.json_text);
    diagnostic d;
    d.code = diag_code::data;
    d.sev = code_severity(d.code);
    d.file = in.name;
    d.sp = li.at(data_file, byte, byte + 1);
    d.message = std::move(msg);
    cx.diags.push_back(std::move(d));
}

// `--data` files: top-level object keys → constants (string sets, strings, numbers, bools).
inline void stage_load_data(check_context& cx) {
    for (const auto& in : cx.opts.data) {
        if (in.json_text.size() > max_data_bytes) {
            data_error(cx, in, 0,
                       "data file is " + std::to_string(in.json_text.size()) + " bytes; the limit is " +
                           std::to_string(max_data_bytes));
            cx.data_unread = true;
            continue;
        }
        nlohmann::json j;
        try {
            j = nlohmann::json::parse(in.json_text);
        } catch (const nlohmann::json::parse_error& e) {
            data_error(cx, in, e.byte > 0 ? e.byte - 1 : 0, std::string("malformed JSON: ") + e.what());
            cx.data_unread = true;
            continue;
        }
        if (!j.is_object()) {
            data_error(cx, in, 0, "a data file must be a JSON object whose keys become constants");
            cx.data_unread = true;
            continue;
        }
        for (const auto& item : j.items()) {
            const std::string& key = item.key();
            const nlohmann::json& val = item.value();
            // Point at the key where the file spells it plainly (escaped keys fall back to the start).
            const std::size_t key_at = in.json_text.find("\"" + key + "\"");
            auto fail = [&](std::string why) {
                data_error(cx, in, key_at == std::string::npos ? 0 : key_at, "key \"" + key + "\": " + why);
            };
            // A key with a bad value is still known: its uses fail quietly instead of reading as undefined.
            auto fail_value = [&](std::string why) {
                fail(std::move(why));
                constant c;
                c.st = constant::state::failed;
                c.data_file_name = in.name;
                cx.constants.emplace(key, std::move(c));
            };
            if (!is_name(key)) {
                fail("not a valid name (letters, digits, '_'; not a keyword)");
                continue;
            }
            if (rt::find_field(key)) {
                fail("is a field name");
                continue;
            }
            if (cx.constants.count(key)) {
                fail("is defined twice (also in " + cx.constants[key].data_file_name + ")");
                continue;
            }
            expr v;
            v.sp.file = data_file;
            if (val.is_string()) {
                v.kind = expr_kind::string_lit;
                v.str = val.get<std::string>();
            } else if (val.is_boolean()) {
                v.kind = expr_kind::bool_lit;
                v.boolean = val.get<bool>();
            } else if (val.is_number()) {
                v.kind = expr_kind::number_lit;
                v.num = val.get<double>();
                v.text = val.dump();
            } else if (val.is_array()) {
                v.kind = expr_kind::set_lit;
                bool ok = true;
                for (const auto& el : val) {
                    if (!el.is_string()) {
                        ok = false;
                        break;
                    }
                    expr s;
                    s.kind = expr_kind::string_lit;
                    s.sp.file = data_file;
                    s.str = el.get<std::string>();
                    v.items.push_back(std::move(s));
                }
                if (!ok) {
                    fail_value("arrays must hold strings only (they become sets)");
                    continue;
                }
                if (v.items.size() > max_set_elements) {
                    fail_value("has " + std::to_string(v.items.size()) + " elements; the set limit is " +
                         std::to_string(max_set_elements));
                    continue;
                }
            } else {
                fail_value("must be a string, number, bool or array of strings");
                continue;
            }
            constant c;
            c.st = constant::state::done;
            c.data_file_name = in.name;
            c.value = std::move(v);
            cx.constants.emplace(key, std::move(c));
        }
    }
}

// `let` names: unique, not a field name, no clash with `--data` keys.
inline void stage_collect_lets(check_context& cx) {
    std::map<std::string, std::size_t, std::less<>> seen;
    for (std::size_t i = 0; i < cx.pol.lets.size(); ++i) {
        const let_decl& d = cx.pol.lets[i];
        if (auto it = seen.find(d.name); it != seen.end()) {
            cx.report(diag_code::duplicate_let, d.name_sp, "`" + d.name + "` is already defined",
                     "the first definition is at " + cx.where(cx.pol.lets[it->second].name_sp));
            continue;
        }
        seen.emplace(d.name, i);
        if (rt::find_field(d.name)) {
            cx.report(diag_code::duplicate_let, d.name_sp, "`" + d.name + "` is a field name; a `let` needs another name");
            continue;
        }
        if (auto it = cx.constants.find(d.name); it != cx.constants.end()) {
            cx.report(diag_code::data, d.name_sp,
                     "`" + d.name + "` is defined by this `let` and by data file " + it->second.data_file_name);
            continue;
        }
        constant c;
        c.let_index = i;
        cx.constants.emplace(d.name, std::move(c));
    }
}

// Every `let` value resolves to a constant (checked even when unused).
inline void stage_resolve_lets(check_context& cx) {
    for (const auto& d : cx.pol.lets) {
        auto it = cx.constants.find(d.name);
        if (it != cx.constants.end() && it->second.let_index && &cx.pol.lets[*it->second.let_index] == &d)
            (void)resolve_constant(cx, d.name, d.name_sp);
    }
}

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

// Conditions: names inlined, fields resolved, types and actions checked.
inline void stage_check_rules(check_context& cx) {
    cx.rule_conds.assign(cx.pol.rules.size(), std::nullopt);
    cx.rule_ok.assign(cx.pol.rules.size(), false);
    for (std::size_t i = 0; i < cx.pol.rules.size(); ++i) {
        const rule_decl& r = cx.pol.rules[i];
        if (!r.cond) {
            cx.rule_ok[i] = true;
            continue;
        }
        if (auto c = check_cond(cx, *r.cond, scope{})) {
            cx.rule_conds[i] = std::move(c);
            cx.rule_ok[i] = true;
        }
    }
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

// The two `safe` statements: what each is called and how an entry is checked.
struct safe_row {
    safe_list what;
    std::string_view words;   // as written after `safe`
    std::vector<std::string> checked_policy::*out;
    // An entry's error code, message and help, or none when it is fine.
    std::optional<std::pair<diag_code, unsafe_path>> (*check)(const std::string&);
};
inline std::optional<std::pair<diag_code, unsafe_path>> check_path_entry(const std::string& p) {
    if (auto u = check_safe_host_path(p)) return std::pair{diag_code::unsafe_path, std::move(*u)};
    return std::nullopt;
}
inline std::optional<std::pair<diag_code, unsafe_path>> check_driver_entry(const std::string& d) {
    if (d.empty())
        return std::pair{diag_code::bad_driver,
                         unsafe_path{"a volume driver name cannot be empty", "name the driver, e.g. \"nfs\""}};
    return std::nullopt;
}
inline const safe_row safe_rows[] = {
    {safe_list::host_paths, "host paths", &checked_policy::safe_host_paths, check_path_entry},
    {safe_list::volume_drivers, "volume drivers", &checked_policy::safe_volume_drivers, check_driver_entry},
};

// `safe host paths` / `safe volume drivers`: one of each per policy, a set
// (or a constant holding one), every entry acceptable; sorted and unique.
inline void stage_safe_lists(check_context& cx) {
    for (const auto& row : safe_rows) {
        const safe_decl* first = nullptr;
        for (const auto& d : cx.pol.safes) {
            if (d.what != row.what) continue;
            if (first) {
                cx.report(diag_code::duplicate_safe, d.sp,
                         "a policy has one `safe " + std::string(row.words) + "`; this is a second one",
                         "the first is at " + cx.where(first->sp) + "; merge the sets");
                continue;
            }
            first = &d;
            std::optional<expr> v;
            if (d.value.kind == expr_kind::name_ref && cx.constants.count(d.value.text)) {
                v = resolve_constant(cx, d.value.text, d.value.sp);
                if (v) set_span(*v, d.value.sp);
            } else if (d.value.kind == expr_kind::set_lit) {
                v = d.value;
            } else if (d.value.kind == expr_kind::name_ref) {
                cx.report(diag_code::undefined_name, d.value.sp, "undefined name `" + d.value.text + "`");
                continue;
            } else {
                cx.report(diag_code::type, d.value.sp,
                         "`safe " + std::string(row.words) + "` takes a set; `" + d.value.text + "` is a field");
                continue;
            }
            if (!v) continue;
            if (v->kind != expr_kind::set_lit) {
                cx.report(diag_code::type, d.value.sp,
                         "`safe " + std::string(row.words) + "` takes a set; `" + d.value.text + "` is not one");
                continue;
            }
            std::vector<std::string> entries;
            for (const auto& item : v->items) {
                if (auto bad = row.check(item.str)) {
                    cx.report(bad->first, item.sp, bad->second.message, bad->second.help);
                    continue;
                }
                entries.push_back(item.str);
            }
            std::sort(entries.begin(), entries.end());
            entries.erase(std::unique(entries.begin(), entries.end()), entries.end());
            cx.out.*row.out = std::move(entries);
        }
    }
}

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
                     "declare the label that records owners, e.g. `owner label \"dockpol.owner\"`");
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

// The literal of a checked comparison as the policy wrote it, and its type.
inline std::pair<std::string, vtype> literal_of(const expr& lit) {
    switch (lit.kind) {
    case expr_kind::string_lit: return {quote_string(lit.str), vtype::string};
    case expr_kind::number_lit: return {lit.text.empty() ? std::to_string(lit.num) : lit.text, vtype::number};
    case expr_kind::bool_lit: return {lit.boolean ? "true" : "false", vtype::boolean};
    default: return {"a set", vtype::set};
    }
}

// One comparison of a `body.*` path with a literal. Where the Engine API
// types the path (body_types.hpp) for every action the rule applies to, a
// literal of another type is dp-type: `body.HostConfig.Privileged == "true"`
// never holds, a JSON bool is never a string. Elsewhere a quoted `true` or
// number is only suspicious (dp-quoted-literal). True when it is an error.
inline bool check_body_literal(check_context& cx, const expr& cmp, const std::optional<rt::action_mask>& acts) {
    const expr& path = cmp.items[0];
    const auto [text, type] = literal_of(cmp.items[1]);
    const std::string op(op_text(cmp.op));
    const std::string& v = cmp.items[1].str;
    const bool quoted_bool = type == vtype::string && (v == "true" || v == "false");
    const bool quoted_number = type == vtype::string && looks_numeric(v);
    const auto api = body_path_type(path.key, acts);
    if (!api) {
        if ((cmp.op == compare_op::eq || cmp.op == compare_op::ne) && (quoted_bool || quoted_number))
            cx.report(diag_code::quoted_literal, cmp.items[1].sp,
                       "`" + path.text + "` is compared with the string " + text +
                           ", which a JSON boolean or number never equals",
                       "if the API sends a " + std::string(quoted_number ? "number" : "boolean") +
                           ", drop the quotes: `" + path.text + " " + op + " " + v + "`");
        return false;
    }
    const vtype want = *api == body_type::boolean ? vtype::boolean : vtype::number;
    const bool ordering = cmp.op == compare_op::lt || cmp.op == compare_op::le || cmp.op == compare_op::gt ||
                          cmp.op == compare_op::ge;
    if (type == want && (cmp.op == compare_op::eq || cmp.op == compare_op::ne || (ordering && want == vtype::number)))
        return false;
    std::string help;
    if ((want == vtype::boolean && quoted_bool) || (want == vtype::number && quoted_number))
        help = "drop the quotes: `" + path.text + " " + op + " " + v + "`";
    cx.report(diag_code::type, cmp.sp,
             "cannot compare `" + path.text + "` (" + std::string(describe(want)) + " in the Engine API) with " +
                 text + " (" + std::string(describe(type)) + ")" +
                 (type == want ? " using `" + op + "`" : std::string()),
             std::move(help));
    return true;
}

inline bool check_body_literals(check_context& cx, const expr& e, const std::optional<rt::action_mask>& acts) {
    bool bad = false;
    if (e.kind == expr_kind::compare && e.items.size() == 2 && e.items[0].kind == expr_kind::field &&
        e.items[0].id == rt::field_id::body && e.items[1].kind != expr_kind::field)
        bad = check_body_literal(cx, e, acts);
    for (const auto& i : e.items) bad = check_body_literals(cx, i, acts) || bad;
    return bad;
}

// Body paths compared with literals, against the API's types for the rule's actions.
inline void stage_body_types(check_context& cx) {
    for (std::size_t i = 0; i < cx.pol.rules.size(); ++i) {
        if (!cx.rule_conds[i]) continue;
        if (check_body_literals(cx, *cx.rule_conds[i], rule_action_mask(cx.rule_conds[i]))) {
            cx.rule_ok[i] = false;
            cx.rule_conds[i].reset();
        }
    }
}

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
