// One hex digit's value, shared by URL percent-decoding and JSON \u escapes.
#pragma once

namespace dockpol::rt::detail {

// The value of one hex digit, or -1.
inline constexpr int hex_digit_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

} // namespace dockpol::rt::detail
