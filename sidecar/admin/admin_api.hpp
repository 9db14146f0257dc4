// The admin routes (docs/request-model.md): what each endpoint answers, built on the
// policy store, the metrics and the reloader. The server itself is in
// admin_server.hpp.
#pragma once
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "admin_server.hpp"
#include "bundles/bundle_reloader.hpp"
#include "docker_ping.hpp"
#include "dockpol/rt/json_text.hpp"
#include "metrics.hpp"
#include "metrics_text.hpp"
#include "bundles/policy_store.hpp"
#include "prometheus.hpp"
#include "bundles/reload_status.hpp"
#include "shadow_status.hpp"

namespace dockpol::sidecar {

struct admin_deps {
    net::any_io_executor ex;
    policy_store& store;
    metrics& stats;
    const latency_metrics& latency;
    bundle_reloader& reloader;
    std::string docker_socket;   // path of dockerd's UNIX socket, for /readyz
    const std::atomic<bool>* draining = nullptr;   // set during SIGTERM's drain: no longer ready
    shadow_slot* shadow = nullptr;                 // --shadow-bundle: /v1/shadow and its promotion
};

inline constexpr std::string_view no_shadow_message =
    "no shadow bundle: start dockpold with --shadow-bundle or --shadow-bundle-url";

inline std::string admin_status_body(const admin_deps& d) { return status_json(d.store.status(), d.reloader.record()); }

inline std::vector<admin_route> make_admin_routes(admin_deps d) {
    using beast::http::verb;
    auto deps = std::make_shared<admin_deps>(std::move(d));
    std::vector<admin_route> routes;
    // Liveness: the process answers HTTP.
    routes.push_back({verb::get, "/healthz", [](admin_reply reply) { reply({200, "application/json", "{\"status\":\"ok\"}\n"}); }});
    // Readiness: a bundle serves and dockerd answers /_ping now.
    routes.push_back({verb::get, "/readyz", [deps](admin_reply reply) {
                          if (deps->draining && deps->draining->load(std::memory_order_relaxed)) {
                              reply(admin_json_error(503, "not ready: draining"));
                              return;
                          }
                          if (!deps->store.snapshot()) {
                              reply(admin_json_error(503, "not ready: no bundle loaded"));
                              return;
                          }
                          async_docker_ping(deps->ex, deps->docker_socket, [reply](std::string error) {
                              if (error.empty()) reply({200, "application/json", "{\"status\":\"ready\"}\n"});
                              else reply(admin_json_error(503, "not ready: " + error));
                          });
                      }});
    routes.push_back({verb::get, "/metrics", [deps](admin_reply reply) {
                          reply({200, "text/plain; version=0.0.4; charset=utf-8",
                                 render_metrics(deps->stats, deps->latency, deps->store.status().revision, deps->shadow)});
                      }});
    routes.push_back({verb::get, "/v1/status", [deps](admin_reply reply) { reply({200, "application/json", admin_status_body(*deps)}); }});
    // 200 with the status after the reload, or 422 with the reason (the old bundle keeps serving).
    routes.push_back({verb::post, "/v1/bundle/reload", [deps](admin_reply reply) {
                          deps->reloader.reload(reload_trigger::admin, [deps, reply](reload_result r) {
                              if (!r.error) {
                                  reply({200, "application/json", admin_status_body(*deps)});
                                  return;
                              }
                              std::string body = "{\"message\":";
                              rt::append_json_string(body, *r.error);
                              body += ",\"status\":";
                              auto st = admin_status_body(*deps);
                              st.pop_back();   // its newline
                              body += st;
                              body += "}\n";
                              reply({422, "application/json", std::move(body)});
                          });
                      }});
    // The shadow bundle: 404 when none is configured.
    routes.push_back({verb::get, "/v1/shadow", [deps](admin_reply reply) {
                          if (!deps->shadow) return reply(admin_json_error(404, no_shadow_message));
                          reply({200, "application/json", shadow_status_json(*deps->shadow)});
                      }});
    // The candidate becomes live for this process: 200 with the new /v1/status, 404 without a shadow, 409 when
    // none is loaded. It runs on the control thread like reloads; the swap itself is the store's atomic one.
    routes.push_back({verb::post, "/v1/shadow/promote", [deps](admin_reply reply) {
                          if (!deps->shadow) return reply(admin_json_error(404, no_shadow_message));
                          if (auto e = deps->shadow->promote_into(deps->store)) return reply(admin_json_error(409, *e));
                          reply({200, "application/json", admin_status_body(*deps)});
                      }});
    return routes;
}

} // namespace dockpol::sidecar
