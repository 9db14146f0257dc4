// What every connection shares: configuration, the policy store, the TLS
// context, the upstream pool, the audit log, metrics, and the registry the
// drain uses to close idle keep-alive connections.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "audit_log.hpp"
#include "config.hpp"
#include "handoff/handoff.hpp"
#include "io_pool.hpp"
#include "dockpol/rt/request.hpp"
#include "metrics.hpp"
#include "bundles/policy_store.hpp"
#include "resource_lookup.hpp"
#include "tls_context.hpp"
#include "upstream.hpp"

namespace dockpol::sidecar {

// A connection that can be asked to close once it is between requests.
class drainable {
public:
    virtual ~drainable() = default;
    virtual void drain() = 0;
    // From any thread: check the client certificate against `ctx` (a newly loaded CA/CRL); close when refused.
    virtual void recheck(std::shared_ptr<const tls_context> ctx) = 0;
};

class session_registry {
public:
    std::uint64_t add(std::weak_ptr<drainable> s) {
        std::lock_guard lk(mu_);
        auto id = next_++;
        sessions_.emplace(id, std::move(s));
        return id;
    }
    void remove(std::uint64_t id) {
        std::lock_guard lk(mu_);
        sessions_.erase(id);
    }
    void drain_all() {
        for (auto& s : live()) s->drain();
    }
    void recheck_all(const std::shared_ptr<const tls_context>& ctx) {
        for (auto& s : live()) s->recheck(ctx);
    }

private:
    std::vector<std::shared_ptr<drainable>> live() {
        std::vector<std::shared_ptr<drainable>> out;
        std::lock_guard lk(mu_);
        for (auto& [id, w] : sessions_)
            if (auto s = w.lock()) out.push_back(std::move(s));
        return out;
    }

    std::mutex mu_;
    std::uint64_t next_ = 1;
    std::unordered_map<std::uint64_t, std::weak_ptr<drainable>> sessions_;
};

struct server_context {
    const config& cfg;
    io_pool& io;
    tls_context_store& tls;
    policy_store& policy;
    std::vector<std::unique_ptr<upstream_pool>>& upstreams;   // one per io_context
    resource_cache& resources;
    audit_log* audit;             // null without --audit-log
    handoff::signer* handoff;     // null without --handoff-key
    metrics& stats;
    std::string host_name;
    rt::string_pairs host_labels;
    std::atomic<bool> draining{false};
    std::atomic<std::uint64_t> next_request_id{1};
    session_registry sessions;
};

} // namespace dockpol::sidecar
