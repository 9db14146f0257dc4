// The bundle side of start-up, shared by the proxy (main.cpp) and
// `dockpold plugin`: the trusted signing keys, one reloader for every trigger
// (start, SIGHUP, file change, admin call, URL poll) and the bundle file's
// watch. Each step returns the error line start-up exits with.
#pragma once
#include <unistd.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "bundles/bundle_fetcher.hpp"
#include "bundles/bundle_reloader.hpp"
#include "bundles/bundle_watcher.hpp"
#include "config.hpp"
#include "dockpol/rt/signature.hpp"

namespace dockpol::sidecar {

// --bundle-pubkey files, in order.
inline std::variant<std::vector<rt::public_key>, std::string> load_bundle_pubkeys(const config& cfg) {
    std::vector<rt::public_key> keys;
    for (const auto& path : cfg.bundle_pubkeys) {
        auto k = rt::load_public_key_pem(path);
        if (auto* e = std::get_if<std::string>(&k)) return "--bundle-pubkey " + path + ": " + *e;
        keys.push_back(std::get<0>(std::move(k)));
    }
    return keys;
}

// Where a bundle comes from: a file (watched), or a URL (polled, with its CA and a cache file for
// restarts while the server is down). `what` names it in warnings.
struct bundle_source {
    std::optional<std::string> file, url, url_ca, cache;
    std::string_view what = "bundle";
};

// The live bundle: --bundle, or --bundle-url with --bundle-url-ca and --bundle-cache.
inline bundle_source live_bundle_source(const config& cfg) {
    return {cfg.bundle, cfg.bundle_url, cfg.bundle_url_ca, cfg.bundle_cache, "bundle"};
}

// URL mode or file mode; the first load is the caller's.
inline std::variant<std::unique_ptr<bundle_reloader>, std::string>
make_bundle_reloader(net::any_io_executor ctl, policy_store& policy, metrics& stats, const bundle_source& src,
                     bundle_reloader::log_fn log) {
    if (src.url) {
        auto f = bundle_fetcher::create(*src.url, src.url_ca);
        if (auto* e = std::get_if<std::string>(&f)) return *e;
        return std::make_unique<bundle_reloader>(ctl, policy, stats, std::get<0>(std::move(f)), src.cache,
                                                 std::move(log));
    }
    return std::make_unique<bundle_reloader>(ctl, policy, stats, *src.file, std::move(log));
}

// Without a watch (inotify limits) only automatic reloads are lost; SIGHUP and the admin call still work,
// so a failed watch is a warning, and the result is null (also for a URL source).
inline std::shared_ptr<bundle_watcher> watch_bundle_file(net::any_io_executor ctl, const bundle_source& src,
                                                         bundle_reloader& reloader,
                                                         const bundle_reloader::log_fn& log) {
    if (!src.file) return nullptr;
    auto w = bundle_watcher::create(ctl, *src.file, [&reloader] { reloader.reload(reload_trigger::file_change); });
    if (auto* e = std::get_if<std::string>(&w)) {
        log("warning: " + std::string(src.what) + " file changes are not watched: " + *e);
        return nullptr;
    }
    return std::get<0>(std::move(w));
}

// --host-name, or the machine's name: what audit lines and `host` facts say.
inline std::string host_name_of(const config& cfg) {
    if (!cfg.host_name.empty()) return cfg.host_name;
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
    return buf;
}

} // namespace dockpol::sidecar
