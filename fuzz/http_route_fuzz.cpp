// http_route_fuzz: a client's request head, processed the way dockpold's
// session does (sidecar/proxy/client_session.hpp on_head): the strict head check
// (sidecar/proxy/head_check.hpp), then Beast's request parser with dockpold's
// header limit, then rt::route on Beast's method and target. Properties:
//   - nothing crashes;
//   - when the head check and Beast both accept, they agree on method,
//     target, version and body framing (else the policy decides on one
//     reading and dockerd acts on another: request smuggling);
//   - when rt::route accepts, routing its canonical form (`/v<version>` +
//     re-encoded path + `?` re-encoded query) gives the same action, id,
//     path, version and query.
// The first line's first two words are also routed directly, so the router
// sees targets the head check would refuse.
// The bytes after the head are the body: dockpold refuses the request (form
// body, repeated filters, trailer fields) or forwards it, and then the
// forwarded bytes (head re-serialized, target rewritten to an id where
// dockpold would, the body as read) re-parse to the same method, path, query,
// header fields and body that were decided on.
#define DOCKPOL_FUZZ_TARGET "http_route_fuzz"
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <cstdint>
#include <string>
#include <string_view>

#include "dockpol/rt/routes.hpp"
#include "fuzz_support.hpp"
#include "sidecar/config.hpp"
#include "sidecar/proxy/forward_target.hpp"
#include "sidecar/proxy/head_check.hpp"
#include "sidecar/proxy/request_refusals.hpp"

