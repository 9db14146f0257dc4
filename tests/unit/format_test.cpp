// fmt: the canonical layout (golden), idempotence, and meaning preservation
// (the formatted text checks to the same checked policy).
#include <catch2/catch.hpp>

#include "dsl_test_util.hpp"

// Each test file is its own namespace: the test executables are unity builds.
namespace format_test {

using namespace dockpol::dsl;

namespace {

std::string fmt_text(const std::string& name, const std::string& text) {
    const auto r = analyze({source_file{name, text}});
    for (const auto& d : r.diagnostics) REQUIRE(d.code != diag_code::parse);
    return format_file(r.ast, 0);
}

void same_checked(const checked_policy& a, const checked_policy& b) {
    CHECK(a.default_effect == b.default_effect);
    CHECK(a.safe_host_paths == b.safe_host_paths);
    CHECK(a.safe_volume_drivers == b.safe_volume_drivers);
    CHECK(a.owner_label == b.owner_label);
    REQUIRE(a.rules.size() == b.rules.size());
    for (std::size_t i = 0; i < a.rules.size(); ++i) {
        INFO("rule " << a.rules[i].name);
        CHECK(a.rules[i].name == b.rules[i].name);
        CHECK(a.rules[i].eff == b.rules[i].eff);
        CHECK(a.rules[i].own == b.rules[i].own);
        REQUIRE(a.rules[i].cond.has_value() == b.rules[i].cond.has_value());
        if (a.rules[i].cond) CHECK(same_expr(*a.rules[i].cond, *b.rules[i].cond));
    }
}

const char* const fixtures[] = {"design.dpol", "comments.dpol", "messy.dpol", "normal_forms.dpol", "safe.dpol",
                              "ownership.dpol"};

} // namespace

TEST_CASE("fmt: messy input gets the canonical layout") {
    const auto in = dsl_test::fixture("messy.dpol");
    const std::string want = dsl_test::read_text(dsl_test::fixture_path("messy.formatted.dpol"));
    CHECK(fmt_text(in.name, in.text) == want);
}

TEST_CASE("fmt: owner label and `allow own`") {
    const auto in = dsl_test::fixture("ownership.dpol");
    CHECK(fmt_text(in.name, in.text) == dsl_test::read_text(dsl_test::fixture_path("ownership.formatted.dpol")));
}

TEST_CASE("fmt: comments are kept") {
    const auto in = dsl_test::fixture("comments.dpol");
    CHECK(fmt_text(in.name, in.text) == dsl_test::read_text(dsl_test::fixture_path("comments.formatted.dpol")));
}

TEST_CASE("fmt: formatting twice changes nothing") {
    for (const char* f : fixtures) {
        INFO(f);
        const auto in = dsl_test::fixture(f);
        const std::string once = fmt_text(f, in.text);
        CHECK(fmt_text(f, once) == once);
    }
}

TEST_CASE("fmt: formatting keeps the meaning") {
    for (const char* f : fixtures) {
        INFO(f);
        const auto in = dsl_test::fixture(f);
        const auto before = analyze({in});
        const auto after = analyze({source_file{f, fmt_text(f, in.text)}});
        REQUIRE(before.checked.has_value() == after.checked.has_value());
        if (before.checked) same_checked(*before.checked, *after.checked);
        // The parsed trees match too (names unresolved), which covers policies that do not check.
        REQUIRE(before.ast.rules.size() == after.ast.rules.size());
        for (std::size_t i = 0; i < before.ast.rules.size(); ++i) {
            const auto& a = before.ast.rules[i];
            const auto& b = after.ast.rules[i];
            REQUIRE(a.cond.has_value() == b.cond.has_value());
            if (a.cond) CHECK(same_expr(*a.cond, *b.cond));
        }
    }
}

TEST_CASE("fmt: a quantifier that does not end the condition keeps its parentheses") {
    const std::string out = fmt_text("t.dpol", "rule r: deny if (any p in container.host_paths: p covers \"/\") and user == \"x\"\n");
    CHECK(out == "rule r: deny if (any p in container.host_paths: p covers \"/\") and user == \"x\"\n");
    const std::string tail = fmt_text("t.dpol", "rule r: deny if user == \"x\" and (any p in container.host_paths: p covers \"/\")\n");
    CHECK(tail == "rule r: deny if user == \"x\" and any p in container.host_paths: p covers \"/\"\n");
}

} // namespace format_test
