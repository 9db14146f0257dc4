// dockpold: the mTLS sidecar that enforces dockpol bundles in front of dockerd.
// Start-up checks every flag and file and exits 2 with one line naming the
// problem; then the io_context runs on one thread per core until a drain.
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "admin/admin_api.hpp"
#include "admin/admin_server.hpp"
#include "audit_log.hpp"
#include "bundles/bundle_startup.hpp"
#include "bundles/bundle_reloader.hpp"
#include "bundles/bundle_watcher.hpp"
#include "proxy/client_session.hpp"
#include "config.hpp"
#include "doctor/doctor.hpp"
#include "proxy/io_pool.hpp"
#include "proxy/listener.hpp"
#include "metrics.hpp"
#include "plugin/plugin_main.hpp"
#include "bundles/policy_store.hpp"
#include "admin/probe.hpp"
#include "proxy/resource_lookup.hpp"
#include "proxy/server_context.hpp"
#include "shadow/shadow_slot.hpp"
#include "signals.hpp"
#include "proxy/tls_context.hpp"
#include "proxy/upstream.hpp"

namespace ds = dockpol::sidecar;
namespace net = boost::asio;

namespace {

// Exit codes (docs/cli.md): 0 after a clean drain, 2 for usage and start-up errors.
constexpr int exit_ok = 0;
constexpr int exit_usage = 2;

// How often the drain checks whether the last connection has finished.
constexpr std::chrono::milliseconds drain_poll{50};

int fail(const std::string& line) {
    std::fprintf(stderr, "dockpold: %s\n", line.c_str());
    return exit_usage;
}

void log_line(const std::string& line) { std::fprintf(stderr, "dockpold: %s\n", line.c_str()); }

ds::tls_files tls_files_of(const ds::config& c) { return {c.tls_cert, c.tls_key, c.tls_client_ca, c.tls_crl}; }

} // namespace

