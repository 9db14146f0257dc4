// dockpold's command line (docs/cli.md): parsing, defaults and validation.
// Pure: no I/O here; files are opened (and named in errors) by main.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace dockpol::sidecar {

using duration = std::chrono::milliseconds;

// Defaults, each with the reason it is what it is.
namespace defaults {
// Body facts only need create/exec/volume bodies, which are a few KiB; 1 MiB leaves room for large env lists.
inline constexpr std::uint64_t max_body_inspect = 1u << 20;
// Docker's CLI sends ~1 KiB of headers (auth headers for pull/push are the biggest); 64 KiB is generous and bounded.
inline constexpr std::uint64_t max_header_bytes = 64u << 10;
// Bounds per-connection memory and file descriptors; raise it for large CI fleets.
inline constexpr std::uint64_t max_conns = 1024;
inline constexpr duration handshake_timeout = std::chrono::seconds(10);
inline constexpr duration header_timeout = std::chrono::seconds(30);
inline constexpr duration idle_timeout = std::chrono::seconds(120);
inline constexpr duration drain_timeout = std::chrono::seconds(30);
// An inspected body is a few KiB; a client that has not sent it in 30 s is stalling, not uploading.
inline constexpr duration body_timeout = std::chrono::seconds(30);
// Bounds how long a keep-alive connection keeps a decision context (certificate check, identity) alive.
inline constexpr duration max_conn_age = std::chrono::hours(1);
inline constexpr duration poll_interval = std::chrono::seconds(30);
// Covers dockerd's answer to a small request and a keep-alive client's next one (see io_pool.hpp).
inline constexpr std::uint64_t busy_poll_us = 300;
} // namespace defaults

// Upper bounds for numeric flags, so a typo cannot ask for absurd resources.
namespace flag_limits {
// Inspecting more than 64 MiB of JSON in memory per request is never useful.
inline constexpr std::uint64_t max_body_inspect = 64u << 20;
// The head is held in memory until decided; 1 MiB is far above any real client.
inline constexpr std::uint64_t max_header_bytes = 1u << 20;
// A head needs at least its request line; below 1 KiB the CLI's own requests fail.
inline constexpr std::uint64_t min_header_bytes = 1024;
// File descriptors are the real bound; 1M is beyond any ulimit we expect.
inline constexpr std::uint64_t max_conns = 1u << 20;
// One day: longer timeouts are a configuration mistake.
inline constexpr duration max_timeout = std::chrono::hours(24);
// Spinning longer than 10 ms after the last event only burns CPU.
inline constexpr std::uint64_t max_busy_poll_us = 10000;
} // namespace flag_limits

struct listen_address {
    std::string host;   // "127.0.0.1", "::1" (brackets removed), "0.0.0.0"
    std::uint16_t port = 0;
};

struct config {
    bool show_version = false;

    listen_address listen;
    std::string tls_cert, tls_key, tls_client_ca;
    std::optional<std::string> tls_crl;

    std::optional<std::string> bundle;            // --bundle F
    std::optional<std::string> bundle_url;        // reserved for the bundle-URL helper
    duration poll_interval = defaults::poll_interval;
    std::optional<std::string> bundle_cache;
    std::optional<std::string> bundle_url_ca;
    std::vector<std::string> bundle_pubkeys;

    std::string docker_socket;                    // path from unix:///path
    std::string host_name;                        // "" → the machine's hostname (main fills it)
    std::vector<std::pair<std::string, std::string>> host_labels;
    std::optional<std::string> audit_log;         // PATH or "-"
    std::optional<listen_address> admin;

    std::uint64_t max_body_inspect = defaults::max_body_inspect;
    std::uint64_t max_conns = defaults::max_conns;
    std::uint64_t max_header_bytes = defaults::max_header_bytes;
    duration handshake_timeout = defaults::handshake_timeout;
    duration header_timeout = defaults::header_timeout;
    duration idle_timeout = defaults::idle_timeout;
    duration drain_timeout = defaults::drain_timeout;
    duration body_timeout = defaults::body_timeout;     // an inspected body must arrive within this
    duration max_conn_age = defaults::max_conn_age;     // keep-alive connections close after a request once older
    std::uint64_t busy_poll_us = defaults::busy_poll_us;   // 0: always sleep in epoll_wait
};

namespace detail {

// "10s", "500ms", "2m", "1h", or a bare number of seconds.
inline std::optional<duration> parse_duration(std::string_view s) {
    std::uint64_t n = 0;
    std::size_t i = 0;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
        if (n > (std::uint64_t{1} << 40)) return std::nullopt;
        n = n * 10 + static_cast<std::uint64_t>(s[i] - '0');
    }
    if (i == 0) return std::nullopt;
    std::string_view unit = s.substr(i);
    struct unit_row { std::string_view name; std::uint64_t ms; };
    static constexpr unit_row units[] = {{"", 1000}, {"s", 1000}, {"ms", 1}, {"m", 60000}, {"h", 3600000}};
    for (const auto& u : units)
        if (u.name == unit) {
            auto d = duration(static_cast<std::int64_t>(n * u.ms));
            if (d > flag_limits::max_timeout) return std::nullopt;
            return d;
        }
    return std::nullopt;
}

