// upstream_response_fuzz: whatever dockerd (or something on its socket)
// answers goes through the parsing dockpold does without crashing:
//   - the relayed response (sidecar/proxy/client_session.hpp): Beast's
//     response_parser<buffer_body> with dockpold's upstream header limit and
//     no body limit, `skip` for HEAD requests, the body pulled through a
//     small scratch buffer as sidecar/proxy/relay.hpp does, bytes arriving in
//     pieces of a fuzz-chosen size;
//   - the resource inspect answer: response_parser<string_body> with the
//     inspect limits, then sidecar::parse_inspect for a fuzz-chosen kind.
// Input: one selector byte (inspect kind, HEAD, piece size), then the bytes.
#define DOCKPOL_FUZZ_TARGET "upstream_response_fuzz"
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "dockpol/rt/limits.hpp"
#include "fuzz_support.hpp"
#include "sidecar/proxy/resource_lookup.hpp"

namespace upstream_response_fuzz {

namespace {

using namespace dockpol;
namespace http = boost::beast::http;
namespace net = boost::asio;

// dockpold's limit on dockerd's response heads (the relay and the lookups).
constexpr auto upstream_header_limit = static_cast<std::uint32_t>(rt::limits::max_upstream_head_bytes);
// The relay's scratch is 64 KiB in dockpold; a small one exercises need_buffer far more often.
constexpr std::size_t scratch_bytes = 61;

constexpr std::array<std::string_view, 12> kinds = {"container", "image", "network", "volume", "exec", "service",
                                                    "node", "task", "secret", "config", "plugin", ""};
constexpr std::array<std::size_t, 8> piece_sizes = {1, 2, 3, 7, 64, 512, 4096, 1u << 20};

// Feeds `bytes` to a parser in pieces, the way an async read fills a flat
// buffer: unconsumed bytes stay buffered and are presented again with the next piece.
template <class Parser, class BeforePut>
void feed(Parser& p, std::string_view bytes, std::size_t piece, BeforePut before_put) {
    std::string buffered;
    std::size_t next = 0;
    boost::beast::error_code ec;
    for (int guard = 0; guard < 1 << 20; ++guard) {
        if (p.is_done()) return;
        if (buffered.empty() || ec == http::error::need_more) {
            if (next >= bytes.size()) {
                // End of stream, as Beast's read does: put_eof only once the message has begun.
                if (p.got_some()) p.put_eof(ec);
                return;
            }
            const auto take = std::min(piece, bytes.size() - next);
            buffered.append(bytes.substr(next, take));
            next += take;
        }
        ec = {};
        before_put();
        const std::size_t used = p.put(net::buffer(buffered.data(), buffered.size()), ec);
        DOCKPOL_FUZZ_CHECK(used <= buffered.size(), "parser consumed more than it was given");
        buffered.erase(0, used);
        if (ec == http::error::need_buffer) ec = {};
        else if (ec && ec != http::error::need_more) return;  // dockpold drops the upstream connection
    }
    DOCKPOL_FUZZ_CHECK(false, "parser made no progress");
}

void relay(std::string_view bytes, bool head_request, std::size_t piece) {
    http::response_parser<http::buffer_body> p;
    p.header_limit(upstream_header_limit);
    p.body_limit(boost::none);
    if (head_request) p.skip(true);
    char scratch[scratch_bytes];
    std::uint64_t relayed = 0;
    feed(p, bytes, piece, [&] {
        auto& b = p.get().body();
        if (b.data) relayed += scratch_bytes - b.size;
        b.data = scratch;
        b.size = scratch_bytes;
    });
    DOCKPOL_FUZZ_CHECK(relayed <= bytes.size(), "more body bytes than input bytes");
    if (p.is_header_done()) {
        const unsigned status = p.get().result_int();
        DOCKPOL_FUZZ_CHECK(status <= 999, std::to_string(status));
        (void)p.keep_alive();
    }
}

void inspect(std::string_view bytes, std::string_view kind, std::size_t piece) {
    http::response_parser<http::string_body> p;
    p.header_limit(upstream_header_limit);
    p.body_limit(sidecar::max_inspect_bytes);
    feed(p, bytes, piece, [] {});
    if (!p.is_done() || p.get().result_int() != 200) return;
    const std::string& body = p.get().body();
    const auto info = sidecar::parse_inspect(kind, body);
    // Any JSON object is an answer: a missing name or labels is "unknown", not a failed lookup.
    const auto j = nlohmann::json::parse(body, nullptr, false);
    if (!j.is_discarded() && j.is_object()) DOCKPOL_FUZZ_CHECK(info.has_value(), "JSON object refused as inspect answer");
    if (!info) return;
    for (const auto& [k, v] : info->labels) DOCKPOL_FUZZ_CHECK(k.size() + v.size() <= body.size(), "label bigger than the body");
}

} // namespace

DOCKPOL_FUZZ_ENTRY(data, size) {
    if (size == 0) return 0;
    const std::uint8_t sel = data[0];
    const std::string_view bytes = fuzz::as_text(data + 1, size - 1);
    const std::size_t piece = piece_sizes[(sel >> 5) & 7];
    relay(bytes, (sel & 0x10) != 0, piece);
    inspect(bytes, kinds[(sel & 0x0f) % kinds.size()], piece);
    return 0;
}

} // namespace upstream_response_fuzz

#undef DOCKPOL_FUZZ_TARGET
