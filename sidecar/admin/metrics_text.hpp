// GET /metrics: dockpold's counters, gauges and histograms in the Prometheus
// text format (docs/request-model.md names). Counters that are per (decision, action) are
// written only once non-zero, so a scrape stays small on a 200-action table.
#pragma once
#include <string>
#include <string_view>

#include "dockpol/rt/actions.hpp"
#include "metrics.hpp"
#include "prometheus.hpp"
#include "shadow/shadow_slot.hpp"

namespace dockpol::sidecar {

// Label values of requests_total's `decision`, indexed by decision_label.
inline constexpr std::string_view decision_label_names[] = {"allow", "deny"};

// The shadow bundle's families (only with --shadow-bundle): decisions, disagreements, revision, reloads.
inline void render_shadow_metrics(exposition& x, const shadow_slot& s) {
    const auto& t = s.tally;
    x.family("dockpol_shadow_decisions_total", "counter",
             "Requests the shadow bundle decided too, by its decision (error: a deny by rule error).");
    static constexpr std::string_view shadow_decision_names[] = {"allow", "deny", "error"};
    for (std::size_t i = 0; i < 3; ++i) {
        const label l[] = {{"decision", shadow_decision_names[i]}};
        x.sample("dockpol_shadow_decisions_total", l, t.shadow_decisions(i));
    }
    x.family("dockpol_shadow_disagreements_total", "counter",
             "Requests the shadow bundle decided differently (allow vs deny), by action and both decisions.");
    const auto actions = rt::all_actions();
    for (std::size_t a = 0; a < actions.size(); ++a)
        for (std::size_t live = 0; live < 2; ++live)
            for (std::size_t shadow = 0; shadow < 2; ++shadow)
                if (const std::uint64_t n = t.disagreements(static_cast<std::uint16_t>(a), live, shadow)) {
                    const label l[] = {{"action", actions[a].name},
                                       {"live", decision_label_names[live]},
                                       {"shadow", decision_label_names[shadow]}};
                    x.sample("dockpol_shadow_disagreements_total", l, n);
                }
    x.family("dockpol_shadow_bundle_info", "gauge", "The shadow bundle's revision (value is always 1).");
    if (const auto rev = s.store.status().revision; !rev.empty()) {
        const label l[] = {{"revision", rev}};
        x.sample("dockpol_shadow_bundle_info", l, std::uint64_t{1});
    }
    x.family("dockpol_shadow_reloads_total", "counter", "Shadow bundle reload attempts, by result.");
    {
        const label ok[] = {{"result", "success"}};
        const label bad[] = {{"result", "failure"}};
        x.sample("dockpol_shadow_reloads_total", ok, s.reload_stats.bundle_reloads_success.load(std::memory_order_relaxed));
        x.sample("dockpol_shadow_reloads_total", bad, s.reload_stats.bundle_reloads_failure.load(std::memory_order_relaxed));
    }
    x.single("dockpol_shadow_promotions_total", "counter", "Shadow bundles made live by POST /v1/shadow/promote.",
             s.promotions.load(std::memory_order_relaxed));
}

inline std::string render_metrics(const metrics& m, const latency_metrics& lat, std::string_view revision,
                                  const shadow_slot* shadow = nullptr) {
    exposition x;
    auto load = [](const auto& a) { return a.load(std::memory_order_relaxed); };

    x.family("dockpol_requests_total", "counter", "Requests decided, by decision and action.");
    const auto actions = rt::all_actions();
    for (std::size_t d = 0; d < m.requests.size(); ++d)
        for (std::size_t a = 0; a < actions.size() && a < m.requests[d].size(); ++a)
            if (const std::uint64_t n = load(m.requests[d][a])) {
                const label l[] = {{"decision", decision_label_names[d]}, {"action", actions[a].name}};
                x.sample("dockpol_requests_total", l, n);
            }
    x.single("dockpol_bad_requests_total", "counter", "Requests refused with 400 before any decision.", load(m.bad_requests));
    x.histogram_family("dockpol_decision_seconds", "Time to bind and evaluate a request against the policy.",
                       lat.decision_seconds);
    x.histogram_family("dockpol_request_seconds", "Time from request head to completion, as audited.", lat.request_seconds);
    x.single("dockpol_upstream_errors_total", "counter", "Failures talking to dockerd.", load(m.upstream_errors));
    x.single("dockpol_connections_active", "gauge", "Client connections open now.", load(m.connections_active));
    x.single("dockpol_connections_total", "counter", "Client connections accepted.", load(m.connections_total));
    x.single("dockpol_connections_refused_total", "counter", "Connections closed at once because --max-conns was reached.",
             load(m.connections_refused));
    x.single("dockpol_tls_handshake_failures_total", "counter", "Client TLS handshakes that failed.",
             load(m.tls_handshake_failures));
    x.family("dockpol_bundle_info", "gauge", "The serving bundle's revision (value is always 1).");
    if (!revision.empty()) {
        const label l[] = {{"revision", revision}};
        x.sample("dockpol_bundle_info", l, std::uint64_t{1});
    }
    x.family("dockpol_bundle_reloads_total", "counter", "Bundle reload attempts, by result.");
    {
        const label ok[] = {{"result", "success"}};
        const label bad[] = {{"result", "failure"}};
        x.sample("dockpol_bundle_reloads_total", ok, load(m.bundle_reloads_success));
        x.sample("dockpol_bundle_reloads_total", bad, load(m.bundle_reloads_failure));
    }
    x.single("dockpol_audit_dropped_total", "counter", "Audit lines dropped because the writer fell behind.",
             load(m.audit_dropped));
    if (shadow) render_shadow_metrics(x, *shadow);
    return x.take();
}

} // namespace dockpol::sidecar
