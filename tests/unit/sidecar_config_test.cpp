// dockpold flag parsing: defaults, every value form, and one clear error per mistake.
#include <catch2/catch.hpp>

#include "config.hpp"

// Each test file is its own namespace: the test executables are unity builds.
namespace sidecar_config_test {

using namespace dockpol::sidecar;

namespace {

std::vector<std::string> base_args() {
    return {"--listen", "0.0.0.0:9998", "--tls-cert", "s.pem", "--tls-key", "k.pem", "--tls-client-ca", "ca.pem",
            "--bundle", "b.dpb", "--docker", "unix:///var/run/docker.sock"};
}

config parse_ok(std::vector<std::string> extra = {}) {
    auto args = base_args();
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = parse_config(args);
    INFO((r.index() == 1 ? std::get<1>(r) : std::string()));
    REQUIRE(r.index() == 0);
    return std::get<0>(r);
}

std::string parse_err(std::vector<std::string> args) {
    auto r = parse_config(args);
    REQUIRE(r.index() == 1);
    return std::get<1>(r);
}

std::string parse_err_extra(std::vector<std::string> extra) {
    auto args = base_args();
    args.insert(args.end(), extra.begin(), extra.end());
    return parse_err(args);
}

} // namespace

TEST_CASE("minimal command line gets the documented defaults") {
    auto c = parse_ok();
    CHECK(c.listen.host == "0.0.0.0");
    CHECK(c.listen.port == 9998);
    CHECK(c.docker_socket == "/var/run/docker.sock");
    CHECK(c.bundle == std::optional<std::string>("b.dpb"));
    CHECK(c.max_body_inspect == 1u << 20);
    CHECK(c.max_header_bytes == 64u << 10);
    CHECK(c.handshake_timeout == std::chrono::seconds(10));
    CHECK(c.header_timeout == std::chrono::seconds(30));
    CHECK(c.idle_timeout == std::chrono::seconds(120));
    CHECK(c.drain_timeout == std::chrono::seconds(30));
    CHECK(c.busy_poll_us == 300);
    CHECK(c.host_name.empty());
    CHECK_FALSE(c.audit_log);
    CHECK_FALSE(c.tls_crl);
}

TEST_CASE("every optional flag is parsed") {
    auto c = parse_ok({"--tls-crl", "crl.pem", "--bundle-pubkey", "a.pub", "--bundle-pubkey", "b.pub", "--host-name",
                       "prod-web-1", "--host-label", "env=prod", "--host-label", "zone=", "--audit-log", "-",
                       "--admin", "127.0.0.1:9999", "--max-body-inspect", "2MiB", "--max-conns", "10",
                       "--max-header-bytes", "8K", "--handshake-timeout", "500ms", "--header-timeout=5s",
                       "--idle-timeout", "2m", "--drain-timeout", "1h", "--busy-poll-us", "250"});
    CHECK(c.tls_crl == std::optional<std::string>("crl.pem"));
    CHECK(c.bundle_pubkeys == std::vector<std::string>{"a.pub", "b.pub"});
    CHECK(c.host_name == "prod-web-1");
    REQUIRE(c.host_labels.size() == 2);
    CHECK(c.host_labels[0] == std::pair<std::string, std::string>{"env", "prod"});
    CHECK(c.host_labels[1] == std::pair<std::string, std::string>{"zone", ""});
    CHECK(c.audit_log == std::optional<std::string>("-"));
    REQUIRE(c.admin);
    CHECK(c.admin->port == 9999);
    CHECK(c.max_body_inspect == 2u << 20);
    CHECK(c.max_conns == 10);
    CHECK(c.max_header_bytes == 8192);
    CHECK(c.handshake_timeout == std::chrono::milliseconds(500));
    CHECK(c.header_timeout == std::chrono::seconds(5));
    CHECK(c.idle_timeout == std::chrono::minutes(2));
    CHECK(c.drain_timeout == std::chrono::hours(1));
    CHECK(c.busy_poll_us == 250);
}

TEST_CASE("IPv6 listen addresses need brackets") {
    auto c = parse_ok({"--listen", "[::1]:9998"});
    CHECK(c.listen.host == "::1");
    CHECK(c.listen.port == 9998);
    CHECK(parse_err_extra({"--listen", "::1:9998"}).starts_with("--listen: invalid value '::1:9998'"));
    CHECK(parse_err_extra({"--listen", "[::1]9998"}).starts_with("--listen:"));
    CHECK(parse_err_extra({"--listen", "localhost:9998"}).starts_with("--listen:"));
    CHECK(parse_err_extra({"--listen", "1.2.3.4:0"}).starts_with("--listen:"));
    CHECK(parse_err_extra({"--listen", "1.2.3.4:65536"}).starts_with("--listen:"));
}

TEST_CASE("--version needs nothing else") {
    auto r = parse_config({"--version"});
    REQUIRE(r.index() == 0);
    CHECK(std::get<0>(r).show_version);
}

TEST_CASE("required flags are named when missing") {
    CHECK(parse_err({}).starts_with("--listen is required"));
    CHECK(parse_err({"--listen", "1.2.3.4:1"}).starts_with("--tls-cert is required"));
    auto no_docker = base_args();
    no_docker.resize(no_docker.size() - 2);
    CHECK(parse_err(no_docker).starts_with("--docker is required"));
    auto no_bundle = std::vector<std::string>{"--listen", "1.2.3.4:1", "--tls-cert", "a", "--tls-key", "b",
                                              "--tls-client-ca", "c", "--docker", "unix:///d"};
    CHECK(parse_err(no_bundle).starts_with("--bundle is required"));
    no_bundle.insert(no_bundle.end(), {"--bundle", "x", "--bundle-url", "https://x"});
    CHECK(parse_err(no_bundle).starts_with("--bundle and --bundle-url are mutually exclusive"));
}

TEST_CASE("bad values are refused with the flag and a fix") {
    CHECK(parse_err_extra({"--bogus"}).starts_with("unknown argument '--bogus'"));
    CHECK(parse_err_extra({"--idle-timeout"}) == "--idle-timeout: missing value");
    CHECK(parse_err_extra({"--version=1"}) == "--version: takes no value");
    CHECK(parse_err_extra({"--docker", "tcp://1.2.3.4:2375"}).starts_with("--docker: invalid value"));
    CHECK(parse_err_extra({"--docker", "unix://relative.sock"}).starts_with("--docker: invalid value"));
    CHECK(parse_err_extra({"--idle-timeout", "10x"}).starts_with("--idle-timeout: invalid value '10x'"));
    CHECK(parse_err_extra({"--idle-timeout", "0s"}).starts_with("--idle-timeout: invalid value"));
    CHECK(parse_err_extra({"--idle-timeout", "25h"}).starts_with("--idle-timeout: invalid value"));
    CHECK(parse_err_extra({"--host-label", "=v"}).starts_with("--host-label: invalid value"));
    CHECK(parse_err_extra({"--host-label", "novalue"}).starts_with("--host-label: invalid value"));
    CHECK(parse_err_extra({"--host-name", ""}).starts_with("--host-name: invalid value"));
    CHECK(parse_err_extra({"--audit-log", ""}).starts_with("--audit-log: invalid value"));
}

TEST_CASE("a path or URL flag refuses an empty value and says what it wants") {
    for (const char* flag : {"--tls-cert", "--tls-key", "--tls-client-ca", "--tls-crl", "--bundle", "--bundle-url",
                             "--bundle-cache", "--bundle-url-ca", "--shadow-bundle", "--shadow-bundle-url",
                             "--audit-log", "--handoff-key", "--audit-key"}) {
        INFO(flag);
        const auto e = parse_err_extra({flag, ""});
        CHECK(e.starts_with(std::string(flag) + ": invalid value '': use "));
    }
    CHECK(parse_ok({"--tls-crl", "crl.pem"}).tls_crl == "crl.pem");
}

TEST_CASE("--audit-key signs the audit log in both modes and needs --audit-log") {
    CHECK(parse_ok({"--audit-log", "/var/log/a.log", "--audit-key", "audit.pem"}).audit_key ==
          std::optional<std::string>("audit.pem"));
    CHECK_FALSE(parse_ok({"--audit-log", "/var/log/a.log"}).audit_key);
    CHECK(parse_err_extra({"--audit-key", "audit.pem"}).starts_with("--audit-key needs --audit-log"));
    CHECK(parse_err_extra({"--audit-log", "a.log", "--audit-key", ""}).starts_with("--audit-key: invalid value"));
    const std::vector<std::string> plugin{"--socket", "/run/p.sock", "--bundle", "b.dpb", "--audit-log", "a.log",
                                          "--audit-key", "audit.pem"};
    auto p = parse_plugin_config(plugin);
    REQUIRE(p.index() == 0);
    CHECK(std::get<0>(p).audit_key == std::optional<std::string>("audit.pem"));
    auto no_log = parse_plugin_config({"--socket", "/run/p.sock", "--bundle", "b.dpb", "--audit-key", "audit.pem"});
    REQUIRE(no_log.index() == 1);
    CHECK(std::get<1>(no_log).starts_with("--audit-key needs --audit-log"));
}

TEST_CASE("numeric limits are enforced at their named bounds") {
    CHECK(parse_ok({"--max-header-bytes", std::to_string(flag_limits::min_header_bytes)}).max_header_bytes ==
          flag_limits::min_header_bytes);
    CHECK(parse_err_extra({"--max-header-bytes", std::to_string(flag_limits::min_header_bytes - 1)})
              .starts_with("--max-header-bytes: invalid value"));
    CHECK(parse_ok({"--max-header-bytes", "1MiB"}).max_header_bytes == flag_limits::max_header_bytes);
    CHECK(parse_err_extra({"--max-header-bytes", "2M"}).starts_with("--max-header-bytes: invalid value"));
    CHECK(parse_ok({"--max-body-inspect", "64M"}).max_body_inspect == flag_limits::max_body_inspect);
    CHECK(parse_err_extra({"--max-body-inspect", "65M"}).starts_with("--max-body-inspect: invalid value"));
    CHECK(parse_err_extra({"--max-body-inspect", "0"}).starts_with("--max-body-inspect: invalid value"));
    CHECK(parse_err_extra({"--max-conns", "0"}).starts_with("--max-conns: invalid value"));
    CHECK(parse_err_extra({"--max-conns", "2000000"}).starts_with("--max-conns: invalid value"));
    CHECK(parse_ok({"--busy-poll-us", "0"}).busy_poll_us == 0);
    CHECK(parse_ok({"--busy-poll-us", "10000"}).busy_poll_us == flag_limits::max_busy_poll_us);
    CHECK(parse_err_extra({"--busy-poll-us", "10001"}).starts_with("--busy-poll-us: invalid value"));
    CHECK(parse_err_extra({"--busy-poll-us", "-1"}).starts_with("--busy-poll-us: invalid value"));
}

TEST_CASE("--body-timeout and --max-conn-age take durations and default to 30s and 1h") {
    CHECK(parse_ok({}).body_timeout == std::chrono::seconds(30));
    CHECK(parse_ok({}).max_conn_age == std::chrono::hours(1));
    CHECK(parse_ok({"--body-timeout", "2s"}).body_timeout == std::chrono::seconds(2));
    CHECK(parse_ok({"--max-conn-age=10m"}).max_conn_age == std::chrono::minutes(10));
    CHECK(parse_err_extra({"--body-timeout", "0"}).starts_with("--body-timeout: invalid value"));
    CHECK(parse_err_extra({"--max-conn-age", "25h"}).starts_with("--max-conn-age: invalid value"));
}

TEST_CASE("--help lists every flag of the table with its value, default and help") {
    auto r = parse_config({"--help"});
    REQUIRE(std::holds_alternative<config>(r));
    CHECK(std::get<config>(r).show_help);
    CHECK(std::get<config>(parse_config({"-h"})).show_help);
    const std::string h = flags_help();
    for (const auto& f : detail::flag_table) {
        INFO(f.name);
        CHECK(h.find("  " + std::string(f.name) + (f.value.empty() ? "" : " " + std::string(f.value))) != std::string::npos);
        CHECK(!f.help.empty());
    }
    // Defaults come from the config's own initial values.
    CHECK(h.find("--max-body-inspect SIZE") != std::string::npos);
    CHECK(h.find("(default 1MiB)") != std::string::npos);
    CHECK(h.find("(default 30s)") != std::string::npos);
    CHECK(h.find("(default 1h)") != std::string::npos);
    CHECK(h.find("(default 2m)") != std::string::npos);
    CHECK(h.find("(default 300)") != std::string::npos);
    // An unknown flag points at --help, not at a document.
    auto bad = parse_config({"--nope"});
    REQUIRE(std::holds_alternative<std::string>(bad));
    CHECK(std::get<std::string>(bad) == "unknown argument '--nope' (see dockpold --help)");
}

TEST_CASE("--shadow-bundle and --shadow-bundle-url: one of them, proxy only") {
    CHECK(parse_ok({"--shadow-bundle", "cand.dpb"}).shadow_bundle == std::optional<std::string>("cand.dpb"));
    CHECK(parse_ok({"--shadow-bundle-url", "https://b/c.dpb"}).shadow_bundle_url ==
          std::optional<std::string>("https://b/c.dpb"));
    CHECK_FALSE(parse_ok().shadow_bundle);
    CHECK(parse_err_extra({"--shadow-bundle", "a", "--shadow-bundle-url", "https://b"})
              .starts_with("--shadow-bundle and --shadow-bundle-url are mutually exclusive"));
    auto plugin = parse_plugin_config({"--socket", "/s", "--bundle", "b", "--shadow-bundle", "c"});
    REQUIRE(plugin.index() == 1);
    CHECK(std::get<1>(plugin).starts_with("--shadow-bundle is not a flag of `dockpold plugin`: shadow bundles are"));
    CHECK(flags_help().find("--shadow-bundle FILE") != std::string::npos);
    CHECK(plugin_flags_help().find("--shadow-bundle") == std::string::npos);
}

} // namespace sidecar_config_test