// Bytes: a number with an optional K/KiB/M/MiB/G/GiB suffix (powers of 1024).
inline std::optional<std::uint64_t> parse_size(std::string_view s) {
    std::uint64_t n = 0;
    std::size_t i = 0;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
        if (n > (std::uint64_t{1} << 40)) return std::nullopt;
        n = n * 10 + static_cast<std::uint64_t>(s[i] - '0');
    }
    if (i == 0) return std::nullopt;
    std::string_view unit = s.substr(i);
    struct unit_row { std::string_view name; unsigned shift; };
    static constexpr unit_row units[] = {{"", 0}, {"K", 10}, {"KiB", 10}, {"M", 20}, {"MiB", 20}, {"G", 30}, {"GiB", 30}};
    for (const auto& u : units)
        if (u.name == unit) return n << u.shift;
    return std::nullopt;
}

inline std::optional<std::uint16_t> parse_port(std::string_view s) {
    if (s.empty() || s.size() > 5) return std::nullopt;
    unsigned v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + static_cast<unsigned>(c - '0');
    }
    if (v == 0 || v > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(v);
}

// "1.2.3.4:9998" or "[::1]:9998"; the host must be a literal address (no DNS at start-up).
inline std::optional<listen_address> parse_listen(std::string_view s) {
    listen_address a;
    std::string_view port;
    if (!s.empty() && s.front() == '[') {
        auto close = s.find(']');
        if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':') return std::nullopt;
        a.host = std::string(s.substr(1, close - 1));
        port = s.substr(close + 2);
        if (a.host.find(':') == std::string::npos) return std::nullopt;
    } else {
        auto colon = s.rfind(':');
        if (colon == std::string_view::npos) return std::nullopt;
        a.host = std::string(s.substr(0, colon));
        port = s.substr(colon + 1);
        if (a.host.empty() || a.host.find(':') != std::string::npos) return std::nullopt;
        int dots = 0;
        for (char c : a.host) {
            if (c == '.') ++dots;
            else if (c < '0' || c > '9') return std::nullopt;
        }
        if (dots != 3) return std::nullopt;
    }
    auto p = parse_port(port);
    if (!p) return std::nullopt;
    a.port = *p;
    return a;
}

// Label keys follow Docker's label rules loosely: non-empty, no '=' and no control bytes.
inline bool valid_label_text(std::string_view s, bool allow_empty) {
    if (s.empty()) return allow_empty;
    for (unsigned char c : s)
        if (c < 0x20 || c == 0x7f) return false;
    return true;
}

struct flag_spec {
    std::string_view name;
    bool takes_value;
};

// Every flag dockpold knows; unknown flags are an error, never ignored.
inline constexpr flag_spec flag_table[] = {
    {"--listen", true},        {"--tls-cert", true},          {"--tls-key", true},
    {"--tls-client-ca", true}, {"--tls-crl", true},           {"--bundle", true},
    {"--bundle-url", true},    {"--poll-interval", true},     {"--bundle-cache", true},
    {"--bundle-url-ca", true}, {"--bundle-pubkey", true},     {"--docker", true},
    {"--host-name", true},     {"--host-label", true},        {"--audit-log", true},
    {"--admin", true},         {"--max-body-inspect", true},  {"--max-conns", true},
    {"--max-header-bytes", true}, {"--handshake-timeout", true}, {"--header-timeout", true},
    {"--idle-timeout", true},  {"--drain-timeout", true},     {"--busy-poll-us", true},
    {"--body-timeout", true},  {"--max-conn-age", true},
    {"--version", false},
};

inline const flag_spec* find_flag(std::string_view name) {
    for (const auto& f : flag_table)
        if (f.name == name) return &f;
    return nullptr;
}

} // namespace detail

