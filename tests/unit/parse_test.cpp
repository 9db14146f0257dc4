// Parser: AST shape and spans, precedence, statement splitting, comments kept
// for fmt, syntax error messages and positions, and the parse-time limits.
#include <catch2/catch.hpp>

#include <tao/pegtl/contrib/analyze.hpp>

#include "dockpol/dsl/parse.hpp"
#include "dsl_test_util.hpp"

// Each test file is its own namespace: the test executables are unity builds.
namespace parse_test {

using namespace dockpol::dsl;
using dsl_test::analyze_text;
using dsl_test::with_code;

namespace {

policy parse_ok(const std::string& text) {
    std::vector<diagnostic> ds;
    policy p = parse_policy({source_file{"t.dpol", text}}, ds);
    INFO(render_text(ds, p.files));
    REQUIRE(ds.empty());
    return p;
}

diagnostic single_parse_error(const std::string& text) {
    std::vector<diagnostic> ds;
    policy p = parse_policy({source_file{"t.dpol", text}}, ds);
    INFO(render_text(ds, p.files));
    REQUIRE(ds.size() == 1);
    return ds[0];
}

} // namespace

TEST_CASE("parse: the grammar has no rules that can loop without consuming input") {
    CHECK(tao::pegtl::analyze<grammar::chunk>() == 0);
}

TEST_CASE("parse: statements of the language reference example") {
    const auto f = dsl_test::fixture("design.dpol");
    std::vector<diagnostic> ds;
    const policy p = parse_policy({f}, ds);
    REQUIRE(ds.empty());
    REQUIRE(p.def);
    CHECK(p.def->eff == dockpol::rt::effect::deny);
    CHECK(p.def->sp.line == 2);
    REQUIRE(p.lets.size() == 1);
    CHECK(p.lets[0].name == "readonly");
    CHECK(p.lets[0].value.kind == expr_kind::set_lit);
    CHECK(p.lets[0].value.items.size() == 7);
    CHECK(p.lets[0].value.items[6].str == "system_info");
    CHECK(p.lets[0].value.items[3].sp.line == 5);   // the continuation line
    REQUIRE(p.rules.size() == 5);
    CHECK(p.rules[0].name == "no_privileged");
    CHECK(p.rules[0].name_sp.line == 7);
    CHECK(p.rules[0].name_sp.column == 6);
    CHECK(p.rules[0].eff == dockpol::rt::effect::deny);
    CHECK(p.rules[3].name == "admins");
    CHECK(p.rules[3].eff == dockpol::rt::effect::allow);
    REQUIRE(p.parsed.size() == 1);
    CHECK(p.parsed[0].statements.size() == 7);
    CHECK(p.parsed[0].statements[0].comments ==
          std::vector<std::string>{"# Ordered rules: the first rule whose condition holds decides."});
}

TEST_CASE("parse: owner label and `allow own`") {
    std::vector<diagnostic> ds;
    const policy p = parse_policy({source_file{"t.dpol", "owner label \"dockpol.owner\"\n"
                                                         "rule a: allow own if action == \"container_list\"\n"
                                                         "rule b: allow own\n"
                                                         "rule c: allow if owner == user\n"
                                                         "rule own: deny\n"}},
                                  ds);
    REQUIRE(ds.empty());
    REQUIRE(p.owners.size() == 1);
    CHECK(p.owners[0].name.str == "dockpol.owner");
    CHECK(p.owners[0].name.sp.column == 13);
    CHECK(p.owners[0].sp.line == 1);
    REQUIRE(p.rules.size() == 4);
    CHECK(p.rules[0].own);
    CHECK(p.rules[0].own_sp.line == 2);
    CHECK(p.rules[0].own_sp.column == 15);
    CHECK(p.rules[0].cond.has_value());
    CHECK(p.rules[1].own);
    CHECK_FALSE(p.rules[1].cond.has_value());
    // `owner` and `own` are not reserved: a name elsewhere.
    CHECK_FALSE(p.rules[2].own);
    CHECK(p.rules[2].cond->items[0].text == "owner");
    CHECK(p.rules[3].name == "own");
    REQUIRE(p.parsed[0].statements.size() == 5);
    CHECK(p.parsed[0].statements[0].kind == stmt_kind::owner);

    struct row { const char* text; const char* message; std::uint32_t column; };
    const row errors[] = {
        {"owner \"dockpol.owner\"\n", "expected 'label' after 'owner'", 7},
        {"owner label dockpol\n", "expected the label key as a string, e.g. \"dockpol.owner\"", 13},
        {"rule r: deny own\n", "`own` applies to `allow` rules only", 14},
    };
    for (const auto& r : errors) {
        INFO(r.text);
        std::vector<diagnostic> es;
        (void)parse_policy({source_file{"t.dpol", r.text}}, es);
        REQUIRE(es.size() == 1);
        CHECK(es[0].code == diag_code::parse);
        CHECK(es[0].message == r.message);
        CHECK(es[0].sp.column == r.column);
    }
}

TEST_CASE("parse: precedence is not > and > or; `not x in S` is `not (x in S)`") {
    const policy p = parse_ok(dsl_test::read_text(dsl_test::fixture_path("precedence.dpol")));
    const expr& r1 = *p.rules[0].cond;
    REQUIRE(r1.kind == expr_kind::or_);
    REQUIRE(r1.items.size() == 2);
    CHECK(r1.items[0].kind == expr_kind::compare);
    REQUIRE(r1.items[1].kind == expr_kind::and_);
    CHECK(r1.items[1].items[1].kind == expr_kind::not_);
    CHECK(r1.items[1].items[1].items[0].kind == expr_kind::compare);

    const expr& r2 = *p.rules[1].cond;
    REQUIRE(r2.kind == expr_kind::not_);
    CHECK(r2.items[0].kind == expr_kind::compare);
    CHECK(r2.items[0].op == compare_op::in);
    CHECK(r2.items[0].items[0].kind == expr_kind::name_ref);
    CHECK(r2.items[0].items[1].kind == expr_kind::set_lit);
}

TEST_CASE("parse: a quantifier's predicate runs to the end of the rule or parentheses") {
    const policy p = parse_ok(dsl_test::read_text(dsl_test::fixture_path("precedence.dpol")));
    const expr& r3 = *p.rules[2].cond;
    REQUIRE(r3.kind == expr_kind::and_);
    REQUIRE(r3.items.size() == 2);
    const expr& q = r3.items[1];
    REQUIRE(q.kind == expr_kind::any);
    CHECK(q.text == "m");
    CHECK(q.items[0].kind == expr_kind::field);
    CHECK(q.items[0].text == "body.HostConfig.Mounts");
    CHECK(q.items[1].kind == expr_kind::or_);   // `... or ...` belongs to the predicate

    const expr& r4 = *p.rules[3].cond;
    REQUIRE(r4.kind == expr_kind::and_);
    CHECK(r4.items[0].kind == expr_kind::any);
    CHECK(r4.items[0].items[1].kind == expr_kind::compare);
    CHECK(r4.items[1].kind == expr_kind::compare);
}

TEST_CASE("parse: literals, keyed names and spans") {
    const policy p = parse_ok(dsl_test::read_text(dsl_test::fixture_path("precedence.dpol")));
    const expr& r5 = *p.rules[4].cond;
    REQUIRE(r5.items.size() == 3);
    const expr& uid = r5.items[0];
    CHECK(uid.op == compare_op::ge);
    CHECK(uid.items[1].kind == expr_kind::number_lit);
    CHECK(uid.items[1].num == -1.5);
    CHECK(uid.items[1].text == "-1.5");
    CHECK(r5.items[1].items[0].text == "query.all");          // keywords allowed after a dot
    CHECK(r5.items[2].items[0].text == "host.labels.data-center");
    // Span of `container.uid >= -1.5`: line 5, column 19, tight (no trailing space).
    CHECK(uid.sp.line == 5);
    CHECK(uid.sp.column == 19);
    const auto& text = p.files[0].text;
    CHECK(text.substr(uid.sp.begin, uid.sp.end - uid.sp.begin) == "container.uid >= -1.5");
}

TEST_CASE("parse: string escapes") {
    const policy p = parse_ok("let s = \"a\\\"b\\\\c\\nd\\te\"\n");
    CHECK(p.lets[0].value.str == "a\"b\\c\nd\te");
}

TEST_CASE("parse: columns count code points") {
    std::vector<diagnostic> ds;
    const policy p = parse_policy({source_file{"t.dpol", "let é = 1\n"}}, ds);
    REQUIRE(ds.size() == 1);
    CHECK(ds[0].code == diag_code::parse);
    CHECK(ds[0].sp.column == 5);
    const policy q = parse_ok("rule r: allow if user == \"é\" and host == \"x\"\n");
    CHECK(q.rules[0].cond->items[1].sp.column == 34);   // the 2-byte `é` is one column
}

TEST_CASE("parse: comments are kept with the statement below them, inner ones move above") {
    const auto f = dsl_test::fixture("comments.dpol");
    std::vector<diagnostic> ds;
    const policy p = parse_policy({f}, ds);
    REQUIRE(ds.empty());
    const auto& st = p.parsed[0].statements;
    REQUIRE(st.size() == 3);
    CHECK(st[0].comments == std::vector<std::string>{"# header comment", "# trailing on default"});
    CHECK(st[1].comments == std::vector<std::string>{"# about readonly", "# first"});
    CHECK(st[2].comments == std::vector<std::string>{"# inside the rule"});
    CHECK(p.parsed[0].trailing_comments == std::vector<std::string>{"# the end"});
    CHECK(p.rules[0].cond->kind == expr_kind::and_);
}

TEST_CASE("parse: `#` inside a string is not a comment") {
    const policy p = parse_ok("rule r: allow if user == \"a#b\" # real\n");
    CHECK(p.rules[0].cond->items[1].str == "a#b");
    CHECK(p.parsed[0].statements[0].comments == std::vector<std::string>{"# real"});
}

TEST_CASE("parse: syntax errors carry the table's message and position") {
    struct row { const char* text; const char* message; std::uint32_t line, column; };
    const row rows[] = {
        {"rule r allow\n", "expected ':' after the rule name", 1, 8},
        {"rule r: permit\n", "expected 'allow' or 'deny'", 1, 9},
        {"rule r: allow if\n", "expected a condition: a comparison, a bool field, 'not', 'any', 'all' or '('", 1, 17},
        {"rule r: allow if user == \n", "expected a value after the operator", 1, 25},
        {"rule r: allow if user = \"a\"\n", "'=' is not a comparison; use '=='", 1, 23},
        {"rule r: allow if (user == \"a\"\n", "expected ')'", 1, 30},
        {"rule r: allow if user == \"a\n", "unterminated string (strings end on the same line)", 1, 28},
        {"rule r: allow if user == \"\\q\"\n", "unknown escape; a string may use \\\" \\\\ \\n \\t", 1, 28},
        {"let s = {\"a\", 1}\n", "expected a string or '}' (sets hold string literals only)", 1, 15},
        {"let s \"a\"\n", "expected '=' after the name", 1, 7},
        {"let rule = 1\n", "expected a name after 'let' (keywords cannot be names)", 1, 5},
        {"rule r: allow if any in x: y\n", "expected a loop variable name after 'any'/'all'", 1, 22},
        {"rule r: allow if any p x: y\n", "expected 'in' after the loop variable", 1, 24},
        {"rule r: allow if any p in x y\n", "expected ':' before the predicate", 1, 29},
        {"rule r: allow if host. == \"a\"\n", "expected a name after '.'", 1, 23},
        {"rule r: allow if user == \"a\" and\n", "expected a condition: a comparison, a bool field, 'not', 'any', 'all' or '('", 1, 33},
        {"rule r: allow if user == \"a\" or\n", "expected a condition: a comparison, a bool field, 'not', 'any', 'all' or '('", 1, 32},
        {"rule r: allow user\n", "unexpected text; expected 'and', 'or', a comparison or the end of the statement", 1, 15},
        {"rule r: allow\n  rule s: deny\n", "a statement must start at column 1 (only continuation lines are indented)", 2, 3},
        {"allow everything\n", "expected a statement: 'default', 'let', 'rule', 'safe' or 'owner label'", 1, 1},
    };
    for (const auto& r : rows) {
        INFO(r.text);
        const diagnostic d = single_parse_error(r.text);
        CHECK(d.code == diag_code::parse);
        CHECK(d.message == r.message);
        CHECK(d.sp.line == r.line);
        CHECK(d.sp.column == r.column);
    }
}

TEST_CASE("parse: one error per statement, the rest of the file still parses") {
    std::vector<diagnostic> ds;
    const policy p = parse_policy({source_file{"t.dpol", "rule a allow\nrule b: allow\nrule c: nope\nrule d: deny\n"}}, ds);
    REQUIRE(ds.size() == 2);
    CHECK(ds[0].sp.line == 1);
    CHECK(ds[1].sp.line == 3);
    REQUIRE(p.rules.size() == 2);
    CHECK(p.rules[0].name == "b");
    CHECK(p.rules[1].name == "d");
}

TEST_CASE("parse: invalid UTF-8 is rejected with its position") {
    const diagnostic d = single_parse_error("rule r: allow if user == \"\xff\"\n");
    CHECK(d.code == diag_code::parse);
    CHECK(d.message == "invalid UTF-8 in the source");
    CHECK(d.sp.column == 27);
}

TEST_CASE("parse: several files form one policy in order") {
    std::vector<diagnostic> ds;
    const policy p = parse_policy({source_file{"a.dpol", "rule a1: allow\nrule a2: deny\n"},
                                   source_file{"b.dpol", "default deny\nrule b1: allow\n"}},
                                  ds);
    REQUIRE(ds.empty());
    REQUIRE(p.rules.size() == 3);
    CHECK(p.rules[2].name == "b1");
    CHECK(p.rules[2].sp.file == 1);
    CHECK(p.def->sp.file == 1);
    CHECK(p.parsed[1].statements.size() == 2);
}

TEST_CASE("limit: nesting depth") {
    auto nested = [](std::size_t n) {
        return "rule r: allow if " + std::string(n, '(') + "user == \"a\"" + std::string(n, ')') + "\n";
    };
    CHECK(with_code(analyze_text(nested(max_nesting_depth - 1)).diagnostics, "dp-limit").empty());
    const auto ds = with_code(analyze_text(nested(max_nesting_depth + 5)).diagnostics, "dp-limit");
    REQUIRE(ds.size() == 1);
    CHECK(ds[0].message == "condition is nested more than 32 levels deep (parentheses, 'not', 'any'/'all')");
    CHECK(ds[0].sp.line == 1);
    // A deep `not` chain is bounded the same way (and does not overflow the stack).
    std::string nots = "rule r: allow if ";
    for (int i = 0; i < 100000; ++i) nots += "not ";
    nots += "container.privileged\n";
    CHECK(with_code(analyze_text(nots).diagnostics, "dp-limit").size() == 1);
}

TEST_CASE("limit: file size") {
    std::string text = "default deny\n";
    while (text.size() <= max_file_bytes) text += "# padding padding padding padding padding padding padding\n";
    const auto ds = analyze_text(text).diagnostics;
    const auto lim = with_code(ds, "dp-limit");
    REQUIRE(lim.size() == 1);
    CHECK(lim[0].message == "file is " + std::to_string(text.size()) + " bytes; the limit is 1048576");
    CHECK(lim[0].sp.line == 1);
}

TEST_CASE("limit: string length") {
    const std::string ok(max_string_bytes, 'x');
    CHECK(with_code(analyze_text("let s = \"" + ok + "\"\n").diagnostics, "dp-limit").empty());
    const auto ds = with_code(analyze_text("let s = \"" + ok + "x\"\n").diagnostics, "dp-limit");
    REQUIRE(ds.size() == 1);
    CHECK(ds[0].message == "string literal is 4097 bytes; the limit is 4096");
    CHECK(ds[0].sp.column == 9);
}

TEST_CASE("limit: set size") {
    auto set_of = [](std::size_t n) {
        std::string s = "let s = {";
        for (std::size_t i = 0; i < n; ++i) s += (i ? ", \"e" : "\"e") + std::to_string(i) + "\"";
        return s + "}\n";
    };
    CHECK(with_code(analyze_text(set_of(max_set_elements)).diagnostics, "dp-limit").empty());
    const auto ds = with_code(analyze_text(set_of(max_set_elements + 1)).diagnostics, "dp-limit");
    REQUIRE(ds.size() == 1);
    CHECK(ds[0].message == "set has 4097 elements; the limit is 4096");
}

TEST_CASE("limit: rule count") {
    auto rules = [](std::size_t n) {
        std::string s = "default deny\n";
        for (std::size_t i = 0; i < n; ++i) s += "rule r" + std::to_string(i) + ": allow if user == \"u" + std::to_string(i) + "\"\n";
        return s;
    };
    CHECK(with_code(analyze_text(rules(max_rules)).diagnostics, "dp-limit").empty());
    const auto ds = with_code(analyze_text(rules(max_rules + 1)).diagnostics, "dp-limit");
    REQUIRE(ds.size() == 1);
    CHECK(ds[0].message == "more than 4096 rules in the policy");
    CHECK(ds[0].sp.line == max_rules + 2);
}

TEST_CASE("parse: a closing brace or parenthesis at column 1 continues the statement") {
    const policy p = parse_ok("let s = {\n    \"a\",\n    \"b\",\n}\nrule r: allow if (user == \"a\"\n)\n");
    REQUIRE(p.lets.size() == 1);
    CHECK(p.lets[0].value.items.size() == 2);
    REQUIRE(p.rules.size() == 1);
    CHECK(p.parsed[0].statements.size() == 2);
}

TEST_CASE("parse: stray text before the first statement is reported, not skipped") {
    const diagnostic d = single_parse_error("# c\n  ) oops\nrule r: allow\n");
    CHECK(d.message == "expected a statement: 'default', 'let', 'rule', 'safe' or 'owner label'");
    CHECK(d.sp.line == 2);
    CHECK(d.sp.column == 3);
}

} // namespace parse_test
