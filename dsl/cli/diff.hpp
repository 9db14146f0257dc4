// A small line diff in unified style for `fmt --check`: the common prefix and
// suffix are trimmed, the middle is aligned by a longest-common-subsequence
// table when small enough, else shown as one replaced block (still correct,
// just less minimal).
#pragma once
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dockpol::dsl::cli {

// LCS table cells for the middle part; beyond this the middle is shown as one
// replacement, so a huge reformat costs linear time and memory.
inline constexpr std::size_t max_diff_cells = 4'000'000;
// Lines of unchanged context around each change, as `diff -u` shows.
inline constexpr std::size_t diff_context = 3;

namespace detail {

inline std::vector<std::string_view> split_lines(std::string_view s) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    while (start < s.size()) {
        auto nl = s.find('\n', start);
        if (nl == std::string_view::npos) {
            out.push_back(s.substr(start));
            break;
        }
        out.push_back(s.substr(start, nl - start));
        start = nl + 1;
    }
    return out;
}

enum class edit { keep, del, add };
struct diff_line {
    edit op;
    std::string_view text;
};

inline std::vector<diff_line> diff_lines(const std::vector<std::string_view>& a, const std::vector<std::string_view>& b) {
    std::size_t pre = 0;
    while (pre < a.size() && pre < b.size() && a[pre] == b[pre]) ++pre;
    std::size_t suf = 0;
    while (suf < a.size() - pre && suf < b.size() - pre && a[a.size() - 1 - suf] == b[b.size() - 1 - suf]) ++suf;
    const std::size_t n = a.size() - pre - suf, m = b.size() - pre - suf;

    std::vector<diff_line> out;
    for (std::size_t i = 0; i < pre; ++i) out.push_back({edit::keep, a[i]});
    if ((n + 1) * (m + 1) <= max_diff_cells) {
        // lcs[i][j]: LCS length of a[pre+i..] and b[pre+j..] within the middle.
        std::vector<std::uint32_t> lcs((n + 1) * (m + 1), 0);
        auto at = [&](std::size_t i, std::size_t j) -> std::uint32_t& { return lcs[i * (m + 1) + j]; };
        for (std::size_t i = n; i-- > 0;)
            for (std::size_t j = m; j-- > 0;)
                at(i, j) = a[pre + i] == b[pre + j] ? at(i + 1, j + 1) + 1 : std::max(at(i + 1, j), at(i, j + 1));
        std::size_t i = 0, j = 0;
        while (i < n || j < m) {
            if (i < n && j < m && a[pre + i] == b[pre + j]) {
                out.push_back({edit::keep, a[pre + i]});
                ++i, ++j;
            } else if (j < m && (i == n || at(i, j + 1) >= at(i + 1, j))) {
                out.push_back({edit::add, b[pre + j++]});
            } else {
                out.push_back({edit::del, a[pre + i++]});
            }
        }
    } else {
        for (std::size_t i = 0; i < n; ++i) out.push_back({edit::del, a[pre + i]});
        for (std::size_t j = 0; j < m; ++j) out.push_back({edit::add, b[pre + j]});
    }
    for (std::size_t i = a.size() - suf; i < a.size(); ++i) out.push_back({edit::keep, a[i]});
    // Deletions before additions inside each changed run, as `diff -u` prints them.
    for (std::size_t k = 0; k < out.size();) {
        if (out[k].op == edit::keep) { ++k; continue; }
        std::size_t e = k;
        while (e < out.size() && out[e].op != edit::keep) ++e;
        std::stable_partition(out.begin() + static_cast<std::ptrdiff_t>(k), out.begin() + static_cast<std::ptrdiff_t>(e),
                              [](const diff_line& d) { return d.op == edit::del; });
        k = e;
    }
    return out;
}

inline std::string hunk_range(std::size_t start, std::size_t count) {
    // diff -u: a range of one line omits the count; an empty range names the line before it.
    if (count == 1) return std::to_string(start + 1);
    return std::to_string(count == 0 ? start : start + 1) + "," + std::to_string(count);
}

} // namespace detail

// Unified-style diff of `before` → `after`, "" when equal. Headers name
// `from_name` and `to_name`.
inline std::string unified_diff(std::string_view before, std::string_view after, std::string_view from_name,
                                std::string_view to_name) {
    if (before == after) return {};
    const auto a = detail::split_lines(before), b = detail::split_lines(after);
    const auto lines = detail::diff_lines(a, b);
    std::string out = "--- " + std::string(from_name) + "\n+++ " + std::string(to_name) + "\n";
    // Equal lines but different text: only the newline at the end of the file differs.
    if (a == b) return out + "\\ final newline differs\n";

    // Positions in a and b of each diff line, to label hunks.
    std::vector<std::size_t> pos_a(lines.size() + 1), pos_b(lines.size() + 1);
    for (std::size_t k = 0, ia = 0, ib = 0; k <= lines.size(); ++k) {
        pos_a[k] = ia, pos_b[k] = ib;
        if (k == lines.size()) break;
        if (lines[k].op != detail::edit::add) ++ia;
        if (lines[k].op != detail::edit::del) ++ib;
    }
    std::size_t k = 0;
    while (k < lines.size()) {
        while (k < lines.size() && lines[k].op == detail::edit::keep) ++k;
        if (k == lines.size()) break;
        const std::size_t begin = k >= diff_context ? k - diff_context : 0;
        // Extend the hunk while the next change is within two contexts of the last one.
        std::size_t end = k;
        for (;;) {
            while (end < lines.size() && lines[end].op != detail::edit::keep) ++end;
            std::size_t keep_run = end;
            while (keep_run < lines.size() && lines[keep_run].op == detail::edit::keep) ++keep_run;
            if (keep_run < lines.size() && keep_run - end <= 2 * diff_context) {
                end = keep_run;
                continue;
            }
            end = std::min(lines.size(), end + diff_context);
            break;
        }
        out += "@@ -" + detail::hunk_range(pos_a[begin], pos_a[end] - pos_a[begin]) + " +" +
               detail::hunk_range(pos_b[begin], pos_b[end] - pos_b[begin]) + " @@\n";
        for (std::size_t i = begin; i < end; ++i) {
            out += lines[i].op == detail::edit::keep ? ' ' : lines[i].op == detail::edit::del ? '-' : '+';
            out += lines[i].text;
            out += '\n';
        }
        k = end;
    }
    return out;
}

} // namespace dockpol::dsl::cli