int main(int argc, char** argv) {
    // OpenSSL writes with write(2): a peer that went away must be an EPIPE error, not a killed process.
    std::signal(SIGPIPE, SIG_IGN);
    std::vector<std::string> args(argv + 1, argv + argc);
    if (!args.empty() && args[0] == "probe") return ds::run_probe({args.begin() + 1, args.end()});
    if (!args.empty() && args[0] == "doctor") return ds::run_doctor({args.begin() + 1, args.end()});
    if (!args.empty() && args[0] == "plugin") return ds::plugin::run_plugin({args.begin() + 1, args.end()});
    auto parsed = ds::parse_config(args);
    if (auto* e = std::get_if<std::string>(&parsed)) return fail(*e);
    const ds::config cfg = std::get<ds::config>(std::move(parsed));
    if (cfg.show_help) {
        std::fputs(ds::flags_help().c_str(), stdout);
        return exit_ok;
    }
    if (cfg.show_version) {
        std::printf("dockpold %s\n", DOCKPOL_VERSION);
        return exit_ok;
    }

    auto tls = ds::make_tls_context(tls_files_of(cfg));
    if (auto* e = std::get_if<std::string>(&tls)) return fail(*e);
    ds::tls_context_store tls_store(std::get<0>(tls));

    // The plugin behind dockerd accepts what this proxy signed (handoff.hpp) instead of deciding it again.
    std::unique_ptr<ds::handoff::signer> handoff;
    if (cfg.handoff_key) {
        auto k = ds::handoff::load_key(*cfg.handoff_key);
        if (auto* e = std::get_if<std::string>(&k)) return fail(*e);
        handoff = std::make_unique<ds::handoff::signer>(std::get<0>(std::move(k)));
    }

    auto keys = ds::load_bundle_pubkeys(cfg);
    if (auto* e = std::get_if<std::string>(&keys)) return fail(*e);
    ds::policy_store policy(std::get<0>(keys));
    ds::metrics stats;

    // The control plane (reloads, file watch, URL polls, admin listener) has its own thread, so a
    // reload's verification or a slow scrape never delays requests, and busy request threads never
    // delay /readyz.
    net::io_context control(1);
    auto control_guard = net::make_work_guard(control);
    auto ctl = control.get_executor();

    // A missing socket means a wrong path or dockerd not started: refuse to
    // start half-configured (systemd / compose restart us once it is there).
    // A socket that exists but refuses connections only costs 502s until
    // dockerd answers, so it is not fatal.
    if (struct stat st{}; ::stat(cfg.docker_socket.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode))
        return fail("--docker: " + cfg.docker_socket + " is not a UNIX socket (start dockerd first, or fix --docker)");

    // One reloader for every trigger (start, SIGHUP, file change, admin, URL poll).
    auto made = ds::make_bundle_reloader(ctl, policy, stats, ds::live_bundle_source(cfg), log_line);
    if (auto* e = std::get_if<std::string>(&made)) return fail(*e);
    auto reloader = std::get<0>(std::move(made));
    if (auto e = reloader->initial_load()) {
        bool rejected = e->find(" rejected: ") != std::string::npos;
        return fail(rejected ? *e + " (rebuild it with `dockpolc build`, or check --bundle-pubkey)" : *e);
    }

    // --shadow-bundle: a candidate that decides every request too, loaded with the same keys and checks.
    auto shadow_made = ds::make_shadow_slot(ctl, std::get<0>(keys), cfg, log_line);
    if (auto* e = std::get_if<std::string>(&shadow_made)) return fail(*e);
    auto shadow = std::get<0>(std::move(shadow_made));

    std::unique_ptr<ds::audit_log> audit;
    if (cfg.audit_log) {
        audit = std::make_unique<ds::audit_log>(*cfg.audit_log, stats);
        if (cfg.audit_key)
            if (auto e = audit->load_key(*cfg.audit_key)) return fail("--audit-key: " + *e);
        if (auto e = audit->open()) return fail("--audit-log: " + *e);
    }

    ds::io_pool io(std::thread::hardware_concurrency(), std::chrono::microseconds(cfg.busy_poll_us));
    std::vector<std::unique_ptr<ds::upstream_pool>> upstreams;
    for (std::size_t i = 0; i < io.size(); ++i)
        upstreams.push_back(std::make_unique<ds::upstream_pool>(io.at(i), cfg.docker_socket));
    ds::resource_cache resources;
    ds::server_context srv{cfg,   io,    tls_store, policy, upstreams, resources, audit.get(), handoff.get(),
                           stats, ds::host_name_of(cfg), cfg.host_labels, {false}, {1}, {}};

    srv.shadow = shadow.get();

    auto lst = std::make_shared<ds::listener>(srv);
    if (auto e = lst->open(cfg.listen)) return fail(*e);

    std::shared_ptr<ds::admin_server> admin;
    if (cfg.admin) {
        auto routes = ds::make_admin_routes({ctl, policy, stats, stats.latency, *reloader, cfg.docker_socket, &srv.draining,
                                        shadow.get()});
        auto a = ds::admin_server::create(ctl, cfg.admin->host, cfg.admin->port, std::move(routes));
        if (auto* e = std::get_if<std::string>(&a)) return fail(*e);
        admin = std::get<0>(std::move(a));
    }

    auto watcher = ds::watch_bundle_file(ctl, ds::live_bundle_source(cfg), *reloader, log_line);

    // The server certificate, key, CA and CRL are read again on SIGHUP, and when the CA or CRL file is replaced.
    std::mutex tls_reload_mu;   // SIGHUP and the file watches run on different threads
    const auto reload_tls = [&] {
        std::lock_guard lk(tls_reload_mu);
        auto t = ds::make_tls_context(tls_files_of(cfg));
        if (auto* e = std::get_if<std::string>(&t)) return log_line("TLS reload failed, keeping the old certificate: " + *e);
        auto ctx = std::get<0>(std::move(t));
        tls_store.replace(ctx);
        // Revocation must reach open connections (keep-alive and tunnels), not only new handshakes.
        srv.sessions.recheck_all(ctx);
    };
    std::vector<std::shared_ptr<ds::bundle_watcher>> trust_watchers;
    for (const std::string* f : {&cfg.tls_client_ca, cfg.tls_crl ? &*cfg.tls_crl : nullptr}) {
        if (!f) continue;
        auto w = ds::bundle_watcher::create(ctl, *f, [&reload_tls] { reload_tls(); });
        if (auto* e = std::get_if<std::string>(&w)) log_line("warning: " + *f + " is not watched (reload with SIGHUP): " + *e);
        else trust_watchers.push_back(std::get<0>(std::move(w)));
    }

    if (audit) audit->start();

    net::io_context& ioc = io.at(0);
    net::steady_timer drain_timer(ioc);
    std::chrono::steady_clock::time_point drain_deadline{};
    std::function<void()> drain_check;
    drain_check = [&] {
        bool idle = stats.connections_active.load() == 0;
        if (idle || std::chrono::steady_clock::now() >= drain_deadline) {
            if (!idle) log_line("drain timeout: closing remaining connections");
            io.stop();
            control.stop();
            return;
        }
        drain_timer.expires_after(drain_poll);
        drain_timer.async_wait([&](boost::system::error_code ec) {
            if (!ec) drain_check();
        });
    };

    ds::signal_handler signals(ioc, ds::signal_actions{
        .drain =
            [&] {
                log_line("draining");
                srv.draining = true;
                lst->stop();
                if (watcher) watcher->stop();
                for (auto& w : trust_watchers) w->stop();
                reloader->stop();
                if (shadow) {
                    if (shadow->watcher) shadow->watcher->stop();
                    shadow->reloader->stop();
                }
                srv.sessions.drain_all();
                drain_deadline = std::chrono::steady_clock::now() + cfg.drain_timeout;
                drain_check();
            },
        .reload =
            [&] {
                reloader->reload(ds::reload_trigger::sighup);
                if (shadow) shadow->reloader->reload(ds::reload_trigger::sighup);
                reload_tls();
            },
        .reopen =
            [&] {
                if (audit) audit->request_reopen();
            },
    });
    signals.start();
    lst->run();
    if (admin) {
        admin->start();
        log_line("admin listening on " + cfg.admin->host + ":" + std::to_string(admin->port()));
    }
    if (watcher) watcher->start();
    for (auto& w : trust_watchers) w->start();
    if (cfg.bundle_url) reloader->start_polling(cfg.poll_interval);
    if (shadow && shadow->watcher) shadow->watcher->start();
    if (cfg.shadow_bundle_url) shadow->reloader->start_polling(cfg.poll_interval);
    std::thread control_thread([&control] { control.run(); });
    log_line("listening on " + cfg.listen.host + ":" + std::to_string(cfg.listen.port) + ", bundle revision " +
             policy.status().revision + (shadow ? ", shadow revision " + shadow->store.status().revision : ""));

    io.run();
    control.stop();
    control_thread.join();
    if (audit) audit->stop();
    // Handlers still queued hold sessions that reference objects on this stack; skip their teardown.
    std::fflush(nullptr);
    ::_exit(exit_ok);
}
