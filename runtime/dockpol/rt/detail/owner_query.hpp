// One query parameter of a raw request-target replaced (or added), every
// other byte of the target kept as the client sent it.
#pragma once
#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "dockpol/rt/detail/percent.hpp"

namespace dockpol::rt::detail {

inline constexpr std::array<bool, 256> make_unreserved() {
    std::array<bool, 256> t{};
    for (int c = 0; c < 256; ++c)
        t[c] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
               c == '_' || c == '~';
    return t;
}
// RFC 3986 unreserved bytes: the ones a query value keeps raw.
inline constexpr auto unreserved = make_unreserved();

// Appends `v` percent-encoded for a query: unreserved bytes stay,
// everything else (space included) is %XX, which every decoder reads alike.
inline void encode_query_component(std::string_view v, std::string& out) {
    constexpr std::string_view digits = "0123456789ABCDEF";
    const std::size_t start = out.size();
    out.resize(start + 3 * v.size());   // the most it can take
    char* w = out.data() + start;
    for (const char c : v) {
        const auto b = static_cast<unsigned char>(c);
        if (unreserved[b]) {
            *w++ = c;
        } else {
            *w++ = '%';
            *w++ = digits[b >> 4];
            *w++ = digits[b & 0xf];
        }
    }
    out.resize(static_cast<std::size_t>(w - out.data()));
}

// `raw_target` (path, then `?` and the raw query, if any) with parameter
// `name` (compared decoded, as dockerd reads it) set to `value`: the first
// occurrence keeps its place and its key's spelling, later ones are dropped
// (dockpold refuses a repeated `filters` before it gets here; dropping them
// means nothing unreviewed reaches dockerd either way); appended when absent.
inline std::string replace_query_param(std::string_view raw_target, std::string_view name, std::string_view value) {
    const std::size_t q = raw_target.find('?');
    const std::string_view path = raw_target.substr(0, q);
    const std::string_view query = q == std::string_view::npos ? std::string_view{} : raw_target.substr(q + 1);
    std::string out(path);
    out.reserve(raw_target.size() + value.size() * 3 + name.size() + 2);
    out += '?';
    bool replaced = false;
    bool first_piece = true;
    std::string key;
    std::size_t i = 0;
    while (!query.empty() && i <= query.size()) {
        std::size_t j = query.find('&', i);
        if (j == std::string_view::npos) j = query.size();
        const std::string_view piece = query.substr(i, j - i);
        i = j + 1;
        const std::string_view raw_key = piece.substr(0, piece.find('='));
        const bool match = !piece.empty() && decode_query_component(raw_key, key) && key == name;
        if (match && replaced) continue;
        if (!first_piece) out += '&';
        first_piece = false;
        if (match) {
            out += raw_key;
            out += '=';
            encode_query_component(value, out);
            replaced = true;
        } else {
            out += piece;
        }
    }
    if (!replaced) {
        if (!first_piece && out.back() != '&') out += '&';
        encode_query_component(name, out);
        out += '=';
        encode_query_component(value, out);
    }
    return out;
}

} // namespace dockpol::rt::detail
