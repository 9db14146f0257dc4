// dockpolc's unified-style diff (fmt --check): hunks, context, ranges, and
// the linear fallback past max_diff_cells.
#include <catch2/catch.hpp>

#include <string>

#include "cli/diff.hpp"

// Each test file is its own namespace: the test executables are unity builds.
namespace cli_diff_test {

using dockpol::dsl::cli::unified_diff;

namespace {
std::string numbered(int from, int to) {
    std::string s;
    for (int i = from; i <= to; ++i) s += "line " + std::to_string(i) + "\n";
    return s;
}

std::size_t count(const std::string& hay, const std::string& needle) {
    std::size_t c = 0;
    for (std::size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++c;
    return c;
}
} // namespace

TEST_CASE("equal texts give no diff") {
    CHECK(unified_diff("a\nb\n", "a\nb\n", "x", "y").empty());
}

TEST_CASE("one changed line with three lines of context") {
    const std::string before = numbered(1, 10);
    std::string after = before;
    after.replace(after.find("line 5\n"), 7, "LINE 5\n");
    CHECK(unified_diff(before, after, "p.dpol", "p.dpol (formatted)") ==
          "--- p.dpol\n+++ p.dpol (formatted)\n"
          "@@ -2,7 +2,7 @@\n"
          " line 2\n line 3\n line 4\n-line 5\n+LINE 5\n line 6\n line 7\n line 8\n");
}

TEST_CASE("changes far apart make two hunks, close ones one") {
    const std::string before = numbered(1, 30);
    std::string far = before;
    far.replace(far.find("line 2\n"), 7, "x\n");
    far.replace(far.find("line 29\n"), 8, "y\n");
    const std::string d = unified_diff(before, far, "a", "b");
    CHECK(d.find("@@ -1,5 +1,5 @@\n") != std::string::npos);
    CHECK(d.find("@@ -26,5 +26,5 @@\n") != std::string::npos);
    CHECK(count(d, "\n@@ ") == 2);

    std::string near = before;
    near.replace(near.find("line 10\n"), 8, "x\n");
    near.replace(near.find("line 15\n"), 8, "y\n");
    const std::string n = unified_diff(before, near, "a", "b");
    CHECK(n.find("@@ -7,12 +7,12 @@\n") != std::string::npos);
    CHECK(count(n, "\n@@ ") == 1);
}

TEST_CASE("insertions and deletions are aligned by the common lines") {
    CHECK(unified_diff("a\nb\nc\n", "a\nc\nd\n", "x", "y") == "--- x\n+++ y\n@@ -1,3 +1,3 @@\n a\n-b\n c\n+d\n");
    // Into an empty file: the empty range names line 0.
    CHECK(unified_diff("", "a\n", "x", "y") == "--- x\n+++ y\n@@ -0,0 +1 @@\n+a\n");
}

TEST_CASE("only the final newline differs") {
    CHECK(unified_diff("a\n", "a", "x", "y") == "--- x\n+++ y\n\\ final newline differs\n");
}

TEST_CASE("past max_diff_cells the middle is one replaced block") {
    using dockpol::dsl::cli::max_diff_cells;
    // Middles of n lines need (n+1)^2 > max_diff_cells table cells.
    std::size_t n = 2;
    while ((n + 1) * (n + 1) <= max_diff_cells) n *= 2;
    std::string before = "head\n", after = "head\n";
    for (std::size_t i = 0; i < n; ++i) {
        before += "a" + std::to_string(i) + "\n";
        after += (i % 2 ? "a" : "b") + std::to_string(i) + "\n";
    }
    const std::string d = unified_diff(before, after, "x", "y");
    // The last line (n - 1 is odd) is common and trimmed; all other middle
    // lines are deleted and re-added, although an alignment would keep the
    // odd ones: past the limit nothing is aligned.
    CHECK(count(d, "\n-a") == n - 1);
    CHECK(count(d, "\n+a") + count(d, "\n+b") == n - 1);
    CHECK(count(d, "\n a") == 1);

    // Below the limit the same shape is aligned: the odd lines stay.
    std::string small_before = "head\n", small_after = "head\n";
    for (std::size_t i = 0; i < 8; ++i) {
        small_before += "a" + std::to_string(i) + "\n";
        small_after += (i % 2 ? "a" : "b") + std::to_string(i) + "\n";
    }
    CHECK(count(unified_diff(small_before, small_after, "x", "y"), "\n a") >= 4);
}

} // namespace cli_diff_test
