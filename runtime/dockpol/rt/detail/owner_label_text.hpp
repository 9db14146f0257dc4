// The owner label's name and value as text dockpold writes: which ones it
// accepts, and their JSON form.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "dockpol/rt/detail/json_bytes.hpp"
#include "dockpol/rt/json_text.hpp"

namespace dockpol::rt {

// How an ownership rewrite or check fails. `conflict`: the request sets or
// drops the owner label against the rules (deny by rule `error`);
// `bad_request`: dockerd would not decode the request the way it reads here
// (dockpold answers 400).
enum class owner_errc : std::uint8_t { none, conflict, bad_request };

} // namespace dockpol::rt

namespace dockpol::rt::detail {

// Valid UTF-8 without control bytes: what survives a JSON round trip and a
// `label=NAME=USER` filter unchanged (Go replaces invalid UTF-8 by U+FFFD).
inline bool printable_utf8(std::string_view s) {
    const char* p = s.data();
    const char* const end = p + s.size();
    while (p != end) {
        const auto b = static_cast<unsigned char>(*p);
        if (b < 0x20 || b == 0x7f) return false;
        if (b < 0x80) {
            ++p;
            continue;
        }
        const std::size_t n = utf8_sequence(p, end);
        if (n == 0) return false;
        p += n;
    }
    return true;
}

// "" when `name` can be the owner label and `user` its value, else why not.
// The name must not hold `=`: a label filter splits at the first one.
inline std::string_view owner_text_error(std::string_view name, std::string_view user) {
    if (name.empty() || name.find('=') != std::string_view::npos || !printable_utf8(name))
        return "the owner label name is not a valid label key";
    if (user.empty() || !printable_utf8(user)) return "the user name is not a valid label value";
    return "";
}

// Appends `"NAME":"USER"`.
inline void append_label_member(std::string& out, std::string_view name, std::string_view user) {
    append_json_string(out, name);
    out += ':';
    append_json_string(out, user);
}

} // namespace dockpol::rt::detail