// Parses argv (without argv[0]). Errors are one line that names the flag and the fix.
inline std::variant<config, std::string> parse_config(const std::vector<std::string>& args) {
    config c;
    bool have_listen = false;
    auto bad = [](std::string_view flag, std::string_view value, std::string_view fix) {
        return std::string(flag) + ": invalid value '" + std::string(value) + "': " + std::string(fix);
    };
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string_view arg = args[i];
        std::string value;
        std::string_view name = arg;
        bool inline_value = false;
        // Accept --flag=value as well as --flag value.
        if (auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
            name = arg.substr(0, eq);
            value = std::string(arg.substr(eq + 1));
            inline_value = true;
        }
        const auto* spec = detail::find_flag(name);
        if (!spec) return "unknown argument '" + std::string(arg) + "' (see docs/cli.md for dockpold's flags)";
        if (spec->takes_value && !inline_value) {
            if (i + 1 >= args.size()) return std::string(name) + ": missing value";
            value = args[++i];
        } else if (!spec->takes_value && inline_value) {
            return std::string(name) + ": takes no value";
        }
        auto dur = [&](duration& out) -> std::optional<std::string> {
            auto d = detail::parse_duration(value);
            if (!d || d->count() == 0) return bad(name, value, "use a positive duration like 10s, 500ms, 2m (at most 24h)");
            out = *d;
            return std::nullopt;
        };
        auto count = [&](std::uint64_t& out, std::uint64_t lo, std::uint64_t hi, std::string_view fix) -> std::optional<std::string> {
            auto v = detail::parse_size(value);
            if (!v || *v < lo || *v > hi) return bad(name, value, fix);
            out = *v;
            return std::nullopt;
        };
        std::optional<std::string> err;
        if (name == "--version") c.show_version = true;
        else if (name == "--listen") {
            auto a = detail::parse_listen(value);
            if (!a) return bad(name, value, "use IPv4:PORT or [IPv6]:PORT, e.g. 0.0.0.0:9998");
            c.listen = *a;
            have_listen = true;
        } else if (name == "--admin") {
            auto a = detail::parse_listen(value);
            if (!a) return bad(name, value, "use IPv4:PORT or [IPv6]:PORT, e.g. 127.0.0.1:9999");
            c.admin = *a;
        } else if (name == "--tls-cert") c.tls_cert = value;
        else if (name == "--tls-key") c.tls_key = value;
        else if (name == "--tls-client-ca") c.tls_client_ca = value;
        else if (name == "--tls-crl") c.tls_crl = value;
        else if (name == "--bundle") c.bundle = value;
        else if (name == "--bundle-url") c.bundle_url = value;
        else if (name == "--bundle-cache") c.bundle_cache = value;
        else if (name == "--bundle-url-ca") c.bundle_url_ca = value;
        else if (name == "--bundle-pubkey") c.bundle_pubkeys.push_back(value);
        else if (name == "--poll-interval") err = dur(c.poll_interval);
        else if (name == "--docker") {
            constexpr std::string_view scheme = "unix://";
            if (!std::string_view(value).starts_with(scheme) || value.size() <= scheme.size() || value[scheme.size()] != '/')
                return bad(name, value, "use unix:///absolute/path/to/docker.sock");
            c.docker_socket = value.substr(scheme.size());
        } else if (name == "--host-name") {
            if (!detail::valid_label_text(value, false)) return bad(name, value, "use a non-empty name without control characters");
            c.host_name = value;
        } else if (name == "--host-label") {
            auto eq = value.find('=');
            if (eq == std::string::npos || eq == 0 || !detail::valid_label_text(value.substr(0, eq), false) ||
                !detail::valid_label_text(value.substr(eq + 1), true))
                return bad(name, value, "use KEY=VALUE with a non-empty key");
            c.host_labels.emplace_back(value.substr(0, eq), value.substr(eq + 1));
        } else if (name == "--audit-log") {
            if (value.empty()) return bad(name, value, "use a file path or - for standard output");
            c.audit_log = value;
        } else if (name == "--max-body-inspect")
            err = count(c.max_body_inspect, 1, flag_limits::max_body_inspect, "use a byte count between 1 and 64MiB (suffixes K, M)");
        else if (name == "--max-conns")
            err = count(c.max_conns, 1, flag_limits::max_conns, "use a count between 1 and 1048576");
        else if (name == "--max-header-bytes")
            err = count(c.max_header_bytes, flag_limits::min_header_bytes, flag_limits::max_header_bytes,
                        "use a byte count between 1KiB and 1MiB");
        else if (name == "--handshake-timeout") err = dur(c.handshake_timeout);
        else if (name == "--header-timeout") err = dur(c.header_timeout);
        else if (name == "--idle-timeout") err = dur(c.idle_timeout);
        else if (name == "--drain-timeout") err = dur(c.drain_timeout);
        else if (name == "--body-timeout") err = dur(c.body_timeout);
        else if (name == "--max-conn-age") err = dur(c.max_conn_age);
        else if (name == "--busy-poll-us")
            err = count(c.busy_poll_us, 0, flag_limits::max_busy_poll_us, "use microseconds between 0 (off) and 10000");
        if (err) return *err;
    }
    if (c.show_version) return c;
    if (!have_listen) return std::string("--listen is required (e.g. --listen 0.0.0.0:9998)");
    if (c.tls_cert.empty()) return std::string("--tls-cert is required (the server certificate chain, PEM)");
    if (c.tls_key.empty()) return std::string("--tls-key is required (the server private key, PEM)");
    if (c.tls_client_ca.empty()) return std::string("--tls-client-ca is required (the CA that signs client certificates, PEM)");
    if (!c.bundle && !c.bundle_url) return std::string("--bundle is required (a bundle built by `dockpolc build`)");
    if (c.bundle && c.bundle_url) return std::string("--bundle and --bundle-url are mutually exclusive: pick one");
    if (c.docker_socket.empty()) return std::string("--docker is required (e.g. --docker unix:///var/run/docker.sock)");
    return c;
}

} // namespace dockpol::sidecar
