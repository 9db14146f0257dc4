// Byte-level helpers of the JSON scanner: character classes, strict UTF-8
// validation (RFC 3629), UTF-8 encoding of escapes, and Go's key folding.
#pragma once
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
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

// First byte at or after p that is not plain string content (a quote,
// backslash, control byte or non-ASCII byte), or end. Eight bytes per step.
inline const char* plain_run(const char* p, const char* end) {
    constexpr std::uint64_t ones = 0x0101010101010101ull;
    constexpr std::uint64_t highs = 0x8080808080808080ull;
    // The word trick below reads bytes in little-endian order.
    while (std::endian::native == std::endian::little && end - p >= 8) {
        std::uint64_t w;
        std::memcpy(&w, p, 8);
        // High bit of byte i set when it is < 0x20, '"', '\\' or >= 0x80
        // ("has zero byte" / "has byte less than" tricks: exact for the
        // lowest flagged byte, which is all we need).
        const std::uint64_t q = w ^ (ones * '"');
        const std::uint64_t b = w ^ (ones * '\\');
        const std::uint64_t special =
            (((w - ones * 0x20) & ~w) | ((q - ones) & ~q) | ((b - ones) & ~b) | w) & highs;
        if (special) return p + std::countr_zero(special) / 8;
        p += 8;
    }
    while (p != end && str_classes[static_cast<unsigned char>(*p)] == str_class::plain) ++p;
    return p;
}

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

// Calls `emit(c)` for each byte of `in` folded the way Go's encoding/json
// compares a key with a struct field name (bytes.EqualFold on valid UTF-8):
// ASCII letters to upper case, and the only two non-ASCII runes whose
// simple-fold orbit holds an ASCII letter — `ſ` (U+017F) and the Kelvin sign
// (U+212A) — to `S` and `K`. Other runes are kept as they are: Docker's
// struct field names are ASCII, so no other rune can fold-match one.
// Stops early (returning false) when `emit` returns false.
template <class Emit>
inline bool fold_each(std::string_view in, Emit&& emit) {
    const char* p = in.data();
    const char* const end = p + in.size();
    while (p != end) {
        char c = *p;
        if (c >= 'a' && c <= 'z') {
            c = static_cast<char>(c - 'a' + 'A');
            ++p;
        } else if (c == '\xC5' && end - p >= 2 && p[1] == '\xBF') {
            c = 'S';
            p += 2;
        } else if (c == '\xE2' && end - p >= 3 && p[1] == '\x84' && p[2] == '\xAA') {
            c = 'K';
            p += 3;
        } else {
            ++p;
        }
        if (!emit(c)) return false;
    }
    return true;
}

inline std::string fold_key(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    fold_each(in, [&](char c) { out += c; return true; });
    return out;
}

inline constexpr char ascii_upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

// A cheap hash of a folded name: length and three of its bytes. Wanted
// children of one object are few, so this separates them well enough.
inline std::uint32_t folded_hash(std::size_t len, char first, char mid, char last) {
    std::uint32_t h = static_cast<std::uint32_t>(len) << 24 ^
                      static_cast<std::uint32_t>(static_cast<unsigned char>(first)) << 16 ^
                      static_cast<std::uint32_t>(static_cast<unsigned char>(mid)) << 8 ^
                      static_cast<std::uint32_t>(static_cast<unsigned char>(last));
    // Mix so the low bits (the table index) depend on every input byte.
    h *= 0x9E3779B1u;
    return h ^ (h >> 16);
}

inline std::uint32_t hash_of_folded(std::string_view f) {
    if (f.empty()) return 0;
    return folded_hash(f.size(), f.front(), f[f.size() / 2], f.back());
}

// The hash of fold_key(key) — directly when the key is known to be ASCII.
inline std::uint32_t fold_hash(std::string_view key, bool ascii) {
    if (!ascii) return hash_of_folded(fold_key(key));
    if (key.empty()) return 0;
    return folded_hash(key.size(), ascii_upper(key.front()), ascii_upper(key[key.size() / 2]),
                       ascii_upper(key.back()));
}

// True when `key` folds to exactly `folded`.
inline bool fold_equal(std::string_view key, std::string_view folded) {
    std::size_t i = 0;
    const bool all = fold_each(key, [&](char c) { return i < folded.size() && folded[i++] == c; });
    return all && i == folded.size();
}

} // namespace dockpol::rt::detail
