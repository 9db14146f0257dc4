// Minimal JSON string writing for the request path (denials, audit lines):
// no DOM, appends into a caller-owned string.
#pragma once
#include <string>
#include <string_view>

namespace dockpol::sidecar {

// Appends `s` as a JSON string literal (quotes included). Bytes ≥ 0x80 pass
// through: every text we write was validated as UTF-8 or comes from dockerd.
inline void append_json_string(std::string& out, std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    out.push_back('"');
    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20 || c == 0x7f) {
                out += "\\u00";
                out.push_back(hex[c >> 4]);
                out.push_back(hex[c & 0xf]);
            } else {
                out.push_back(ch);
            }
        }
    }
    out.push_back('"');
}

} // namespace dockpol::sidecar
