// "Did you mean" help: the closest candidate by edit distance (Levenshtein with
// adjacent transpositions, so `contianer` is one edit from `container`).
#pragma once
#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dockpol::dsl {

inline std::size_t edit_distance(std::string_view a, std::string_view b) {
    const std::size_t n = a.size(), m = b.size();
    std::vector<std::size_t> prev2(m + 1), prev(m + 1), cur(m + 1);
    for (std::size_t j = 0; j <= m; ++j) prev[j] = j;
    for (std::size_t i = 1; i <= n; ++i) {
        cur[0] = i;
        for (std::size_t j = 1; j <= m; ++j) {
            const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                cur[j] = std::min(cur[j], prev2[j - 2] + 1);
        }
        prev2 = prev;
        prev = cur;
    }
    return prev[m];
}

// The candidate closest to `word`, when close enough to be a plausible typo:
// at most a third of the word's length (and at least 1) edits. Ties go to the
// earliest candidate, so suggestions are stable.
template <typename Range>
std::optional<std::string> closest_match(std::string_view word, const Range& candidates) {
    const std::size_t budget = std::max<std::size_t>(1, word.size() / 3);
    std::optional<std::string> best;
    std::size_t best_d = budget + 1;
    for (const auto& c : candidates) {
        std::string_view cv(c);
        if (cv.empty() || cv == word) continue;
        const std::size_t d = edit_distance(word, cv);
        if (d < best_d) {
            best_d = d;
            best = std::string(cv);
        }
    }
    return best;
}

} // namespace dockpol::dsl
