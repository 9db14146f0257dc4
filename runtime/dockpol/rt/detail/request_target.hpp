// Checks on the request target and its path that must hold before routing:
// the refusals docs/actions.md lists where dockerd would redirect, decode or guess.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

#include "dockpol/rt/detail/percent.hpp"
#include "dockpol/rt/limits.hpp"

namespace dockpol::rt::detail {

// RFC 9110 token characters: what a method and a header field name may consist of.
inline constexpr bool is_tchar(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// "" or why the target is too long to route (limits::max_target_bytes, named in the message).
inline std::string_view check_target_length(std::string_view target) {
    static const std::string too_long =
        "request target longer than " + std::to_string(limits::max_target_bytes) + " bytes";
    return target.size() > limits::max_target_bytes ? std::string_view(too_long) : std::string_view();
}

// Raw bytes no request line may carry in its target: controls and space
// split or end the request line, `#` starts a fragment a client never sends.
inline std::string_view check_target_bytes(std::string_view target) {
    for (const char c : target) {
        const auto b = static_cast<unsigned char>(c);
        if (is_control(b)) return "control byte in request target";
        if (c == ' ') return "space in request target";
        if (c == '#') return "fragment ('#') in request target";
    }
    return "";
}

// "" when `path` is already what Go's path.Clean would make of it (keeping
// a trailing slash, as gorilla/mux does); otherwise why dockerd would answer
// with a 301 to another path.
inline std::string_view check_clean(std::string_view path) {
    std::size_t i = 1;   // path starts with '/'
    while (i <= path.size()) {
        std::size_t j = path.find('/', i);
        if (j == std::string_view::npos) j = path.size();
        const std::string_view seg = path.substr(i, j - i);
        const bool last = j == path.size();
        if (seg.empty() && !last) return "empty path segment ('//') in path";
        if (seg == "." || seg == "..") return "dot segment ('.' or '..') in path";
        i = j + 1;
    }
    return "";
}

// Oldest API dockpol routes: before 1.24, container_start accepted a
// HostConfig, which would bypass every check made at container_create.
inline constexpr unsigned min_api_major = 1;
inline constexpr unsigned min_api_minor = 24;

// Digits per version component: real versions have 1-2; more only hides
// overflow (dockerd's Atoi would read such a version as 0).
inline constexpr std::size_t max_version_digits = 4;

// True when the segment is what dockerd's `/v{version:[0-9.]+}` claims.
inline constexpr bool looks_like_version(std::string_view seg) {
    if (seg.size() < 2 || seg[0] != 'v') return false;
    for (std::size_t i = 1; i < seg.size(); ++i)
        if (!(seg[i] == '.' || (seg[i] >= '0' && seg[i] <= '9'))) return false;
    return true;
}

// Parses "MAJOR.MINOR" (the segment without its `v`); "" on success, else the
// reason. Leading zeros are refused so one version has one spelling
// (dockerd compares numerically; policies compare api_version as text).
inline std::string_view parse_version(std::string_view v, unsigned& major, unsigned& minor) {
    const std::size_t dot = v.find('.');
    if (dot == std::string_view::npos || v.find('.', dot + 1) != std::string_view::npos)
        return "malformed API version prefix (expected /vMAJOR.MINOR)";
    const std::string_view parts[2] = {v.substr(0, dot), v.substr(dot + 1)};
    unsigned* out[2] = {&major, &minor};
    for (int k = 0; k < 2; ++k) {
        const std::string_view p = parts[k];
        if (p.empty()) return "malformed API version prefix (expected /vMAJOR.MINOR)";
        if (p.size() > max_version_digits) return "API version component too long";
        if (p.size() > 1 && p[0] == '0') return "API version with leading zeros";
        unsigned n = 0;
        for (const char c : p) n = n * 10 + static_cast<unsigned>(c - '0');
        *out[k] = n;
    }
    if (major < min_api_major || (major == min_api_major && minor < min_api_minor))
        return "API version below 1.24 (older APIs accept a HostConfig at container start)";
    return "";
}

} // namespace dockpol::rt::detail
