// `dockpold plugin`: the same bundle enforced inside dockerd through Docker's
// authorization-plugin protocol (docs/plugin.md). Start-up checks flags and
// files and exits 2 with one line naming the problem, like the proxy; the
// bundle reloads on SIGHUP, file change, admin call or URL poll through the
// proxy's reloader; SIGUSR1 reopens the audit log; SIGTERM/SIGINT stop.
#pragma once
#include <unistd.h>

#include <cstdio>
#include <stdexcept>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "admin/admin_api.hpp"
#include "admin/admin_server.hpp"
#include "audit_log.hpp"
#include "bundles/bundle_startup.hpp"
#include "bundles/policy_store.hpp"
#include "config.hpp"
#include "metrics.hpp"
#include "plugin_server.hpp"
#include "random_hex.hpp"
#include "signals.hpp"

namespace dockpol::sidecar::plugin {

namespace detail {

inline int plugin_fail(const std::string& line) {
    std::fprintf(stderr, "dockpold plugin: %s\n", line.c_str());
    return 2;
}

inline void plugin_log(const std::string& line) { std::fprintf(stderr, "dockpold plugin: %s\n", line.c_str()); }


} // namespace detail

// argv after "plugin"; returns the exit status.
inline int run_plugin(const std::vector<std::string>& args) {
    auto parsed = parse_plugin_config(args);
    if (auto* e = std::get_if<std::string>(&parsed)) return detail::plugin_fail(*e);
    const config cfg = std::get<config>(std::move(parsed));
    if (cfg.show_help) {
        std::fputs(plugin_flags_help().c_str(), stdout);
        return 0;
    }
    if (cfg.show_version) {
        std::printf("dockpold %s\n", DOCKPOL_VERSION);
        return 0;
    }

    std::unique_ptr<handoff::verifier> handoff;
    if (cfg.handoff_key) {
        auto k = handoff::load_key(*cfg.handoff_key);
        if (auto* e = std::get_if<std::string>(&k)) return detail::plugin_fail(*e);
        handoff = std::make_unique<handoff::verifier>(std::get<0>(std::move(k)));
    }
    auto keys = load_bundle_pubkeys(cfg);
    if (auto* e = std::get_if<std::string>(&keys)) return detail::plugin_fail(*e);
    policy_store policy(std::get<0>(std::move(keys)));
    metrics stats;

    // Reloads, file watch, URL polls and the admin listener run on their own thread, as in the proxy.
    net::io_context control(1);
    auto control_guard = net::make_work_guard(control);
    auto ctl = control.get_executor();

    auto made = make_bundle_reloader(ctl, policy, stats, live_bundle_source(cfg), detail::plugin_log);
    if (auto* e = std::get_if<std::string>(&made)) return detail::plugin_fail(*e);
    auto reloader = std::get<0>(std::move(made));
    if (auto e = reloader->initial_load()) return detail::plugin_fail(*e);

    std::unique_ptr<audit_log> audit;
    if (cfg.audit_log) {
        audit = std::make_unique<audit_log>(*cfg.audit_log, stats);
        if (cfg.audit_key)
            if (auto e = audit->load_key(*cfg.audit_key)) return detail::plugin_fail("--audit-key: " + *e);
        if (auto e = audit->open()) return detail::plugin_fail("--audit-log: " + *e);
    }

    plugin_settings settings;
    settings.local_user = cfg.local_user;
    settings.local_groups = cfg.local_groups;
    settings.host = host_name_of(cfg);
    settings.host_labels = cfg.host_labels;
    settings.max_body_inspect = cfg.max_body_inspect;
    settings.handoff = handoff.get();
    // With --docker the plugin inspects targets and named objects itself; its inspects come back through
    // dockerd's authz chain carrying this nonce, which only this process knows.
    if (!cfg.docker_socket.empty()) settings.lookup_nonce = random_hex(32); // 256 bits
    plugin_context ctx{policy, stats, {}, std::move(settings), cfg.docker_socket, {1}, {0}};
    if (audit) ctx.audit = [a = audit.get()](std::string line) { a->push(std::move(line)); };

    const unsigned threads = std::max(1u, std::min(4u, std::thread::hardware_concurrency()));
    net::io_context ioc(static_cast<int>(threads));
    auto listener = std::make_shared<plugin_listener>(ioc, ctx);
    if (auto e = listener->open(cfg.plugin_socket)) return detail::plugin_fail(*e);

    std::atomic<bool> stopping{false};
    std::shared_ptr<admin_server> admin;
    if (cfg.admin) {
        auto routes = make_admin_routes({ctl, policy, stats, stats.latency, *reloader, cfg.docker_socket, &stopping});
        auto a = admin_server::create(ctl, cfg.admin->host, cfg.admin->port, std::move(routes));
        if (auto* e = std::get_if<std::string>(&a)) return detail::plugin_fail(*e);
        admin = std::get<0>(std::move(a));
    }

    auto watcher = watch_bundle_file(ctl, live_bundle_source(cfg), *reloader, detail::plugin_log);

    if (audit) audit->start();
    signal_handler signals(ioc, signal_actions{
        .drain =
            [&] {
                detail::plugin_log("stopping");
                stopping = true;
                listener->stop();
                if (watcher) watcher->stop();
                reloader->stop();
                // dockerd retries a failed plugin call; a call in flight is answered or dropped.
                ioc.stop();
                control.stop();
            },
        .reload = [&] { reloader->reload(reload_trigger::sighup); },
        .reopen =
            [&] {
                if (audit) audit->request_reopen();
            },
    });
    signals.start();
    listener->run();
    if (admin) {
        admin->start();
        detail::plugin_log("admin listening on " + cfg.admin->host + ":" + std::to_string(admin->port()));
    }
    if (watcher) watcher->start();
    if (cfg.bundle_url) reloader->start_polling(cfg.poll_interval);
    std::thread control_thread([&control] { control.run(); });
    detail::plugin_log("serving the authz plugin on " + cfg.plugin_socket + ", bundle revision " +
                       policy.status().revision);

    std::vector<std::thread> workers;
    for (unsigned i = 1; i < threads; ++i) workers.emplace_back([&ioc] { ioc.run(); });
    ioc.run();
    for (auto& t : workers) t.join();
    control.stop();
    control_thread.join();
    if (audit) audit->stop();
    ::unlink(cfg.plugin_socket.c_str());
    std::fflush(nullptr);
    // Handlers still queued hold sessions that reference objects on this stack; skip their teardown.
    ::_exit(0);
}

} // namespace dockpol::sidecar::plugin
