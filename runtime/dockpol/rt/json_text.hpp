// JSON text as dockpol writes it — audit lines, denials, owner label filters,
// admin answers: one string escaper and one UTF-8 check for all of them.
#pragma once
#include <string>
#include <string_view>

#include "dockpol/rt/detail/json_bytes.hpp"

namespace dockpol::rt {

// Well-formed UTF-8 (no overlong forms, surrogates or values past U+10FFFF).
inline bool valid_utf8(std::string_view s) {
    const char* p = s.data();
    const char* const end = p + s.size();
    while (p != end) {
        if (static_cast<unsigned char>(*p) < 0x80) {
            ++p;
            continue;
        }
        const std::size_t n = detail::utf8_sequence(p, end);
        if (n == 0) return false;
        p += n;
    }
    return true;
}

// Appends `s` as a JSON string literal, quotes included: `"`, `\` and control
// bytes escaped, everything else copied in runs. Bytes >= 0x80 pass through:
// the callers write text validated as UTF-8 (valid_utf8) or read from dockerd.
inline void append_json_string(std::string& out, std::string_view s) {
    constexpr std::string_view hex = "0123456789abcdef";
    const char* p = s.data();
    const char* const end = p + s.size();
    out += '"';
    while (p != end) {
        const char* q = detail::plain_run(p, end);
        while (q != end && static_cast<unsigned char>(*q) >= 0x80) q = detail::plain_run(q + 1, end);
        out.append(p, q);
        if (q == end) break;
        switch (const auto b = static_cast<unsigned char>(*q)) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            out += "\\u00";
            out += hex[b >> 4];
            out += hex[b & 0xf];
        }
        p = q + 1;
    }
    out += '"';
}

} // namespace dockpol::rt
