// Strict validation of a raw HTTP/1.x request head before anything parses or
// forwards it. dockerd (Go net/http) and Beast disagree on some edge cases
// (obs-fold, duplicate framing headers, bare LF); any head on which two HTTP
// parsers could disagree is refused with 400, so what the policy decided on
// is exactly what dockerd will see (no request smuggling).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "dockpol/rt/detail/body_paths.hpp"
#include "dockpol/rt/detail/request_target.hpp"

namespace dockpol::sidecar {

// Enough for the docker CLI (~10 headers) and any sane client; bounds per-request work.
inline constexpr std::size_t max_header_count = 100;

struct head_facts {
    std::string_view method;
    std::string_view target;
    int version = 11;                        // 10 or 11
    std::optional<std::uint64_t> content_length;
    bool chunked = false;
    bool expect_continue = false;
    std::size_t header_count = 0;
};

struct head_result {
    std::optional<std::string> error;        // reason for a 400
    head_facts facts;
};

namespace detail {

using rt::detail::ascii_iequal;
using rt::detail::is_tchar;

inline std::string_view trim_ows(std::string_view v) {
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    return v;
}

} // namespace detail

// `head` is the request line, the fields and the terminating empty line (CRLF CRLF).
inline head_result check_request_head(std::string_view head) {
    head_result r;
    auto fail = [&r](std::string why) {
        r.error = std::move(why);
        return r;
    };
    // Every line must end in CRLF; a bare CR or LF is where parsers disagree on line boundaries.
    for (std::size_t i = 0; i < head.size(); ++i) {
        if (head[i] == '\r' && (i + 1 >= head.size() || head[i + 1] != '\n')) return fail("bare CR in header");
        if (head[i] == '\n' && (i == 0 || head[i - 1] != '\r')) return fail("bare LF in header");
    }
    if (!head.ends_with("\r\n\r\n")) return fail("incomplete header");
    auto eol = head.find("\r\n");
    std::string_view line = head.substr(0, eol);
    if (line.empty()) return fail("empty request line");

    // request-line = method SP request-target SP HTTP-version, single spaces only.
    auto sp1 = line.find(' ');
    if (sp1 == std::string_view::npos || sp1 == 0) return fail("malformed request line");
    auto sp2 = line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || sp2 == sp1 + 1) return fail("malformed request line");
    r.facts.method = line.substr(0, sp1);
    r.facts.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    std::string_view version = line.substr(sp2 + 1);
    for (const char c : r.facts.method)
        if (!detail::is_tchar(c)) return fail("invalid method");
    // Only origin-form targets: absolute-form and authority-form would let a client name another host.
    if (r.facts.target.front() != '/') return fail("request target must start with /");
    if (auto why = rt::detail::check_target_length(r.facts.target); !why.empty()) return fail(std::string(why));
    for (unsigned char c : r.facts.target)
        if (c <= 0x20 || c >= 0x7f) return fail("invalid byte in request target");
    if (version == "HTTP/1.1") r.facts.version = 11;
    else if (version == "HTTP/1.0") r.facts.version = 10;
    else return fail("unsupported HTTP version");

    bool have_te = false;
    int host_count = 0;
    std::size_t pos = eol + 2;
    while (pos < head.size()) {
        auto next = head.find("\r\n", pos);
        std::string_view field = head.substr(pos, next - pos);
        pos = next + 2;
        if (field.empty()) break;   // the terminating empty line
        // obs-fold (a continuation line) is deprecated and parsed differently by different servers.
        if (field.front() == ' ' || field.front() == '\t') return fail("obsolete header line folding");
        if (++r.facts.header_count > max_header_count) return fail("too many header fields");
        auto colon = field.find(':');
        if (colon == std::string_view::npos || colon == 0) return fail("malformed header field");
        std::string_view name = field.substr(0, colon);
        // Whitespace before the colon is forbidden (RFC 9112 §5.1): some proxies strip it, some do not.
        for (const char c : name)
            if (!detail::is_tchar(c)) return fail("invalid header field name");
        std::string_view value = detail::trim_ows(field.substr(colon + 1));
        for (unsigned char c : value)
            if ((c < 0x20 && c != '\t') || c == 0x7f) return fail("control character in header field value");

        if (detail::ascii_iequal(name, "Content-Length")) {
            // Two Content-Length fields (even equal ones) or a list are a classic smuggling vector.
            if (r.facts.content_length) return fail("multiple Content-Length fields");
            if (value.empty() || value.size() > 15) return fail("invalid Content-Length");
            std::uint64_t n = 0;
            for (char c : value) {
                if (c < '0' || c > '9') return fail("invalid Content-Length");
                n = n * 10 + static_cast<std::uint64_t>(c - '0');
            }
            r.facts.content_length = n;
        } else if (detail::ascii_iequal(name, "Transfer-Encoding")) {
            // dockerd only understands chunked; anything else (gzip, lists, repeats) is ambiguous framing.
            if (have_te) return fail("multiple Transfer-Encoding fields");
            have_te = true;
            if (!detail::ascii_iequal(value, "chunked")) return fail("unsupported Transfer-Encoding");
            r.facts.chunked = true;
        } else if (detail::ascii_iequal(name, "Host")) {
            if (++host_count > 1) return fail("multiple Host fields");
        } else if (detail::ascii_iequal(name, "Expect")) {
            if (!detail::ascii_iequal(value, "100-continue")) return fail("unsupported Expect");
            r.facts.expect_continue = true;
        }
    }
    if (pos != head.size()) return fail("data after the end of the header");
    if (r.facts.chunked && r.facts.content_length) return fail("both Transfer-Encoding and Content-Length");
    // HTTP/1.0 has no chunked coding; a 1.1 intermediary would frame the body differently.
    if (r.facts.chunked && r.facts.version == 10) return fail("chunked Transfer-Encoding in HTTP/1.0");
    return r;
}

} // namespace dockpol::sidecar
