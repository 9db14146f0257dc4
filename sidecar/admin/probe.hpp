// `dockpold probe URL`: a container healthcheck without curl. GET the URL;
// exit 0 on a 2xx answer, 1 on anything else (including no answer in time).
#pragma once
#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>

#include "http_client.hpp"

namespace dockpol::sidecar {

// Healthchecks run every few seconds; an answer slower than this is unhealthy.
inline constexpr std::chrono::milliseconds probe_timeout{3000};
// /metrics is the largest admin answer a probe might be pointed at.
inline constexpr std::size_t probe_max_body = 4 << 20;

struct probe_result {
    int exit_code = 1;
    std::string message;   // one line for stderr ("" on success)
};

inline probe_result probe(std::string_view url_text, std::chrono::milliseconds timeout = probe_timeout) {
    auto parsed = parse_http_url(url_text);
    if (auto* e = std::get_if<std::string>(&parsed)) return {1, *e};
    auto url = std::get<http_url>(std::move(parsed));
    http_get_options opt;
    opt.timeout = timeout;
    opt.max_body = probe_max_body;
    if (url.tls) {
        auto tls = make_client_tls(std::nullopt);
        if (auto* e = std::get_if<std::string>(&tls)) return {1, *e};
        opt.tls = std::get<0>(tls);
    }
    boost::asio::io_context ioc;
    http_get_result res;
    async_http_get(ioc.get_executor(), url, std::move(opt), [&](http_get_result r) { res = std::move(r); });
    ioc.run();
    if (!res.error.empty()) return {1, std::string(url_text) + ": " + res.error};
    if (res.status < 200 || res.status > 299) return {1, std::string(url_text) + ": HTTP " + std::to_string(res.status)};
    return {0, ""};
}

// The subcommand: args are what follows `probe`.
inline int run_probe(const std::vector<std::string>& args) {
    if (args.size() != 1) {
        std::fprintf(stderr, "usage: dockpold probe URL   (exit 0 when the URL answers 2xx)\n");
        return 2;
    }
    auto r = probe(args[0]);
    if (r.exit_code != 0) std::fprintf(stderr, "dockpold probe: %s\n", r.message.c_str());
    return r.exit_code;
}

} // namespace dockpol::sidecar
