// The request head dockerd receives, built from the head the client sent and
// what the decision changed: the target (the looked-up full id, a rewritten
// query), the Expect that dockpold answered itself, and — for a body that was
// read whole — that body's bytes framed by Content-Length (it may have been
// rewritten, and chunked framing could carry trailers nobody decided on).
// dockpol's own hand-off headers never come from a client: they are dropped,
// and with --handoff-key the proxy's signed one is added (handoff.hpp).
// Every other field goes on byte for byte, in order. Pure apart from the
// signer's counter: no sockets.
#pragma once
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "handoff/handoff.hpp"

namespace dockpol::sidecar {

struct forward_plan {
    std::string target;                  // "" keeps the target as sent
    bool body_buffered = false;          // the body was read whole (inspected)
    std::size_t body_size = 0;           // ... and this many bytes of it are forwarded
    handoff::signer* handoff = nullptr;  // signs the request for the plugin behind dockerd (--handoff-key)
};

// Changes `h` (the client's head, already validated) into the head to forward.
inline void prepare_forward_head(boost::beast::http::request_header<>& h, const forward_plan& plan) {
    namespace http = boost::beast::http;
    if (!plan.target.empty()) h.target(plan.target);
    // A client's copy would speak for dockpold to the plugin (every spelling: field names compare caseless).
    h.erase(handoff::decision_header);
    h.erase(handoff::lookup_header);
    if (plan.handoff) h.set(handoff::decision_header, plan.handoff->token(h.method_string(), h.target()));
    // dockpold answered the client's Expect: dockerd must not send a second interim response.
    h.erase(http::field::expect);
    if (plan.body_buffered) {
        h.erase(http::field::transfer_encoding);
        h.erase(http::field::content_length);
        h.set(http::field::content_length, std::to_string(plan.body_size));
    }
}

} // namespace dockpol::sidecar
