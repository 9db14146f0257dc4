// Percent-decoding the way Go's net/url does it before dockerd routes a
// request, with the refusals dockpol adds for the path (docs/actions.md): bytes
// that would change how the path splits or what it names after decoding.
#pragma once
#include <string>
#include <string_view>

#include "dockpol/rt/detail/hex.hpp"

namespace dockpol::rt::detail {

inline constexpr bool is_control(unsigned char b) { return b < 0x20 || b == 0x7f; }

// Reads the escape at s[i] == '%'; -1 when it is not `%` + two hex digits
// (Go refuses the whole request then).
inline constexpr int escape_at(std::string_view s, std::size_t i) {
    if (i >= s.size() || s.size() - i < 3) return -1;
    const int hi = hex_digit_value(s[i + 1]), lo = hex_digit_value(s[i + 2]);
    return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

// Decodes a raw path into `out`. Returns "" on success, else the reason for a
// 400. Refused escapes: `/` (a%2Fb would route as one segment here but name
// a/b to whoever decodes later), `.` (hides dot segments), `%` (double
// decoding), control bytes (Go's router and logs treat them specially).
inline std::string_view decode_path(std::string_view raw, std::string& out) {
    out.clear();
    out.reserve(raw.size());
    for (std::size_t i = 0; i < raw.size(); ++i) {
        const char c = raw[i];
        if (c != '%') {
            out += c;
            continue;
        }
        const int b = escape_at(raw, i);
        if (b < 0) return "malformed percent-escape in path";
        if (b == '/') return "encoded slash (%2F) in path";
        if (b == '.') return "encoded dot (%2E) in path";
        if (b == '%') return "encoded percent sign (%25) in path";
        if (is_control(static_cast<unsigned char>(b))) return "encoded control byte in path";
        out += static_cast<char>(b);
        i += 2;
    }
    return "";
}

// Go's url.QueryUnescape: `+` is a space, `%XX` a byte; false when an escape
// is malformed (dockerd's ParseForm then answers 400).
inline bool decode_query_component(std::string_view raw, std::string& out) {
    out.clear();
    out.reserve(raw.size());
    for (std::size_t i = 0; i < raw.size(); ++i) {
        const char c = raw[i];
        if (c == '+') {
            out += ' ';
        } else if (c == '%') {
            const int b = escape_at(raw, i);
            if (b < 0) return false;
            out += static_cast<char>(b);
            i += 2;
        } else {
            out += c;
        }
    }
    return true;
}

// Bytes that may stay raw in a path we build: RFC 3986 unreserved and
// sub-delims plus `:` and `@`; everything else is escaped.
inline constexpr bool path_safe(unsigned char b) {
    if ((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9')) return true;
    return std::string_view("-._~!$&'()*+,;=:@").find(static_cast<char>(b)) != std::string_view::npos;
}

// Appends `id` percent-encoded for a path; `/` stays raw when keep_slash.
inline void encode_path_bytes(std::string_view id, bool keep_slash, std::string& out) {
    constexpr std::string_view digits = "0123456789ABCDEF";
    for (const char c : id) {
        const auto b = static_cast<unsigned char>(c);
        if (path_safe(b) || (keep_slash && c == '/')) {
            out += c;
        } else {
            out += '%';
            out += digits[b >> 4];
            out += digits[b & 0xf];
        }
    }
}

} // namespace dockpol::rt::detail
