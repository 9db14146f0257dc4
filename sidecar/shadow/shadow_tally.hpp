// What the shadow bundle decided, compared with the live decision
// (docs/request-model.md#shadow-bundle). A disagreement is a different
// DECISION (allow vs deny): the same decision by another rule is an agreement,
// so counts say what would change for callers, not how the policy is written.
// The request path only adds to relaxed atomics; the by-action table and the
// last examples take a mutex, and only on a disagreement.
#pragma once
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "dockpol/rt/actions.hpp"

namespace dockpol::sidecar {

// The shadow's decision of one request. `error`: a run-time error of the shadow program, or an input it
// could not get without changing the live behaviour (a body the live did not read, a lookup the live did
// not do); it is a deny by rule `error`, as it would be if the shadow served.
struct shadow_verdict {
    bool allow = false;
    bool error = false;
    std::string rule;
    std::string reason;   // why it is an error; "" otherwise
};

// Disagreement rows kept for GET /v1/shadow; further new (action, rules) pairs are counted as overflow.
inline constexpr std::size_t shadow_max_rows = 1000;
// Disagreements kept as examples for GET /v1/shadow, newest first.
inline constexpr std::size_t shadow_max_examples = 20;

struct shadow_row {
    std::string action;
    bool live_allow = false, shadow_allow = false;
    std::string live_rule, shadow_rule;
    std::uint64_t count = 0;
};

struct shadow_example {
    std::chrono::system_clock::time_point time;
    std::string id, user, action;
    bool live_allow = false, shadow_allow = false;
    std::string live_rule, shadow_rule, shadow_revision;
};

// One compared request, as the session knows it when the request ends.
struct shadow_comparison {
    std::uint16_t action_id = 0;
    std::string_view action;
    bool live_allow = false;
    std::string_view live_rule;
    const shadow_verdict* shadow = nullptr;
    std::string_view shadow_revision;
    std::chrono::system_clock::time_point time;
    std::string_view id, user;
};

// Since the process started: a new shadow revision does not reset the counts (Prometheus counters must
// not go back), but every example says which revision disagreed.
class shadow_tally {
public:
    // Counted by live and shadow decision (index: allow = 0, deny = 1), per action id.
    using decision_grid = std::array<std::array<std::atomic<std::uint64_t>, 2>, 2>;

    void record(const shadow_comparison& c) {
        const std::size_t l = c.live_allow ? 0 : 1, s = c.shadow->allow ? 0 : 1;
        requests_.fetch_add(1, std::memory_order_relaxed);
        by_shadow_[c.shadow->error ? 2 : s].fetch_add(1, std::memory_order_relaxed);
        if (l == s) return;
        disagreements_.fetch_add(1, std::memory_order_relaxed);
        if (c.action_id < rt::action_count) grid_[c.action_id][l][s].fetch_add(1, std::memory_order_relaxed);
        std::lock_guard lk(mu_);
        const auto key = std::make_tuple(std::string(c.action), c.live_allow, std::string(c.live_rule),
                                         std::string(c.shadow->rule));
        if (auto it = rows_.find(key); it != rows_.end()) ++it->second;
        else if (rows_.size() < shadow_max_rows) rows_.emplace(key, 1);
        else ++overflow_;
        examples_.push_front(shadow_example{c.time, std::string(c.id), std::string(c.user), std::string(c.action),
                                            c.live_allow, c.shadow->allow, std::string(c.live_rule),
                                            c.shadow->rule, std::string(c.shadow_revision)});
        if (examples_.size() > shadow_max_examples) examples_.pop_back();
    }

    std::uint64_t requests() const { return requests_.load(std::memory_order_relaxed); }
    std::uint64_t disagreements() const { return disagreements_.load(std::memory_order_relaxed); }
    // Shadow decisions: 0 allow, 1 deny (by a rule), 2 error.
    std::uint64_t shadow_decisions(std::size_t which) const { return by_shadow_[which].load(std::memory_order_relaxed); }
    // Disagreements of one action id: live allow/deny (0/1) × shadow allow/deny (0/1).
    std::uint64_t disagreements(std::uint16_t action_id, std::size_t live, std::size_t shadow) const {
        return action_id < rt::action_count ? grid_[action_id][live][shadow].load(std::memory_order_relaxed) : 0;
    }

    // The rows, most frequent first; `overflow` gets the disagreements no row holds.
    std::vector<shadow_row> rows(std::uint64_t& overflow) const {
        std::vector<shadow_row> out;
        std::lock_guard lk(mu_);
        overflow = overflow_;
        for (const auto& [k, n] : rows_) {
            const auto& [action, live_allow, live_rule, shadow_rule] = k;
            out.push_back(shadow_row{action, live_allow, !live_allow, live_rule, shadow_rule, n});
        }
        std::stable_sort(out.begin(), out.end(), [](const shadow_row& a, const shadow_row& b) { return a.count > b.count; });
        return out;
    }

    std::vector<shadow_example> examples() const {
        std::lock_guard lk(mu_);
        return {examples_.begin(), examples_.end()};
    }

private:
    std::atomic<std::uint64_t> requests_{0};
    std::atomic<std::uint64_t> disagreements_{0};
    std::array<std::atomic<std::uint64_t>, 3> by_shadow_{};
    std::array<decision_grid, rt::action_count> grid_{};
    mutable std::mutex mu_;
    // (action, live allows, live rule, shadow rule) → count; the shadow decision is the other one.
    std::map<std::tuple<std::string, bool, std::string, std::string>, std::uint64_t> rows_;
    std::uint64_t overflow_ = 0;
    std::deque<shadow_example> examples_;
};

} // namespace dockpol::sidecar
