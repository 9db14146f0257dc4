// Process-wide counters (docs/request-model.md metrics). Lock-free atomics, relaxed
// ordering: they are statistics, not synchronisation. The admin endpoint
// renders them; the request path only increments.
#pragma once
#include <array>
#include <atomic>
#include <cstdint>

#include "dockpol/rt/actions.hpp"
#include "prometheus.hpp"

namespace dockpol::sidecar {

enum class decision_label : std::uint8_t { allow = 0, deny = 1 };

struct metrics {
    // requests_total{decision, action}: one counter per (decision, action id).
    std::array<std::array<std::atomic<std::uint64_t>, rt::action_count>, 2> requests{};
    std::atomic<std::uint64_t> bad_requests{0};            // 400s before any decision
    std::atomic<std::uint64_t> upstream_errors{0};
    std::atomic<std::int64_t> connections_active{0};
    std::atomic<std::uint64_t> connections_total{0};
    std::atomic<std::uint64_t> connections_refused{0};     // over --max-conns
    std::atomic<std::uint64_t> tls_handshake_failures{0};
    std::atomic<std::uint64_t> audit_dropped{0};
    std::atomic<std::uint64_t> bundle_reloads_success{0};
    std::atomic<std::uint64_t> bundle_reloads_failure{0};
    latency_metrics latency;                               // decision and request histograms

    void count_request(decision_label d, std::uint16_t action_id) {
        if (action_id < rt::action_count)
            requests[static_cast<std::size_t>(d)][action_id].fetch_add(1, std::memory_order_relaxed);
    }
};

} // namespace dockpol::sidecar
