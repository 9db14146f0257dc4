// dockpold's command line (docs/cli.md): parsing, defaults and validation,
// and `dockpold --help`, all from one flag table.
// Pure: no I/O here; files are opened (and named in errors) by main.
#pragma once
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
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
// Requests on dockerd's UNIX socket carry no identity; policies name them by this user unless told otherwise.
inline constexpr std::string_view local_user = "local";
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
// --local-user and --local-groups name callers as a certificate would: the bounds of identity.hpp
// (max_identity_text, max_groups), so a local caller is no bigger than a TLS one.
inline constexpr std::size_t max_local_name_bytes = 256;
inline constexpr std::size_t max_local_groups = 64;
} // namespace flag_limits

struct listen_address {
    std::string host;   // "127.0.0.1", "::1" (brackets removed), "0.0.0.0"
    std::uint16_t port = 0;
};

struct config {
    bool show_version = false;
    bool show_help = false;

    listen_address listen;
    bool have_listen = false;
    std::string tls_cert, tls_key, tls_client_ca;
    std::optional<std::string> tls_crl;

    std::optional<std::string> bundle;            // --bundle F
    std::optional<std::string> bundle_url;        // --bundle-url URL (fetched and polled)
    duration poll_interval = defaults::poll_interval;
    std::optional<std::string> bundle_cache;
    std::optional<std::string> bundle_url_ca;
    std::vector<std::string> bundle_pubkeys;
    std::optional<std::string> shadow_bundle;     // --shadow-bundle F: a candidate that decides next to the live one
    std::optional<std::string> shadow_bundle_url; // --shadow-bundle-url URL (fetched and polled like --bundle-url)

    std::string docker_socket;                    // path from unix:///path
    std::string host_name;                        // "" → the machine's hostname (main fills it)
    std::vector<std::pair<std::string, std::string>> host_labels;
    std::optional<std::string> audit_log;         // PATH or "-"
    std::optional<std::string> handoff_key;       // --handoff-key FILE: the secret proxy and plugin share
    std::optional<std::string> audit_key;         // Ed25519 private key (PEM) that signs audit checkpoints
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

