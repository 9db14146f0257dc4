// The front end's work grows linearly with the size of a rule: counted, not
// timed. detail::work_done counts the steps the front end takes (AST nodes
// built, checked and linted, source bytes scanned for columns) and the global
// operator new below counts allocations; a rule ten times longer may cost at
// most twelve times as much of either.
#define DOCKPOL_COUNT_WORK
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdlib>
#include <new>
#include <string>

#include "dsl_test_util.hpp"

namespace {
std::uint64_t allocations = 0;
} // namespace

// Counting every allocation of this test program (the front end's copies of subtrees and strings).
// Not inlined: g++ would otherwise see malloc'd memory reach free through `delete` and warn.
[[gnu::noinline]] void* operator new(std::size_t n) {
    ++allocations;
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
[[gnu::noinline]] void operator delete(void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept { std::free(p); }

using namespace dockpol::dsl;

namespace {

// One rule of `terms` `and`ed comparisons on one line. The line holds non-ASCII
// text, so its columns are counted in code points (the path that once went
// quadratic); the terms are short so 50,000 of them stay under max_file_bytes.
std::string long_rule(std::size_t terms) {
    static constexpr const char* fields[] = {"user", "host", "group", "host.labels.z"};
    std::string t = "default deny\nrule long: deny if user != \"ü\"";
    for (std::size_t i = 0; i < terms; ++i)
        t += std::string(" and ") + fields[i % 4] + "!=\"" + std::to_string(i) + "\"";
    return t + "\n";
}

struct cost {
    std::uint64_t steps = 0;
    std::uint64_t allocs = 0;
};

cost check_cost(std::size_t terms) {
    const std::string text = long_rule(terms);
    detail::work_done = 0;
    allocations = 0;
    const auto r = dsl_test::analyze_text(text);
    const cost c{detail::work_done, allocations};
    INFO(render_text(r.diagnostics, r.ast.files));
    REQUIRE(dsl_test::error_count(r.diagnostics) == 0);
    REQUIRE(r.checked);
    REQUIRE(r.checked->rules.size() == 1);
    return c;
}

} // namespace

TEST_CASE("check: a rule ten times longer costs at most twelve times the work") {
    const cost small = check_cost(1000);
    const cost large = check_cost(10000);
    INFO("steps " << small.steps << " → " << large.steps << ", allocations " << small.allocs << " → " << large.allocs);
    // The counter counts: a policy of 1,000 terms takes at least a step per term.
    REQUIRE(small.steps >= 1000);
    REQUIRE(small.allocs >= 1000);
    CHECK(large.steps <= 12 * small.steps);
    CHECK(large.allocs <= 12 * small.allocs);
}

TEST_CASE("check: a 50,000-term rule checks") {
    const cost c = check_cost(50000);
    CHECK(c.steps >= 50000);
}
