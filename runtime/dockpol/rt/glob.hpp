// Glob patterns for `matches`: `*` (any run), `?` (one code point), `[abc]`,
// `[a-z]`, `[!a]` / `[^a]` (negated class), `\x` (literal x). No regex.
// Matching is the classic one-star-backtrack walk: when a later `*` is met the
// earlier one can never be needed again, so the worst case is O(n·m) steps and
// there is no exponential blow-up on patterns like `a*a*a*a*b`.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace dockpol::rt {

// Patterns are written by people in policies; anything longer is a mistake or
// an attack on the compile/match budget (matching costs pattern × text).
inline constexpr std::size_t max_glob_pattern_bytes = 1024;

struct glob {
    enum class kind : std::uint8_t { literal, any_one, star, cls };
    struct range { char32_t lo, hi; };
    struct token {
        kind k = kind::literal;
        char32_t ch = 0;            // literal
        bool negated = false;       // cls
        std::uint32_t first = 0;    // cls: index into ranges
        std::uint32_t count = 0;    // cls: number of ranges
    };
    std::string pattern;            // as written, for disassembly and messages
    std::vector<token> tokens;
    std::vector<range> ranges;
};

namespace detail {

// Decodes one UTF-8 code point at s[i], advancing i. Invalid bytes decode as
// themselves (one byte) so matching stays total on arbitrary input.
inline char32_t next_code_point(std::string_view s, std::size_t& i) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    auto cont = [&](std::size_t k) {
        return i + k < s.size() && (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    };
    auto byte = [&](std::size_t k) { return static_cast<char32_t>(static_cast<unsigned char>(s[i + k]) & 0x3F); };
    if (b0 >= 0xC2 && b0 <= 0xDF && cont(1)) {
        char32_t c = (static_cast<char32_t>(b0 & 0x1F) << 6) | byte(1);
        i += 2;
        return c;
    }
    if (b0 >= 0xE0 && b0 <= 0xEF && cont(1) && cont(2)) {
        char32_t c = (static_cast<char32_t>(b0 & 0x0F) << 12) | (byte(1) << 6) | byte(2);
        if (c >= 0x800) { i += 3; return c; }
    }
    if (b0 >= 0xF0 && b0 <= 0xF4 && cont(1) && cont(2) && cont(3)) {
        char32_t c = (static_cast<char32_t>(b0 & 0x07) << 18) | (byte(1) << 12) | (byte(2) << 6) | byte(3);
        if (c >= 0x10000 && c <= 0x10FFFF) { i += 4; return c; }
    }
    ++i;
    return b0;
}

inline bool token_accepts(const glob& g, const glob::token& t, char32_t c) {
    switch (t.k) {
    case glob::kind::literal: return t.ch == c;
    case glob::kind::any_one: return true;
    case glob::kind::cls: {
        bool in = false;
        for (std::uint32_t r = t.first; r < t.first + t.count; ++r)
            if (g.ranges[r].lo <= c && c <= g.ranges[r].hi) in = true;
        return in != t.negated;
    }
    case glob::kind::star: return false;
    }
    return false;
}

} // namespace detail

// Compiles a pattern, or returns why it is malformed.
inline std::variant<glob, std::string> compile_glob(std::string_view pattern) {
    if (pattern.size() > max_glob_pattern_bytes)
        return "glob pattern is longer than " + std::to_string(max_glob_pattern_bytes) + " bytes";
    glob g;
    g.pattern = std::string(pattern);
    std::size_t i = 0;
    while (i < pattern.size()) {
        const char c = pattern[i];
        if (c == '*') {
            ++i;
            // Consecutive stars mean the same as one; keeping one keeps matching linear in tokens.
            if (g.tokens.empty() || g.tokens.back().k != glob::kind::star)
                g.tokens.push_back({glob::kind::star});
            continue;
        }
        if (c == '?') {
            ++i;
            g.tokens.push_back({glob::kind::any_one});
            continue;
        }
        if (c == '\\') {
            if (i + 1 >= pattern.size()) return std::string("glob pattern ends with a lone '\\'");
            ++i;
            g.tokens.push_back({glob::kind::literal, detail::next_code_point(pattern, i)});
            continue;
        }
        if (c == '[') {
            const std::size_t open = i;
            ++i;
            glob::token t{glob::kind::cls};
            t.first = static_cast<std::uint32_t>(g.ranges.size());
            if (i < pattern.size() && (pattern[i] == '!' || pattern[i] == '^')) {
                t.negated = true;
                ++i;
            }
            bool closed = false;
            while (i < pattern.size()) {
                if (pattern[i] == ']') {
                    closed = true;
                    ++i;
                    break;
                }
                if (pattern[i] == '\\') {
                    if (++i >= pattern.size()) break;
                }
                const char32_t lo = detail::next_code_point(pattern, i);
                char32_t hi = lo;
                if (i + 1 < pattern.size() && pattern[i] == '-' && pattern[i + 1] != ']') {
                    ++i;
                    if (pattern[i] == '\\' && ++i >= pattern.size()) break;
                    hi = detail::next_code_point(pattern, i);
                    if (hi < lo)
                        return "bad range in glob character class at byte " + std::to_string(open + 1) +
                               ": the end is before the start";
                }
                g.ranges.push_back({lo, hi});
            }
            if (!closed)
                return "unterminated character class '[' at byte " + std::to_string(open + 1);
            t.count = static_cast<std::uint32_t>(g.ranges.size()) - t.first;
            if (t.count == 0)
                return "empty character class at byte " + std::to_string(open + 1);
            g.tokens.push_back(t);
            continue;
        }
        g.tokens.push_back({glob::kind::literal, detail::next_code_point(pattern, i)});
    }
    return g;
}

// True when the whole text matches. O(tokens × code points) worst case.
inline bool glob_match(const glob& g, std::string_view text) {
    const auto& tk = g.tokens;
    std::size_t p = 0, t = 0;                 // token index, byte index in text
    std::size_t star_p = tk.size(), star_t = 0;  // last star seen and where its run ends
    while (t < text.size()) {
        if (p < tk.size() && tk[p].k == glob::kind::star) {
            star_p = p++;
            star_t = t;
            continue;
        }
        std::size_t next = t;
        const char32_t c = detail::next_code_point(text, next);
        if (p < tk.size() && detail::token_accepts(g, tk[p], c)) {
            ++p;
            t = next;
            continue;
        }
        // Mismatch: let the last star swallow one more code point, or fail.
        if (star_p == tk.size()) return false;
        p = star_p + 1;
        detail::next_code_point(text, star_t);
        t = star_t;
    }
    while (p < tk.size() && tk[p].k == glob::kind::star) ++p;
    return p == tk.size();
}

} // namespace dockpol::rt
