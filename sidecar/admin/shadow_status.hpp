// GET /v1/shadow (docs/request-model.md#shadow-bundle): the shadow bundle's
// status — as /v1/status has it for the live one — and what it would have
// changed: requests compared, disagreements (a different decision), shadow
// errors, the disagreements by action and rule pair (most frequent first)
// and the last ones as examples (newest first). Counts run since the process
// started, across shadow revisions; each example names the revision.
#pragma once
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "bundles/reload_status.hpp"
#include "dockpol/rt/json_text.hpp"
#include "shadow/shadow_slot.hpp"

namespace dockpol::sidecar {

namespace detail {

inline std::string_view decision_text(bool allow) { return allow ? "allow" : "deny"; }

// {"decision":D,"rule":R}
inline void append_verdict(std::string& out, bool allow, std::string_view rule) {
    out += "{\"decision\":";
    rt::append_json_string(out, decision_text(allow));
    out += ",\"rule\":";
    rt::append_json_string(out, rule);
}

} // namespace detail

inline std::string shadow_status_json(const shadow_slot& s) {
    // The serving part is /v1/status's object for the shadow's store and reloader, without its closing brace.
    std::string out = status_json(s.store.status(), s.reloader ? s.reloader->record() : reload_record{});
    while (!out.empty() && out.back() != '}') out.pop_back();
    out.pop_back();
    const auto& t = s.tally;
    fmt::format_to(std::back_inserter(out), ",\"requests\":{},\"disagreements\":{},\"errors\":{},\"promotions\":{}",
                   t.requests(), t.disagreements(), t.shadow_decisions(2),
                   s.promotions.load(std::memory_order_relaxed));
    std::uint64_t overflow = 0;
    const auto rows = t.rows(overflow);
    out += ",\"by_action\":[";
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const auto& r = rows[i];
        if (i) out.push_back(',');
        out += "{\"action\":";
        rt::append_json_string(out, r.action);
        out += ",\"live\":";
        rt::append_json_string(out, detail::decision_text(r.live_allow));
        out += ",\"shadow\":";
        rt::append_json_string(out, detail::decision_text(r.shadow_allow));
        out += ",\"live_rule\":";
        rt::append_json_string(out, r.live_rule);
        out += ",\"shadow_rule\":";
        rt::append_json_string(out, r.shadow_rule);
        fmt::format_to(std::back_inserter(out), ",\"count\":{}}}", r.count);
    }
    fmt::format_to(std::back_inserter(out), "],\"by_action_overflow\":{},\"examples\":[", overflow);
    const auto examples = t.examples();
    for (std::size_t i = 0; i < examples.size(); ++i) {
        const auto& x = examples[i];
        if (i) out.push_back(',');
        out += "{\"time\":";
        rt::append_json_string(out, rfc3339_ms(x.time));
        out += ",\"id\":";
        rt::append_json_string(out, x.id);
        out += ",\"user\":";
        rt::append_json_string(out, x.user);
        out += ",\"action\":";
        rt::append_json_string(out, x.action);
        out += ",\"live\":";
        detail::append_verdict(out, x.live_allow, x.live_rule);
        out += "},\"shadow\":";
        detail::append_verdict(out, x.shadow_allow, x.shadow_rule);
        out += ",\"revision\":";
        rt::append_json_string(out, x.shadow_revision);
        out += "}}";
    }
    out += "]}\n";
    return out;
}

} // namespace dockpol::sidecar
