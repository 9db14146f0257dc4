// Docker's authorization-plugin protocol (docs/plugin.md), as dockerd speaks
// it (moby pkg/authorization/api.go): JSON over HTTP/1.1 on a UNIX socket.
//   POST /Plugin.Activate       → {"Implements":["authz"]}
//   POST /AuthZPlugin.AuthZReq  {User, UserAuthNMethod, RequestMethod, RequestUri,
//                                RequestBody (base64), RequestHeaders (string → string),
//                                RequestPeerCertificates ([base64 of PEM])}
//                               → {"Allow":bool,"Msg":"…","Err":"…"}
//   POST /AuthZPlugin.AuthZRes  the same request plus ResponseStatusCode → {"Allow":true}
// Pure: parsing and serializing only, no sockets. dockerd writes these keys
// exactly (Go struct tags), so keys are matched exactly; unknown keys are
// ignored (newer dockerd versions may add some). The envelope is small
// and comes from dockerd itself, so it is parsed with nlohmann/json; the
// request body inside it is scanned by the runtime like the proxy's.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "dockpol/rt/detail/body_paths.hpp"
#include "dockpol/rt/json_text.hpp"

namespace dockpol::sidecar::plugin {

// The plugin API's media type; dockerd sends it and accepts it back.
inline constexpr std::string_view plugin_media_type = "application/vnd.docker.plugins.v1.2+json";

// Endpoint paths, as dockerd calls them.
inline constexpr std::string_view activate_path = "/Plugin.Activate";
inline constexpr std::string_view authz_request_path = "/AuthZPlugin.AuthZReq";
inline constexpr std::string_view authz_response_path = "/AuthZPlugin.AuthZRes";

// dockerd sends at most 4 MiB of body; the others are far below anything real, so more is not dockerd.
inline constexpr std::size_t max_header_entries = 1024;
inline constexpr std::size_t max_peer_certificates = 16;

struct authz_request {
    std::string user;                 // "" for the UNIX socket; the TLS client's CN otherwise
    std::string authn_method;
    std::string method;               // RequestMethod
    std::string uri;                  // RequestUri: path and query as the client sent them
    std::vector<std::pair<std::string, std::string>> headers;   // canonical Go names ("Content-Type"), one value each
    std::optional<std::string> body;  // decoded RequestBody; absent when dockerd sent none
    std::vector<std::string> peer_certificates_pem;   // decoded: PEM text, leaf first
    int response_status = 0;          // ResponseStatusCode (AuthZRes only)
};

struct authz_response {
    bool allow = false;
    std::string msg;   // shown to the client after "authorization denied by plugin NAME: "
    std::string err;   // a failure of the plugin itself
};

namespace detail {

inline int base64_value(unsigned char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

} // namespace detail

// Go's encoding/json writes []byte as standard base64 with padding; anything else is not from dockerd.
inline std::optional<std::string> decode_base64(std::string_view in) {
    if (in.size() % 4 != 0) return std::nullopt;
    std::string out;
    out.reserve(in.size() / 4 * 3);
    for (std::size_t i = 0; i < in.size(); i += 4) {
        const bool last = i + 4 == in.size();
        int v[4];
        int pad = 0;
        for (int k = 0; k < 4; ++k) {
            const auto c = static_cast<unsigned char>(in[i + static_cast<std::size_t>(k)]);
            // Padding only at the end of the last quantum, at most two characters.
            if (c == '=' && last && k >= 2) {
                v[k] = 0;
                ++pad;
                continue;
            }
            if (pad > 0) return std::nullopt;
            v[k] = detail::base64_value(c);
            if (v[k] < 0) return std::nullopt;
        }
        const std::uint32_t n = (static_cast<std::uint32_t>(v[0]) << 18) | (static_cast<std::uint32_t>(v[1]) << 12) |
                                (static_cast<std::uint32_t>(v[2]) << 6) | static_cast<std::uint32_t>(v[3]);
        // Non-zero bits under the padding mean a non-canonical encoding (Go's strict decoder refuses it too).
        if ((pad == 1 && (n & 0xff) != 0) || (pad == 2 && (n & 0xffff) != 0)) return std::nullopt;
        out.push_back(static_cast<char>((n >> 16) & 0xff));
        if (pad < 2) out.push_back(static_cast<char>((n >> 8) & 0xff));
        if (pad < 1) out.push_back(static_cast<char>(n & 0xff));
    }
    return out;
}

// Parses an AuthZReq or AuthZRes body; the error says which field is wrong.
inline std::variant<authz_request, std::string> parse_authz_request(std::string_view text) {
    using result = std::variant<authz_request, std::string>;
    auto fail = [](std::string why) { return result(std::in_place_index<1>, std::move(why)); };
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded()) return fail("the plugin request is not JSON");
    if (!j.is_object()) return fail("the plugin request is not a JSON object");
    authz_request r;
    // Go's omitempty leaves out empty strings: a missing string field is "".
    struct string_field { std::string_view key; std::string authz_request::*out; };
    static const string_field strings[] = {
        {"User", &authz_request::user},
        {"UserAuthNMethod", &authz_request::authn_method},
        {"RequestMethod", &authz_request::method},
        {"RequestUri", &authz_request::uri},
    };
    for (const auto& f : strings) {
        auto it = j.find(f.key);
        if (it == j.end() || it->is_null()) continue;
        if (!it->is_string()) return fail(std::string(f.key) + " is not a string");
        r.*f.out = it->get<std::string>();
    }
    if (r.method.empty()) return fail("RequestMethod is missing");
    if (r.uri.empty()) return fail("RequestUri is missing");
    if (auto it = j.find("RequestBody"); it != j.end() && !it->is_null()) {
        if (!it->is_string()) return fail("RequestBody is not a base64 string");
        auto b = decode_base64(it->get_ref<const std::string&>());
        if (!b) return fail("RequestBody is not valid base64");
        r.body = std::move(*b);
    }
    if (auto it = j.find("RequestHeaders"); it != j.end() && !it->is_null()) {
        if (!it->is_object()) return fail("RequestHeaders is not an object");
        if (it->size() > max_header_entries) return fail("RequestHeaders has too many entries");
        for (const auto& [k, v] : it->items()) {
            if (!v.is_string()) return fail("RequestHeaders[" + k + "] is not a string");
            r.headers.emplace_back(k, v.get<std::string>());
        }
    }
    if (auto it = j.find("RequestPeerCertificates"); it != j.end() && !it->is_null()) {
        if (!it->is_array()) return fail("RequestPeerCertificates is not an array");
        if (it->size() > max_peer_certificates) return fail("RequestPeerCertificates has too many entries");
        for (const auto& c : *it) {
            if (!c.is_string()) return fail("RequestPeerCertificates holds a non-string");
            auto pem = decode_base64(c.get_ref<const std::string&>());
            if (!pem) return fail("RequestPeerCertificates holds invalid base64");
            r.peer_certificates_pem.push_back(std::move(*pem));
        }
    }
    if (auto it = j.find("ResponseStatusCode"); it != j.end() && !it->is_null()) {
        if (!it->is_number_integer()) return fail("ResponseStatusCode is not an integer");
        const auto s = it->get<std::int64_t>();
        if (s < 0 || s > 999) return fail("ResponseStatusCode is out of range");
        r.response_status = static_cast<int>(s);
    }
    return result(std::in_place_index<0>, std::move(r));
}

// The value of header `name` (ASCII case-insensitive, as Go's Header.Get), or nullopt.
inline std::optional<std::string_view> header_value(const authz_request& r, std::string_view name) {
    for (const auto& [k, v] : r.headers)
        if (rt::detail::ascii_iequal(k, name)) return std::string_view(v);
    return std::nullopt;
}

// {"Allow":…} with Msg and Err only when set (Go's omitempty).
inline std::string serialize(const authz_response& r) {
    std::string out = r.allow ? "{\"Allow\":true" : "{\"Allow\":false";
    if (!r.msg.empty()) {
        out += ",\"Msg\":";
        rt::append_json_string(out, r.msg);
    }
    if (!r.err.empty()) {
        out += ",\"Err\":";
        rt::append_json_string(out, r.err);
    }
    out += "}\n";
    return out;
}

// The answer to /Plugin.Activate.
inline std::string activate_body() { return "{\"Implements\":[\"authz\"]}\n"; }

} // namespace dockpol::sidecar::plugin
