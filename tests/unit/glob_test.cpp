// Glob compile errors, matching semantics, and the no-blow-up guarantee,
// cross-checked against a tiny exponential reference matcher on random input.
#include <catch2/catch.hpp>

#include <chrono>
#include <random>
#include <string>

#include "dockpol/rt/glob.hpp"

// Each test file is its own namespace: the test executables are unity builds.
namespace glob_test {

using namespace dockpol::rt;

namespace {

glob must_compile(std::string_view p) {
    auto r = compile_glob(p);
    REQUIRE(std::holds_alternative<glob>(r));
    return std::get<glob>(std::move(r));
}

std::string error_of(std::string_view p) {
    auto r = compile_glob(p);
    REQUIRE(std::holds_alternative<std::string>(r));
    return std::get<std::string>(r);
}

bool m(std::string_view p, std::string_view t) { return glob_match(must_compile(p), t); }

// Reference: direct recursive definition over ASCII patterns (no classes).
bool ref_match(std::string_view p, std::string_view t) {
    if (p.empty()) return t.empty();
    if (p[0] == '*') return ref_match(p.substr(1), t) || (!t.empty() && ref_match(p, t.substr(1)));
    if (t.empty()) return false;
    if (p[0] == '?' || p[0] == t[0]) return ref_match(p.substr(1), t.substr(1));
    return false;
}

} // namespace

TEST_CASE("glob: literals, star and question mark") {
    CHECK(m("prod*", "prod-web-1"));
    CHECK(m("prod*", "prod"));
    CHECK_FALSE(m("prod*", "staging-prod"));
    CHECK(m("*prod*", "staging-prod-1"));
    CHECK(m("web-?", "web-1"));
    CHECK_FALSE(m("web-?", "web-12"));
    CHECK_FALSE(m("web-?", "web-"));
    CHECK(m("", ""));
    CHECK_FALSE(m("", "a"));
    CHECK(m("*", ""));
    CHECK(m("a**b", "ab"));
    CHECK(m("container_*", "container_list"));
    CHECK_FALSE(m("container_*", "image_list"));
}

TEST_CASE("glob: character classes and negation") {
    CHECK(m("web-[abc]", "web-b"));
    CHECK_FALSE(m("web-[abc]", "web-d"));
    CHECK(m("v[0-9].[0-9]", "v1.4"));
    CHECK_FALSE(m("v[0-9]", "vx"));
    CHECK(m("[!a]x", "bx"));
    CHECK_FALSE(m("[!a]x", "ax"));
    CHECK(m("[^a]x", "bx"));
    CHECK_FALSE(m("[^a]x", "ax"));
    CHECK(m("[a-]", "-"));          // '-' before ']' is literal
    CHECK(error_of("[]]") == "empty character class at byte 1");  // ']' first closes the class
}

TEST_CASE("glob: escapes make metacharacters literal") {
    CHECK(m("a\\*b", "a*b"));
    CHECK_FALSE(m("a\\*b", "axb"));
    CHECK(m("\\?", "?"));
    CHECK_FALSE(m("\\?", "x"));
    CHECK(m("[\\]]", "]"));
}

TEST_CASE("glob: ? and classes work on code points") {
    CHECK(m("caf?", "café"));
    CHECK(m("[é]", "é"));
    CHECK_FALSE(m("caf?", "caf"));
}

TEST_CASE("glob: compile errors") {
    CHECK(error_of("web-[abc") == "unterminated character class '[' at byte 5");
    CHECK(error_of("x[]") == "empty character class at byte 2");
    CHECK(error_of("[z-a]") == "bad range in glob character class at byte 1: the end is before the start");
    CHECK(error_of("abc\\") == "glob pattern ends with a lone '\\'");
    CHECK(error_of("[!]") == "empty character class at byte 1");
}

TEST_CASE("glob: pattern length limit") {
    std::string ok(max_glob_pattern_bytes, 'a');
    CHECK(std::holds_alternative<glob>(compile_glob(ok)));
    std::string too_long(max_glob_pattern_bytes + 1, 'a');
    CHECK(error_of(too_long) == "glob pattern is longer than 1024 bytes");
}

TEST_CASE("glob: agrees with the reference matcher on random inputs") {
    std::mt19937 rng(12345);
    const std::string alpha = "ab*?";
    for (int iter = 0; iter < 5000; ++iter) {
        std::string p, t;
        for (int k = static_cast<int>(rng() % 7); k > 0; --k) p += alpha[rng() % alpha.size()];
        for (int k = static_cast<int>(rng() % 8); k > 0; --k) t += "ab"[rng() % 2];
        INFO("pattern " << p << " text " << t);
        CHECK(m(p, t) == ref_match(p, t));
    }
}

TEST_CASE("glob: pathological patterns stay fast") {
    std::string pattern;
    for (int i = 0; i < 100; ++i) pattern += "a*";
    pattern += "b";
    const std::string text(5000, 'a');
    const auto g = must_compile(pattern);
    const auto t0 = std::chrono::steady_clock::now();
    CHECK_FALSE(glob_match(g, text));
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    CHECK(ms < 500);   // exponential backtracking would not finish at all
}

} // namespace glob_test
