// The shadow bundle (--shadow-bundle F | --shadow-bundle-url URL): a candidate
// program that decides every request next to the live one and never serves.
// It is loaded exactly like the live bundle — its own policy_store (bounds →
// digest → signature with the same --bundle-pubkey keys → verifier → swap)
// and its own bundle_reloader (SIGHUP, file change, URL poll); a failed reload
// keeps the last good shadow and is reported in GET /v1/shadow. Its reload
// counters are its own, so dockpol_bundle_reloads_total stays the live bundle's.
#pragma once
#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "bundles/bundle_reloader.hpp"
#include "bundles/bundle_startup.hpp"
#include "bundles/bundle_watcher.hpp"
#include "bundles/policy_store.hpp"
#include "config.hpp"
#include "metrics.hpp"
#include "shadow_tally.hpp"

namespace dockpol::sidecar {

// What /v1/status's `source` says after a promotion: the live program came from the shadow's source.
inline constexpr std::string_view promoted_source_prefix = "shadow:";

struct shadow_slot {
    explicit shadow_slot(std::vector<rt::public_key> keys) : store(std::move(keys)) {}

    policy_store store;                       // the candidate: same checks as the live bundle
    metrics reload_stats;                     // only its bundle_reloads_* counters are used
    std::unique_ptr<bundle_reloader> reloader;
    std::shared_ptr<bundle_watcher> watcher;  // --shadow-bundle only; null when not watched
    shadow_tally tally;
    std::atomic<std::uint64_t> promotions{0};

    // The candidate becomes the live program for this process; the slot keeps it, so both agree until the
    // shadow or the live source changes. A request keeps the snapshot it started with (0 failed requests).
    // The next bundle the live source delivers replaces it: deploy the candidate there to keep it.
    std::optional<std::string> promote_into(policy_store& live) {
        auto prog = store.snapshot();
        if (!prog) return std::string("no shadow bundle is loaded");
        live.install(std::move(prog), std::string(promoted_source_prefix) + store.status().source);
        promotions.fetch_add(1, std::memory_order_relaxed);
        return std::nullopt;
    }
};

// Prefixes the shadow's reload log lines, so they are not taken for the live bundle's.
inline bundle_reloader::log_fn shadow_log(bundle_reloader::log_fn log) {
    return [log = std::move(log)](const std::string& line) { log("shadow " + line); };
}

// Null without --shadow-bundle/--shadow-bundle-url; else the loaded slot, or the error start-up exits with.
// The first load must succeed, as for --bundle: a shadow that cannot load would compare nothing.
inline std::variant<std::unique_ptr<shadow_slot>, std::string>
make_shadow_slot(net::any_io_executor ctl, std::vector<rt::public_key> keys, const config& cfg,
                 const bundle_reloader::log_fn& log) {
    using result = std::variant<std::unique_ptr<shadow_slot>, std::string>;
    if (!cfg.shadow_bundle && !cfg.shadow_bundle_url) return result(std::in_place_index<0>, nullptr);
    auto slot = std::make_unique<shadow_slot>(std::move(keys));
    const std::string flag = cfg.shadow_bundle ? "--shadow-bundle" : "--shadow-bundle-url";
    // As the live bundle is loaded (bundle_startup.hpp), without a cache file.
    const bundle_source src{cfg.shadow_bundle, cfg.shadow_bundle_url, cfg.bundle_url_ca, std::nullopt, "shadow bundle"};
    auto made = make_bundle_reloader(ctl, slot->store, slot->reload_stats, src, shadow_log(log));
    if (auto* e = std::get_if<std::string>(&made)) return flag + ": " + *e;
    slot->reloader = std::get<0>(std::move(made));
    if (auto e = slot->reloader->initial_load()) return flag + ": " + *e;
    slot->watcher = watch_bundle_file(ctl, src, *slot->reloader, log);
    return result(std::in_place_index<0>, std::move(slot));
}

} // namespace dockpol::sidecar