    // `dockpold plugin` (docs/plugin.md): Docker's authorization-plugin protocol on a UNIX socket.
    std::string plugin_socket;                    // --socket PATH
    std::string local_user{defaults::local_user};   // the user of requests on dockerd's UNIX socket
    std::vector<std::string> local_groups;        // ... and their groups
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

// ---- one table for every flag: parsing, `dockpold --help` and the range errors

using flag_error = std::optional<std::string>;

inline std::string invalid(std::string_view flag, std::string_view value, std::string_view fix) {
    return std::string(flag) + ": invalid value '" + std::string(value) + "': " + std::string(fix);
}

inline flag_error set_duration(duration& out, std::string_view flag, std::string_view value) {
    auto d = parse_duration(value);
    if (!d || d->count() == 0) return invalid(flag, value, "use a positive duration like 10s, 500ms, 2m (at most 24h)");
    out = *d;
    return std::nullopt;
}

inline flag_error set_count(std::uint64_t& out, std::string_view flag, std::string_view value, std::uint64_t lo,
                            std::uint64_t hi, std::string_view fix) {
    auto v = parse_size(value);
    if (!v || *v < lo || *v > hi) return invalid(flag, value, fix);
    out = *v;
    return std::nullopt;
}

// A path or URL: any non-empty value here; start-up reads the file (or fetches the URL) and says what is wrong with it.
template <class Out>
inline flag_error set_text(Out& out, std::string_view flag, const std::string& value, std::string_view fix) {
    if (value.empty()) return invalid(flag, value, fix);
    out = value;
    return std::nullopt;
}

inline flag_error set_address(std::optional<listen_address>& out, std::string_view flag, std::string_view value,
                              std::string_view example) {
    auto a = parse_listen(value);
    if (!a) return invalid(flag, value, "use IPv4:PORT or [IPv6]:PORT, e.g. " + std::string(example));
    out = *a;
    return std::nullopt;
}

// "30s", "2m", "1h", "500ms": how --help shows a duration.
inline std::string duration_text(duration d) {
    const auto ms = d.count();
    if (ms % 3600000 == 0) return std::to_string(ms / 3600000) + "h";
    if (ms % 60000 == 0) return std::to_string(ms / 60000) + "m";
    if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
    return std::to_string(ms) + "ms";
}

// "1MiB", "64KiB", "1024": how --help shows a byte count.
inline std::string size_text(std::uint64_t n) {
    if (n != 0 && n % (1u << 20) == 0) return std::to_string(n >> 20) + "MiB";
    if (n != 0 && n % (1u << 10) == 0) return std::to_string(n >> 10) + "KiB";
    return std::to_string(n);
}

struct flag_spec {
    std::string_view name;
    std::string_view value;    // what the value is ("FILE", "DURATION"); "" for a flag without one
    std::string_view help;     // one line for --help
    // Applies the value to the config; the error names the flag and the fix.
    flag_error (*apply)(config&, std::string_view flag, const std::string& value);
    // The default as --help shows it, read from a default config ("" when there is none).
    std::string (*shown_default)(const config&);
};

inline std::string no_default(const config&) { return ""; }

// Every flag dockpold knows, in --help order; unknown flags are an error, never ignored.
inline const flag_spec flag_table[] = {
    {"--listen", "ADDR:PORT", "where clients connect over mTLS (required; IPv4 or [IPv6])",
     [](config& c, std::string_view f, const std::string& v) -> flag_error {
         std::optional<listen_address> a;
         if (auto e = set_address(a, f, v, "0.0.0.0:9998")) return e;
         c.listen = *a;
         c.have_listen = true;
         return std::nullopt;
     }, no_default},
    {"--tls-cert", "FILE", "server certificate chain, PEM (required)",
     [](config& c, std::string_view f, const std::string& v) { return set_text(c.tls_cert, f, v, "use the path of a PEM certificate chain"); }, no_default},
    {"--tls-key", "FILE", "server private key, PEM (required)",
     [](config& c, std::string_view f, const std::string& v) { return set_text(c.tls_key, f, v, "use the path of a PEM private key"); }, no_default},
    {"--tls-client-ca", "FILE", "the CA that signs client certificates, PEM (required); user = CN, groups = O",
     [](config& c, std::string_view f, const std::string& v) { return set_text(c.tls_client_ca, f, v, "use the path of a PEM CA certificate"); }, no_default},
    {"--tls-crl", "FILE", "a CRL of that CA; reloaded with the CA on SIGHUP or when either file changes",
     [](config& c, std::string_view f, const std::string& v) { return set_text(c.tls_crl, f, v, "use the path of a PEM CRL"); }, no_default},
    {"--bundle", "FILE", "the policy bundle (dockpolc build); reloaded when the file changes",
     [](config& c, std::string_view f, const std::string& v) { return set_text(c.bundle, f, v, "use the path of a bundle (dockpolc build)"); }, no_default},
    {"--bundle-url", "URL", "fetch the bundle from here instead (http:// or https://; sign bundles when it is not https)",
     [](config& c, std::string_view f, const std::string& v) { return set_text(c.bundle_url, f, v, "use an http:// or https:// URL"); }, no_default},
    {"--poll-interval", "DURATION", "how often --bundle-url is fetched",
     [](config& c, std::string_view f, const std::string& v) { return set_duration(c.poll_interval, f, v); },
     [](const config& c) { return duration_text(c.poll_interval); }},
    {"--bundle-cache", "FILE", "keep the last good fetched bundle here, for restarts while the server is down",
     [](config& c, std::string_view f, const std::string& v) { return set_text(c.bundle_cache, f, v, "use a file path"); }, no_default},
    {"--bundle-url-ca", "FILE", "CA for --bundle-url's TLS (default: the system's)",
     [](config& c, std::string_view f, const std::string& v) { return set_text(c.bundle_url_ca, f, v, "use the path of a PEM CA certificate"); }, no_default},
    {"--bundle-pubkey", "FILE", "accept only bundles signed by this Ed25519 key (repeatable)",
     [](config& c, std::string_view, const std::string& v) -> flag_error { c.bundle_pubkeys.push_back(v); return std::nullopt; },
     no_default},
    {"--shadow-bundle", "FILE", "a candidate bundle that decides every request too, never the answer (GET /v1/shadow)",
     [](config& c, std::string_view f, const std::string& v) { return set_text(c.shadow_bundle, f, v, "use the path of a bundle (dockpolc build)"); },
     no_default},
    {"--shadow-bundle-url", "URL", "fetch the candidate bundle from here instead (polled like --bundle-url)",
     [](config& c, std::string_view f, const std::string& v) { return set_text(c.shadow_bundle_url, f, v, "use an http:// or https:// URL"); },
     no_default},
    {"--docker", "unix:///PATH", "dockerd's socket (required by the proxy; in plugin mode for lookups and --admin's /readyz)",
     [](config& c, std::string_view f, const std::string& v) -> flag_error {
         constexpr std::string_view scheme = "unix://";
         if (!std::string_view(v).starts_with(scheme) || v.size() <= scheme.size() || v[scheme.size()] != '/')
             return invalid(f, v, "use unix:///absolute/path/to/docker.sock");
         c.docker_socket = v.substr(scheme.size());
         return std::nullopt;
     }, no_default},
    {"--host-name", "NAME", "`host` for policies (default: the machine's host name)",
     [](config& c, std::string_view f, const std::string& v) -> flag_error {
         if (!valid_label_text(v, false)) return invalid(f, v, "use a non-empty name without control characters");
         c.host_name = v;
         return std::nullopt;
     }, no_default},
    {"--host-label", "K=V", "`host.labels.K` for policies (repeatable)",
     [](config& c, std::string_view f, const std::string& v) -> flag_error {
         auto eq = v.find('=');
         if (eq == std::string::npos || eq == 0 || !valid_label_text(v.substr(0, eq), false) ||
             !valid_label_text(v.substr(eq + 1), true))
             return invalid(f, v, "use KEY=VALUE with a non-empty key");
         c.host_labels.emplace_back(v.substr(0, eq), v.substr(eq + 1));
         return std::nullopt;
     }, no_default},
    {"--audit-log", "PATH|-", "one JSON line per request (- for standard output); SIGUSR1 reopens the file",
     [](config& c, std::string_view f, const std::string& v) { return set_text(c.audit_log, f, v, "use a file path or - for standard output"); }, no_default},
    {"--handoff-key", "FILE", "secret shared by the proxy and the plugin: the proxy signs what it allowed, the plugin accepts that",
     [](config& c, std::string_view f, const std::string& v) { return set_text(c.handoff_key, f, v, "use the path of a file holding at least 32 secret bytes"); }, no_default},
    {"--audit-key", "FILE", "sign the audit log's checkpoints with this Ed25519 private key (dockpolc keygen)",
     [](config& c, std::string_view f, const std::string& v) { return set_text(c.audit_key, f, v, "use the path of a PEM private key"); }, no_default},
    {"--admin", "ADDR:PORT", "health, status, metrics and reload endpoint (plain HTTP: keep it local)",
     [](config& c, std::string_view f, const std::string& v) { return set_address(c.admin, f, v, "127.0.0.1:9999"); },
     no_default},
    {"--max-body-inspect", "SIZE", "largest request body a policy reads (a larger declared one: 413)",
     [](config& c, std::string_view f, const std::string& v) {
         return set_count(c.max_body_inspect, f, v, 1, flag_limits::max_body_inspect,
                          "use a byte count between 1 and " + size_text(flag_limits::max_body_inspect) + " (suffixes K, M)");
     },
     [](const config& c) { return size_text(c.max_body_inspect); }},
    {"--max-conns", "N", "most client connections at once",
     [](config& c, std::string_view f, const std::string& v) {
         return set_count(c.max_conns, f, v, 1, flag_limits::max_conns,
                          "use a count between 1 and " + std::to_string(flag_limits::max_conns));
     },
     [](const config& c) { return std::to_string(c.max_conns); }},
    {"--max-header-bytes", "SIZE", "largest request head",
     [](config& c, std::string_view f, const std::string& v) {
         return set_count(c.max_header_bytes, f, v, flag_limits::min_header_bytes, flag_limits::max_header_bytes,
                          "use a byte count between " + size_text(flag_limits::min_header_bytes) + " and " +
                              size_text(flag_limits::max_header_bytes));
     },
     [](const config& c) { return size_text(c.max_header_bytes); }},
    {"--handshake-timeout", "DURATION", "a TLS handshake must finish within this",
     [](config& c, std::string_view f, const std::string& v) { return set_duration(c.handshake_timeout, f, v); },
     [](const config& c) { return duration_text(c.handshake_timeout); }},
    {"--header-timeout", "DURATION", "a request head must arrive within this",
     [](config& c, std::string_view f, const std::string& v) { return set_duration(c.header_timeout, f, v); },
     [](const config& c) { return duration_text(c.header_timeout); }},
    {"--idle-timeout", "DURATION", "a keep-alive connection may wait this long between requests",
     [](config& c, std::string_view f, const std::string& v) { return set_duration(c.idle_timeout, f, v); },
     [](const config& c) { return duration_text(c.idle_timeout); }},
    {"--drain-timeout", "DURATION", "on SIGTERM, in-flight requests may finish within this",
     [](config& c, std::string_view f, const std::string& v) { return set_duration(c.drain_timeout, f, v); },
     [](const config& c) { return duration_text(c.drain_timeout); }},
    {"--body-timeout", "DURATION", "a body the policy reads must arrive within this (else 408)",
     [](config& c, std::string_view f, const std::string& v) { return set_duration(c.body_timeout, f, v); },
     [](const config& c) { return duration_text(c.body_timeout); }},
    {"--max-conn-age", "DURATION", "a keep-alive connection older than this closes after its request",
     [](config& c, std::string_view f, const std::string& v) { return set_duration(c.max_conn_age, f, v); },
     [](const config& c) { return duration_text(c.max_conn_age); }},
    {"--busy-poll-us", "N", "microseconds an I/O thread spins for the next event before sleeping (0: off)",
     [](config& c, std::string_view f, const std::string& v) {
         return set_count(c.busy_poll_us, f, v, 0, flag_limits::max_busy_poll_us,
                          "use microseconds between 0 (off) and " + std::to_string(flag_limits::max_busy_poll_us));
     },
     [](const config& c) { return std::to_string(c.busy_poll_us); }},
    {"--socket", "PATH", "plugin: the UNIX socket dockerd calls (e.g. /run/docker/plugins/dockpol.sock; required)",
     [](config& c, std::string_view f, const std::string& v) -> flag_error {
         if (v.empty() || v.front() != '/') return invalid(f, v, "use an absolute path");
         c.plugin_socket = v;
         return std::nullopt;
     }, no_default},
    {"--local-user", "NAME", "plugin: the user of requests on dockerd's UNIX socket",
     [](config& c, std::string_view f, const std::string& v) -> flag_error {
         if (!valid_label_text(v, false) || v.size() > flag_limits::max_local_name_bytes)
             return invalid(f, v, "use a non-empty name of at most 256 bytes without control characters");
         c.local_user = v;
         return std::nullopt;
     },
     [](const config& c) { return c.local_user; }},
    {"--local-groups", "G,...", "plugin: the groups of requests on dockerd's UNIX socket (comma-separated)",
     [](config& c, std::string_view f, const std::string& v) -> flag_error {
         c.local_groups.clear();
         std::string_view rest = v;
         while (!rest.empty()) {
             auto comma = rest.find(',');
             auto g = rest.substr(0, comma);
             if (!valid_label_text(g, false) || g.size() > flag_limits::max_local_name_bytes)
                 return invalid(f, v, "use comma-separated non-empty group names of at most 256 bytes");
             if (c.local_groups.size() >= flag_limits::max_local_groups) return invalid(f, v, "use at most 64 groups");
             c.local_groups.emplace_back(g);
             if (comma == std::string_view::npos) break;
             rest.remove_prefix(comma + 1);
             if (rest.empty()) return invalid(f, v, "use comma-separated non-empty group names");
         }
         return std::nullopt;
     }, no_default},
    {"--version", "", "print the version and exit",
     [](config& c, std::string_view, const std::string&) -> flag_error { c.show_version = true; return std::nullopt; },
     no_default},
    {"--help", "", "print this help and exit",
     [](config& c, std::string_view, const std::string&) -> flag_error { c.show_help = true; return std::nullopt; },
     no_default},
};

// Flags only one mode reads; the others are shared by the proxy and `dockpold plugin`.
inline constexpr std::string_view proxy_only_flags[] = {
    "--listen", "--tls-cert", "--tls-key", "--tls-client-ca", "--tls-crl", "--max-conns", "--max-header-bytes",
    "--handshake-timeout", "--header-timeout", "--idle-timeout", "--drain-timeout", "--body-timeout", "--max-conn-age",
    "--busy-poll-us",
    // The plugin cannot compare yet: it refuses the flags rather than ignore them.
    "--shadow-bundle", "--shadow-bundle-url",
};
inline constexpr std::string_view plugin_only_flags[] = {"--socket", "--local-user", "--local-groups"};

enum class run_mode : std::uint8_t { proxy, plugin };

inline bool flag_in(std::string_view name, std::span<const std::string_view> list) {
    return std::find(list.begin(), list.end(), name) != list.end();
}

// Whether `mode` reads the flag.
inline bool flag_used_by(std::string_view name, run_mode mode) {
    return !flag_in(name, mode == run_mode::proxy ? std::span<const std::string_view>(plugin_only_flags)
                                                  : std::span<const std::string_view>(proxy_only_flags));
}

inline const flag_spec* find_flag(std::string_view name) {
    for (const auto& f : flag_table)
        if (f.name == name) return &f;
    if (name == "-h") return find_flag("--help");
    return nullptr;
}

} // namespace detail