namespace http_route_fuzz {

namespace {

using namespace dockpol;
namespace http = boost::beast::http;

std::string_view sv(boost::beast::string_view s) { return {s.data(), s.size()}; }

// Percent-encodes every byte outside RFC 3986 unreserved (plus `keep`),
// written independently of the router's own encoder.
std::string encode(std::string_view s, std::string_view keep) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (const char c : s) {
        const auto b = static_cast<unsigned char>(c);
        const bool plain = (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') ||
                           std::string_view("-._~").find(c) != std::string_view::npos ||
                           keep.find(c) != std::string_view::npos;
        if (plain) {
            out += c;
        } else {
            out += '%';
            out += hex[b >> 4];
            out += hex[b & 15];
        }
    }
    return out;
}

std::string canonical_target(const rt::route_result& r) {
    std::string t;
    if (!r.api_version.empty()) t = "/v" + r.api_version;
    t += encode(r.path, "/");
    for (std::size_t i = 0; i < r.query.size(); ++i) {
        t += i == 0 ? "?" : "&";
        t += encode(r.query[i].first, "") + "=" + encode(r.query[i].second, "");
    }
    return t;
}

void check_route(std::string_view method, std::string_view target) {
    const auto r = rt::route(method, target);
    if (!r.ok) {
        DOCKPOL_FUZZ_CHECK(!r.error.empty(), "refusal without a reason");
        return;
    }
    DOCKPOL_FUZZ_CHECK(r.action_id < rt::action_count && r.action == rt::all_actions()[r.action_id].name,
                       std::string(r.action));
    DOCKPOL_FUZZ_CHECK(!r.path.empty() && r.path.front() == '/', r.path);
    const std::string canon = canonical_target(r);
    const auto again = rt::route(method, canon);
    const std::string what = std::string(target) + " -> " + canon;
    DOCKPOL_FUZZ_CHECK(again.ok, what + ": canonical form refused: " + again.error);
    DOCKPOL_FUZZ_CHECK(again.action_id == r.action_id, what + ": " + std::string(r.action) + " vs " + std::string(again.action));
    DOCKPOL_FUZZ_CHECK(again.resource_id == r.resource_id, what + ": id '" + r.resource_id + "' vs '" + again.resource_id + "'");
    DOCKPOL_FUZZ_CHECK(again.path == r.path && again.api_version == r.api_version && again.query == r.query,
                       what + ": path/version/query differ");
    if (!r.inspect_kind.empty()) {
        // The inspect path, when one can be built, must route back to this id (inspect_path proves it itself too).
        const std::string ip = rt::inspect_path(r.inspect_kind, r.resource_id);
        if (!ip.empty()) DOCKPOL_FUZZ_CHECK(rt::route("GET", ip).resource_id == r.resource_id, ip);
    }
}

using field_list = std::vector<std::pair<std::string, std::string>>;

template <class Msg>
field_list fields_of(const Msg& m) {
    field_list out;
    for (const auto& f : m) out.emplace_back(std::string(sv(f.name_string())), std::string(sv(f.value())));
    return out;
}

// What dockpold does with a head it accepted and the bytes after it.
void check_forward(std::string_view head, std::string_view rest, const rt::route_result& r) {
    if (!sidecar::query_refusal(r.query).empty()) return;
    http::request_parser<http::buffer_body> p;
    p.header_limit(static_cast<std::uint32_t>(sidecar::defaults::max_header_bytes));
    p.body_limit(boost::none);
    boost::beast::error_code ec;
    p.put(boost::asio::buffer(head.data(), head.size()), ec);
    if (ec || !p.is_header_done()) return;
    auto& msg = p.get();
    for (const auto& f : msg)
        if (f.name() == http::field::content_type && !sidecar::content_type_refusal(sv(f.value())).empty()) return;
    msg.erase(http::field::expect);   // dockpold answers Expect itself
    const field_list decided = fields_of(msg);
    // The body as dockpold reads it for inspection: through a small scratch buffer.
    std::string body;
    char scratch[61];
    while (!p.is_done()) {
        msg.body().data = scratch;
        msg.body().size = sizeof scratch;
        const auto n = p.put(boost::asio::buffer(rest.data(), rest.size()), ec);
        if (ec == http::error::need_buffer) ec = {};
        if (ec) return;   // malformed framing: dockpold answers 400 or closes
        body.append(scratch, sizeof scratch - msg.body().size);
        rest.remove_prefix(n);
        if (n == 0 && msg.body().size == sizeof scratch) return;   // incomplete: dockpold waits, forwards nothing yet
    }
    if (!sidecar::trailer_refusal(decided.size(), fields_of(msg).size()).empty()) return;
    // Forwarded: target rewritten to an id where dockpold would.
    static const std::string id = "f00df00d" "0123456789abcdef0123456789abcdef0123456789abcdef01234567";
    std::string target(sv(msg.target()));
    bool rewritten = false;
    if (sidecar::rewrites_target(r)) {
        const std::string t = sidecar::forward_target(sv(msg.method_string()), target, r, id);
        DOCKPOL_FUZZ_CHECK(!t.empty(), target + ": a hex id cannot be addressed");
        target = t;
        rewritten = true;
    }
    msg.target(target);
    msg.body().data = body.empty() ? nullptr : body.data();
    msg.body().size = body.size();
    msg.body().more = false;
    std::string wire;
    {
        http::request_serializer<http::buffer_body> sr(msg);
        sr.split(false);
        while (!sr.is_done()) {
            sr.next(ec, [&](boost::beast::error_code&, const auto& bufs) {
                wire += boost::beast::buffers_to_string(bufs);
                sr.consume(boost::asio::buffer_size(bufs));
            });
            if (ec == http::error::need_buffer) ec = {};
            DOCKPOL_FUZZ_CHECK(!ec, "serializer: " + ec.message());
        }
    }
    http::request_parser<http::string_body> back;
    back.header_limit(static_cast<std::uint32_t>(sidecar::defaults::max_header_bytes) * 2);
    back.body_limit(boost::none);
    back.eager(true);
    const auto used = back.put(boost::asio::buffer(wire), ec);
    const std::string what = std::string(head.substr(0, head.find('\r')));
    DOCKPOL_FUZZ_CHECK(!ec && back.is_done() && used == wire.size(), what + ": forwarded bytes do not re-parse: " + ec.message());
    const auto& m2 = back.get();
    DOCKPOL_FUZZ_CHECK(sv(m2.method_string()) == sv(msg.method_string()), what + ": method differs");
    const auto r2 = rt::route(sv(m2.method_string()), sv(m2.target()));
    DOCKPOL_FUZZ_CHECK(r2.ok && r2.action_id == r.action_id && r2.query == r.query && r2.api_version == r.api_version,
                       what + ": forwarded target routes elsewhere: " + std::string(sv(m2.target())));
    if (rewritten) DOCKPOL_FUZZ_CHECK(r2.resource_id == id, what + ": forwarded id differs");
    else DOCKPOL_FUZZ_CHECK(r2.path == r.path && r2.resource_id == r.resource_id, what + ": path differs");
    DOCKPOL_FUZZ_CHECK(fields_of(m2) == decided, what + ": forwarded header fields differ from the decided ones");
    DOCKPOL_FUZZ_CHECK(m2.body() == body, what + ": forwarded body differs");
}

void check_head(std::string_view head, std::string_view rest) {
    const auto hc = sidecar::check_request_head(head);
    if (hc.error) return;
    http::request_parser<http::buffer_body> p;
    p.header_limit(static_cast<std::uint32_t>(sidecar::defaults::max_header_bytes));
    p.body_limit(boost::none);
    boost::beast::error_code ec;
    p.put(boost::asio::buffer(head.data(), head.size()), ec);
    if (ec || !p.is_header_done()) return;  // dockpold answers 400: safe, whatever the reason
    const auto& msg = p.get();
    const auto& f = hc.facts;
    const std::string what = std::string(f.method) + " " + std::string(f.target);
    DOCKPOL_FUZZ_CHECK(sv(msg.method_string()) == f.method, what + ": Beast method " + std::string(sv(msg.method_string())));
    DOCKPOL_FUZZ_CHECK(sv(msg.target()) == f.target, what + ": Beast target " + std::string(sv(msg.target())));
    DOCKPOL_FUZZ_CHECK(static_cast<int>(msg.version()) == f.version, what + ": version");
    DOCKPOL_FUZZ_CHECK(p.chunked() == f.chunked, what + ": chunked framing differs");
    const auto cl = p.content_length();
    DOCKPOL_FUZZ_CHECK(f.chunked || cl.has_value() == f.content_length.has_value(), what + ": Content-Length presence differs");
    if (cl && f.content_length) DOCKPOL_FUZZ_CHECK(*cl == *f.content_length, what + ": Content-Length value differs");
    check_route(sv(msg.method_string()), sv(msg.target()));
    const auto r = rt::route(sv(msg.method_string()), sv(msg.target()));
    if (r.ok) check_forward(head, rest, r);
}

} // namespace

DOCKPOL_FUZZ_ENTRY(data, size) {
    const std::string_view text = fuzz::as_text(data, size);
    const std::string_view line = text.substr(0, text.find("\r\n"));
    const auto sp1 = line.find(' ');
    if (sp1 != std::string_view::npos) {
        const std::string_view rest = line.substr(sp1 + 1);
        check_route(line.substr(0, sp1), rest.substr(0, rest.find(' ')));
    }
    // dockpold cuts the head at the first empty line and refuses heads over its limit.
    const auto end = text.find("\r\n\r\n");
    if (end == std::string_view::npos || end + 4 > sidecar::defaults::max_header_bytes) return 0;
    check_head(text.substr(0, end + 4), text.substr(end + 4));
    return 0;
}

} // namespace http_route_fuzz

#undef DOCKPOL_FUZZ_TARGET
