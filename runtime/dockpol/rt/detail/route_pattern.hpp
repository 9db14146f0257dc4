// The subset of gorilla/mux path templates dockerd's routes use, compiled at
// compile time into literal and variable parts and matched without regex.
// Each part mirrors the regexp gorilla would build: `{v}` is `[^/]+`,
// `{v:.*}` is `.*`, `{v:.+}` is `.+`, the whole template anchored at both ends.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace dockpol::rt::detail {

enum class part_kind : std::uint8_t { literal, segment, any, some };

struct pattern_part {
    part_kind kind = part_kind::literal;
    std::string_view text;   // literal text; the variable's name otherwise
};

// The longest route (checkpoint delete) has four parts; room to spare.
inline constexpr std::size_t max_pattern_parts = 6;

struct route_pattern {
    std::array<pattern_part, max_pattern_parts> parts{};
    std::size_t count = 0;
    bool valid = false;   // false when the template is outside the subset we can match exactly
};

// Parses a template. Refuses (valid=false) anything whose regexp meaning the
// simple matcher below could get wrong: other regexps, adjacent variables,
// a one-segment variable not followed by `/` or the end, a greedy variable
// followed by anything but one literal.
inline constexpr route_pattern compile_pattern(std::string_view t) {
    route_pattern p;
    std::size_t i = 0;
    while (i < t.size()) {
        if (p.count == max_pattern_parts) return p;
        if (t[i] != '{') {
            const std::size_t j = t.find('{', i);
            const std::size_t end = j == std::string_view::npos ? t.size() : j;
            p.parts[p.count++] = {part_kind::literal, t.substr(i, end - i)};
            i = end;
            continue;
        }
        const std::size_t close = t.find('}', i);
        if (close == std::string_view::npos) return p;
        const std::string_view body = t.substr(i + 1, close - i - 1);
        const std::size_t colon = body.find(':');
        const std::string_view name = body.substr(0, colon);
        if (name.empty()) return p;
        part_kind k = part_kind::segment;
        if (colon != std::string_view::npos) {
            const std::string_view re = body.substr(colon + 1);
            if (re == ".*") k = part_kind::any;
            else if (re == ".+") k = part_kind::some;
            else return p;
        }
        if (p.count > 0 && p.parts[p.count - 1].kind != part_kind::literal) return p;
        p.parts[p.count++] = {k, name};
        i = close + 1;
    }
    for (std::size_t k = 0; k < p.count; ++k) {
        const auto kind = p.parts[k].kind;
        const bool last = k + 1 == p.count;
        if (kind == part_kind::segment && !last && !p.parts[k + 1].text.starts_with("/")) return p;
        if ((kind == part_kind::any || kind == part_kind::some) && k + 2 < p.count) return p;
    }
    if (p.count == 0 || p.parts[0].kind != part_kind::literal || !p.parts[0].text.starts_with("/")) return p;
    p.valid = true;
    return p;
}

// Matches the whole path; on success `first_var` is the first variable's
// value ("" when the template has none).
inline constexpr bool match_pattern(const route_pattern& p, std::string_view path, std::string_view& first_var) {
    std::size_t pos = 0;
    bool have_var = false;
    first_var = {};
    const auto take = [&](std::string_view v) {
        if (!have_var) first_var = v;
        have_var = true;
    };
    for (std::size_t k = 0; k < p.count; ++k) {
        const pattern_part& part = p.parts[k];
        const std::string_view rest = path.substr(pos);
        switch (part.kind) {
        case part_kind::literal:
            if (!rest.starts_with(part.text)) return false;
            pos += part.text.size();
            break;
        case part_kind::segment: {
            // `[^/]+` followed by `/` or the end: its only match runs to the next `/`.
            const std::size_t n = rest.find('/') == std::string_view::npos ? rest.size() : rest.find('/');
            if (n == 0) return false;
            take(rest.substr(0, n));
            pos += n;
            break;
        }
        case part_kind::any:
        case part_kind::some: {
            // Anchored at the end, a greedy variable takes all but the final literal.
            const std::string_view suffix = k + 1 < p.count ? p.parts[k + 1].text : std::string_view{};
            if (rest.size() < suffix.size() || !rest.ends_with(suffix)) return false;
            const std::string_view v = rest.substr(0, rest.size() - suffix.size());
            if (part.kind == part_kind::some && v.empty()) return false;
            take(v);
            return true;
        }
        }
    }
    return pos == path.size();
}

} // namespace dockpol::rt::detail