namespace detail {

// One line per flag `keep` accepts: name, value, help and default, aligned.
inline std::string flag_lines(bool (*keep)(std::string_view)) {
    const config defaults_config;
    std::string out;
    std::size_t width = 0;
    for (const auto& f : flag_table)
        if (keep(f.name)) width = std::max(width, f.name.size() + (f.value.empty() ? 0 : f.value.size() + 1));
    for (const auto& f : flag_table) {
        if (!keep(f.name)) continue;
        std::string label(f.name);
        if (!f.value.empty()) label += " " + std::string(f.value);
        out += "  " + label + std::string(width - label.size() + 2, ' ') + std::string(f.help);
        if (auto d = f.shown_default(defaults_config); !d.empty()) out += " (default " + d + ")";
        out += "\n";
    }
    return out;
}

} // namespace detail

// `dockpold --help`: every flag with its value, its default and one line, from the flag table.
inline std::string flags_help() {
    std::string out =
        "usage: dockpold --listen ADDR:PORT --tls-cert F --tls-key F --tls-client-ca F\n"
        "                (--bundle F | --bundle-url URL) --docker unix:///PATH [flags]\n"
        "       dockpold plugin --socket PATH (--bundle F | --bundle-url URL) [flags]   decide inside dockerd (AuthZ plugin)\n"
        "       dockpold doctor [--docker URL] [--format text|json]   audit this host for ways around dockpold\n"
        "       dockpold probe URL                                     healthcheck: exit 0 on a 2xx answer\n\n"
        "flags (DURATION: 500ms, 10s, 2m, 1h; SIZE: bytes or K, KiB, M, MiB, G, GiB; \"plugin:\" only for dockpold plugin):\n";
    out += detail::flag_lines([](std::string_view) { return true; });
    out += "\nSignals: SIGHUP reloads the bundle, certificate, key, CA and CRL; SIGUSR1 reopens the audit log;\n"
           "SIGTERM/SIGINT drain and exit. Exit status: 0 after a clean drain, 2 for usage and start-up errors.\n";
    return out;
}

