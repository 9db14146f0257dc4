// Byte-level helpers of the JSON scanner: character classes, strict UTF-8
// validation (RFC 3629), UTF-8 encoding of escapes, and Go's key folding.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace dockpol::rt::detail {

// What a byte means inside a JSON string; one table lookup per byte keeps the
// skip loop tight.
enum class str_class : std::uint8_t { plain, quote, backslash, control, utf8 };

inline constexpr std::array<str_class, 256> make_str_classes() {
    std::array<str_class, 256> t{};
    for (int c = 0; c < 256; ++c) {
        if (c < 0x20) t[c] = str_class::control;
        else if (c == '"') t[c] = str_class::quote;
        else if (c == '\\') t[c] = str_class::backslash;
        else if (c >= 0x80) t[c] = str_class::utf8;
        else t[c] = str_class::plain;
    }
    return t;
}
inline constexpr auto str_classes = make_str_classes();

inline constexpr std::array<bool, 256> make_ws_table() {
    std::array<bool, 256> t{};
    t[' '] = t['\t'] = t['\n'] = t['\r'] = true;
    return t;
}
// RFC 8259 whitespace: exactly space, tab, LF, CR.
inline constexpr auto ws_table = make_ws_table();

inline constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Length of the well-formed UTF-8 sequence at p (lead byte >= 0x80), or 0 when
// it is malformed: overlong, surrogate, above U+10FFFF, or truncated.
inline std::size_t utf8_sequence(const char* p, const char* end) {
    const auto b0 = static_cast<unsigned char>(p[0]);
    const auto avail = static_cast<std::size_t>(end - p);
    auto cont = [&](std::size_t i, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
        if (i >= avail) return false;
        const auto b = static_cast<unsigned char>(p[i]);
        return b >= lo && b <= hi;
    };
    if (b0 >= 0xC2 && b0 <= 0xDF) return cont(1) ? 2 : 0;
    if (b0 >= 0xE0 && b0 <= 0xEF) {
        // E0 needs A0.. (no overlong); ED stops at 9F (no UTF-16 surrogates).
        const unsigned char lo = b0 == 0xE0 ? 0xA0 : 0x80;
        const unsigned char hi = b0 == 0xED ? 0x9F : 0xBF;
        return cont(1, lo, hi) && cont(2) ? 3 : 0;
    }
    if (b0 >= 0xF0 && b0 <= 0xF4) {
        // F0 needs 90.. (no overlong); F4 stops at 8F (nothing above U+10FFFF).
        const unsigned char lo = b0 == 0xF0 ? 0x90 : 0x80;
        const unsigned char hi = b0 == 0xF4 ? 0x8F : 0xBF;
        return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
    }
    return 0;
}

inline void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

// The value of one hex digit, or -1.
inline int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Folds `in` the way Go's encoding/json compares a key with a struct field
// name (bytes.EqualFold on valid UTF-8): ASCII letters to upper case, and the
// only two non-ASCII runes whose simple-fold orbit holds an ASCII letter —
// `ſ` (U+017F) and the Kelvin sign (U+212A) — to `S` and `K`. Other runes are
// kept as they are: Docker's struct field names are ASCII, so no other rune
// can fold-match one. Writes at most `cap` bytes; returns the folded length,
// or cap + 1 when it does not fit.
inline std::size_t fold_key(std::string_view in, char* out, std::size_t cap) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < in.size();) {
        char c = in[i];
        std::size_t used = 1;
        if (c >= 'a' && c <= 'z') {
            c = static_cast<char>(c - 'a' + 'A');
        } else if (in.compare(i, 2, "\xC5\xBF") == 0) {
            c = 'S';
            used = 2;
        } else if (in.compare(i, 3, "\xE2\x84\xAA") == 0) {
            c = 'K';
            used = 3;
        }
        if (n == cap) return cap + 1;
        out[n++] = c;
        i += used;
    }
    return n;
}

} // namespace dockpol::rt::detail
