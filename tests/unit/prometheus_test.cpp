// Prometheus exposition: histogram bucketing, cumulative rendering, label
// escaping, and the dockpold metrics document with real counter values.
#include <catch2/catch.hpp>

#include <map>
#include <sstream>
#include <string>

#include "admin/metrics_text.hpp"
#include "prometheus.hpp"

// Each test file is its own namespace: the test executables are unity builds.
namespace prometheus_test {

using namespace dockpol::sidecar;
using namespace std::chrono_literals;

namespace {

// Sample lines keyed by "name{labels}" → value text; comments skipped.
std::map<std::string, std::string> samples(const std::string& text) {
    std::map<std::string, std::string> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        const auto sp = line.rfind(' ');
        REQUIRE(sp != std::string::npos);
        out[line.substr(0, sp)] = line.substr(sp + 1);
    }
    return out;
}

} // namespace

TEST_CASE("histogram puts each observation in the first bucket whose bound is >= it") {
    histogram<3> h({0.001, 0.01, 0.1});
    h.observe(500us);    // ≤ 0.001
    h.observe(1ms);      // == bound: Prometheus buckets are "le"
    h.observe(5ms);
    h.observe(2s);       // above every bound
    CHECK(h.bucket(0) == 2);
    CHECK(h.bucket(1) == 1);
    CHECK(h.bucket(2) == 0);
    CHECK(h.bucket(3) == 1);
    CHECK(h.sum_seconds() == Approx(2.0065));
}

TEST_CASE("histogram family renders cumulative buckets, +Inf, sum and count") {
    histogram<2> h({0.5, 1});
    h.observe(100ms);
    h.observe(700ms);
    h.observe(3s);
    exposition x;
    x.histogram_family("t_seconds", "help", h);
    auto s = samples(x.text());
    CHECK(s.at("t_seconds_bucket{le=\"0.5\"}") == "1");
    CHECK(s.at("t_seconds_bucket{le=\"1\"}") == "2");
    CHECK(s.at("t_seconds_bucket{le=\"+Inf\"}") == "3");
    CHECK(s.at("t_seconds_count") == "3");
    CHECK(std::stod(s.at("t_seconds_sum")) == Approx(3.8));
    CHECK(x.text().find("# TYPE t_seconds histogram\n") != std::string::npos);
}

TEST_CASE("label values escape backslash, quote and newline; HELP escapes backslash and newline") {
    exposition x;
    x.family("m", "gauge", "a\\b\nc \"q\"");
    const label l[] = {{"revision", "a\"b\\c\nd"}};
    x.sample("m", l, std::uint64_t{1});
    CHECK(x.text() == "# HELP m a\\\\b\\nc \"q\"\n# TYPE m gauge\nm{revision=\"a\\\"b\\\\c\\nd\"} 1\n");
}

TEST_CASE("render_metrics reports the counters' current values") {
    metrics m;
    latency_metrics lat;
    const auto list = *dockpol::rt::find_action("container_list");
    const auto ping = *dockpol::rt::find_action("system_ping");
    m.count_request(decision_label::allow, list);
    m.count_request(decision_label::allow, list);
    m.count_request(decision_label::deny, ping);
    m.upstream_errors = 4;
    m.connections_active = 2;
    m.tls_handshake_failures = 5;
    m.bundle_reloads_success = 7;
    m.bundle_reloads_failure = 3;
    m.audit_dropped = 9;
    lat.decision_seconds.observe(2us);
    lat.request_seconds.observe(20ms);
    lat.request_seconds.observe(30ms);

    auto s = samples(render_metrics(m, lat, "rev-\"1\""));
    CHECK(s.at("dockpol_requests_total{decision=\"allow\",action=\"container_list\"}") == "2");
    CHECK(s.at("dockpol_requests_total{decision=\"deny\",action=\"system_ping\"}") == "1");
    CHECK(s.count("dockpol_requests_total{decision=\"deny\",action=\"container_list\"}") == 0);
    CHECK(s.at("dockpol_upstream_errors_total") == "4");
    CHECK(s.at("dockpol_connections_active") == "2");
    CHECK(s.at("dockpol_tls_handshake_failures_total") == "5");
    CHECK(s.at("dockpol_bundle_info{revision=\"rev-\\\"1\\\"\"}") == "1");
    CHECK(s.at("dockpol_bundle_reloads_total{result=\"success\"}") == "7");
    CHECK(s.at("dockpol_bundle_reloads_total{result=\"failure\"}") == "3");
    CHECK(s.at("dockpol_audit_dropped_total") == "9");
    CHECK(s.at("dockpol_decision_seconds_count") == "1");
    CHECK(s.at("dockpol_decision_seconds_bucket{le=\"2.5e-06\"}") == "1");
    CHECK(s.at("dockpol_decision_seconds_bucket{le=\"1e-06\"}") == "0");
    CHECK(s.at("dockpol_request_seconds_count") == "2");
    CHECK(s.at("dockpol_request_seconds_bucket{le=\"0.025\"}") == "1");
    CHECK(s.at("dockpol_request_seconds_bucket{le=\"0.05\"}") == "2");
}

TEST_CASE("no bundle: dockpol_bundle_info has no sample") {
    metrics m;
    latency_metrics lat;
    auto s = samples(render_metrics(m, lat, ""));
    for (const auto& [k, v] : s) CHECK(k.rfind("dockpol_bundle_info", 0) != 0);
}

} // namespace prometheus_test
