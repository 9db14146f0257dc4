// Requests dockerd would read differently from what the policy decided on,
// refused before anything is forwarded (each check returns the reason for a
// 400, or "" when the request is fine). Pure: tested without sockets.
//  - Form bodies: Go's ParseForm lets an application/x-www-form-urlencoded
//    body override query parameters on POST/PUT/PATCH, and /build's FormValue
//    also reads multipart/form-data; the docker CLI sends neither.
//  - A repeated `filters` parameter: the policy reads the first, and dockerd's
//    filter parsing must not be left to pick another.
//  - Chunked trailer fields: Beast merges them into the header it re-serializes,
//    so they would reach dockerd as header fields nobody decided on.
#pragma once
#include <array>
#include <cstddef>
#include <string_view>

#include "dockpol/rt/detail/body_paths.hpp"
#include "dockpol/rt/request.hpp"

namespace dockpol::sidecar {

namespace detail {

using rt::detail::ascii_iequal;

// Media types Go's net/http parses as form values.
inline constexpr std::array<std::string_view, 2> form_media_types = {
    "application/x-www-form-urlencoded",
    "multipart/form-data",
};

} // namespace detail

// `value` is one Content-Type field value. Go's mime.ParseMediaType takes the
// part before `;`, trims Unicode space and lowercases with Unicode rules.
inline std::string_view content_type_refusal(std::string_view value) {
    // Unicode trimming/lowering could turn non-ASCII bytes into a form type; no client of the API sends any.
    for (unsigned char c : value)
        if (c >= 0x80) return "non-ASCII Content-Type";
    auto base = value.substr(0, value.find(';'));
    constexpr std::string_view space = " \t\r\n\v\f";
    while (!base.empty() && space.find(base.front()) != std::string_view::npos) base.remove_prefix(1);
    while (!base.empty() && space.find(base.back()) != std::string_view::npos) base.remove_suffix(1);
    for (auto form : detail::form_media_types)
        if (detail::ascii_iequal(base, form)) return "form-encoded request body (dockerd would read parameters from it)";
    return "";
}

// `query` as decoded by the router.
inline std::string_view query_refusal(const rt::string_pairs& query) {
    int filters = 0;
    for (const auto& [k, v] : query)
        if (k == "filters" && ++filters > 1) return "repeated filters query parameter";
    return "";
}

// Header field counts before and after the body was parsed: any growth is a trailer.
inline std::string_view trailer_refusal(std::size_t fields_after_head, std::size_t fields_after_body) {
    return fields_after_body != fields_after_head ? "chunked trailer fields" : "";
}

} // namespace dockpol::sidecar