// `dockpold plugin --help`: the flags plugin mode reads, from the same table.
inline std::string plugin_flags_help() {
    std::string out =
        "usage: dockpold plugin --socket PATH (--bundle F | --bundle-url URL) [flags]\n"
        "Serves Docker's authorization-plugin protocol: start dockerd with --authorization-plugin=dockpol.\n\n"
        "flags (DURATION: 500ms, 10s, 2m, 1h; SIZE: bytes or K, KiB, M, MiB, G, GiB):\n";
    out += detail::flag_lines([](std::string_view n) { return detail::flag_used_by(n, detail::run_mode::plugin); });
    out += "\nSignals: SIGHUP reloads the bundle; SIGUSR1 reopens the audit log; SIGTERM/SIGINT stop.\n"
           "Exit status: 0 after a clean stop, 2 for usage and start-up errors.\n";
    return out;
}

namespace detail {

// Applies every flag of argv to `c`; a flag the mode does not read is an error, never ignored.
inline std::optional<std::string> apply_flags(config& c, const std::vector<std::string>& args, run_mode mode) {
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
        const auto* spec = find_flag(name);
        if (!spec) return "unknown argument '" + std::string(arg) + "' (see dockpold --help)";
        if (mode == run_mode::plugin && spec->name.starts_with("--shadow-bundle"))
            return std::string(spec->name) +
                   " is not a flag of `dockpold plugin`: shadow bundles are compared by the proxy only (docs/plugin.md)";
        if (!flag_used_by(spec->name, mode))
            return std::string(spec->name) + (mode == run_mode::plugin ? " is not a flag of `dockpold plugin`"
                                                                      : " is a flag of `dockpold plugin`") +
                   " (see dockpold --help)";
        const bool takes_value = !spec->value.empty();
        if (takes_value && !inline_value) {
            if (i + 1 >= args.size()) return std::string(name) + ": missing value";
            value = args[++i];
        } else if (!takes_value && inline_value) {
            return std::string(name) + ": takes no value";
        }
        if (auto err = spec->apply(c, spec->name, value)) return *err;
    }
    return std::nullopt;
}

