// Query strings decoded with Go's url.ParseQuery semantics (what dockerd's
// handlers read), except that anything Go reports as an error refuses the
// request instead of silently dropping a parameter.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

#include "dockpol/rt/detail/percent.hpp"
#include "dockpol/rt/request.hpp"

namespace dockpol::rt::detail {

// Splits on `&`, skips empty pieces, splits each at its first `=`, decodes
// key and value (`+` is a space). Order and duplicates are kept. Returns ""
// or the reason for a 400.
inline std::string_view parse_query(std::string_view raw, std::size_t max_pairs, string_pairs& out) {
    out.clear();
    // Go >= 1.17 refuses `;` as a separator; older servers split on it, so it is ambiguous.
    if (raw.find(';') != std::string_view::npos) return "semicolon in query";
    std::size_t i = 0;
    while (i < raw.size()) {
        std::size_t j = raw.find('&', i);
        if (j == std::string_view::npos) j = raw.size();
        const std::string_view piece = raw.substr(i, j - i);
        i = j + 1;
        if (piece.empty()) continue;
        if (out.size() == max_pairs) return "too many query parameters";
        const std::size_t eq = piece.find('=');
        const std::string_view k = piece.substr(0, eq);
        const std::string_view v = eq == std::string_view::npos ? std::string_view{} : piece.substr(eq + 1);
        auto& pair = out.emplace_back();
        if (!decode_query_component(k, pair.first) || !decode_query_component(v, pair.second))
            return "malformed percent-escape in query";
    }
    return "";
}

} // namespace dockpol::rt::detail
