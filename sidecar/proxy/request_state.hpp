// One request's state in a session, from its head to its audit line: what
// was routed and decided, what was forwarded, and how it ended. The audit
// event is built from it alone (request_audit.hpp).
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "dockpol/rt/bind.hpp"
#include "dockpol/rt/decide.hpp"
#include "dockpol/rt/request.hpp"
#include "dockpol/rt/routes.hpp"
#include "shadow/shadow_tally.hpp"

namespace dockpol::sidecar {

struct request_state {
    std::chrono::steady_clock::time_point start{};
    std::chrono::system_clock::time_point wall{};
    std::string id;
    std::string method, path;
    rt::route_result route;
    rt::request req;
    std::string_view action;
    std::uint16_t action_id = 0;
    bool hijack = false;
    bool has_body = false;
    bool body_buffered = false;
    bool expect_continue = false;
    std::shared_ptr<const rt::program> prog;
    std::string_view decision = "deny";
    std::string rule, reason;
    unsigned status = 0;
    std::uint64_t bytes_in = 0, bytes_out = 0;
    bool active = false;
    std::size_t head_fields = 0;   // header fields after the head; more after the body are trailers
    std::string target_id;         // the exact id forwarded in place of the path's name
    std::string forward_target;    // the rewritten request target, "" to forward the target as sent
    std::vector<rt::rewrite> rewrites;   // what the decision changed before forwarding (audit `rewrites`)
    std::optional<rt::input> bound;      // the slot values the decision read (audit `facts`)
    // The shadow bundle (shadow_decide.hpp): its snapshot, taken with `prog`; null without one.
    std::shared_ptr<const rt::program> shadow_prog;
    bool shadow_reads_body = false;        // the body is read for the shadow alone (the live does not read it)
    bool shadow_missing_objects = false;   // an object the shadow reads was left out of the lookup round
    std::optional<shadow_verdict> shadow;  // set when the live decided with rt::decide
};

} // namespace dockpol::sidecar