// A key signs the audit log's checkpoints: without the log it would be silently unused.
inline std::optional<std::string> audit_key_check(const config& c) {
    if (c.audit_key && !c.audit_log) return std::string("--audit-key needs --audit-log (it signs the audit log's checkpoints)");
    return std::nullopt;
}

} // namespace detail

// Parses argv (without argv[0]). Errors are one line that names the flag and the fix.
inline std::variant<config, std::string> parse_config(const std::vector<std::string>& args) {
    config c;
    if (auto e = detail::apply_flags(c, args, detail::run_mode::proxy)) return *e;
    if (c.show_version || c.show_help) return c;
    if (!c.have_listen) return std::string("--listen is required (e.g. --listen 0.0.0.0:9998)");
    if (c.tls_cert.empty()) return std::string("--tls-cert is required (the server certificate chain, PEM)");
    if (c.tls_key.empty()) return std::string("--tls-key is required (the server private key, PEM)");
    if (c.tls_client_ca.empty()) return std::string("--tls-client-ca is required (the CA that signs client certificates, PEM)");
    if (!c.bundle && !c.bundle_url) return std::string("--bundle is required (a bundle built by `dockpolc build`)");
    if (c.bundle && c.bundle_url) return std::string("--bundle and --bundle-url are mutually exclusive: pick one");
    if (c.shadow_bundle && c.shadow_bundle_url)
        return std::string("--shadow-bundle and --shadow-bundle-url are mutually exclusive: pick one");
    if (c.docker_socket.empty()) return std::string("--docker is required (e.g. --docker unix:///var/run/docker.sock)");
    if (auto e = detail::audit_key_check(c)) return *e;
    return c;
}

// `dockpold plugin ARGS` (argv after "plugin"): the shared flags and the plugin's own.
inline std::variant<config, std::string> parse_plugin_config(const std::vector<std::string>& args) {
    config c;
    if (auto e = detail::apply_flags(c, args, detail::run_mode::plugin)) return *e;
    if (c.show_version || c.show_help) return c;
    if (c.plugin_socket.empty())
        return std::string("--socket is required (e.g. --socket /run/docker/plugins/dockpol.sock)");
    if (!c.bundle && !c.bundle_url) return std::string("--bundle is required (a bundle built by `dockpolc build`)");
    if (c.bundle && c.bundle_url) return std::string("--bundle and --bundle-url are mutually exclusive: pick one");
    // /readyz asks dockerd whether it answers.
    if (c.admin && c.docker_socket.empty())
        return std::string("--admin needs --docker in plugin mode (its /readyz asks dockerd)");
    if (auto e = detail::audit_key_check(c)) return *e;
    return c;
}

} // namespace dockpol::sidecar
