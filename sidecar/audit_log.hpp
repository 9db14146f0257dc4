// Audit events (docs/request-model.md): one JSON line per request, written when the
// request completes. The request path only formats the line and pushes it
// into a bounded queue; a writer thread does the I/O, collecting lines for up
// to audit_flush_interval and writing each batch with one write. A full queue
// drops the line and counts the drop rather than slowing or blocking requests.
#pragma once
#include <chrono>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iterator>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "dockpol/rt/vm.hpp"
#include "json_text.hpp"
#include "metrics.hpp"

namespace dockpol::sidecar {

// Lines waiting for the writer; at ~400 bytes each this caps the backlog near 6 MiB.
inline constexpr std::size_t audit_queue_limit = 16384;
// A backlog this long wakes the writer at once rather than after the flush interval (a burst is not held back).
inline constexpr std::size_t audit_high_water = 256;
// How long a line may wait for others to share its write; short enough that tails see requests at once.
inline constexpr std::chrono::milliseconds audit_flush_interval{20};
// A write buffer grown past this by a burst is freed afterwards (normal batches are a few KiB).
inline constexpr std::size_t audit_keep_buffer_bytes = 1024 * 1024;

struct audit_event {
    std::chrono::system_clock::time_point time;
    std::string_view id;
    std::string_view mode;       // "plugin" when `dockpold plugin` decided; left out for the proxy
    std::string_view user;
    const std::vector<std::string>* groups = nullptr;
    std::string_view peer;
    std::string_view host;
    std::string_view method;
    std::string_view path;
    std::string_view action;
    std::string_view resource;   // the path target as the request named it
    std::string_view target_id;  // the exact id forwarded instead; left out when none
    std::string_view decision;   // "allow" | "deny"
    std::string_view rule;
    std::string_view reason;     // left out when empty
    std::string_view revision;
    const std::vector<rt::rewrite>* rewrites = nullptr;  // what was changed before forwarding; left out when none
    // The shadow bundle's decision, set only when it differs from `decision` (docs/request-model.md#shadow-bundle).
    struct shadow_part { std::string_view decision, rule, revision; };
    std::optional<shadow_part> shadow;
    unsigned status = 0;
    std::uint64_t bytes_in = 0;
    std::uint64_t bytes_out = 0;
    double duration_ms = 0;
};

// RFC 3339, UTC, millisecond precision: 2026-11-25T17:20:14.123Z.
inline std::string rfc3339_ms(std::chrono::system_clock::time_point t) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
    std::time_t secs = static_cast<std::time_t>(ms / 1000);
    if (ms % 1000 < 0) --secs;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                       tm.tm_hour, tm.tm_min, tm.tm_sec, ((ms % 1000) + 1000) % 1000);
}

// One line, newline-terminated, keys in docs/request-model.md order.
inline std::string format_audit_line(const audit_event& e) {
    std::string out;
    out.reserve(384);
    auto key = [&out](std::string_view k) {
        out.push_back(out.empty() ? '{' : ',');
        append_json_string(out, k);
        out.push_back(':');
    };
    auto str = [&](std::string_view k, std::string_view v) {
        key(k);
        append_json_string(out, v);
    };
    str("time", rfc3339_ms(e.time));
    str("id", e.id);
    if (!e.mode.empty()) str("mode", e.mode);
    str("user", e.user);
    key("groups");
    out.push_back('[');
    if (e.groups)
        for (std::size_t i = 0; i < e.groups->size(); ++i) {
            if (i) out.push_back(',');
            append_json_string(out, (*e.groups)[i]);
        }
    out.push_back(']');
    str("peer", e.peer);
    str("host", e.host);
    str("method", e.method);
    str("path", e.path);
    str("action", e.action);
    str("resource", e.resource);
    if (!e.target_id.empty()) str("target_id", e.target_id);
    str("decision", e.decision);
    str("rule", e.rule);
    if (!e.reason.empty()) str("reason", e.reason);
    str("revision", e.revision);
    if (e.rewrites && !e.rewrites->empty()) {
        key("rewrites");
        out.push_back('[');
        for (std::size_t i = 0; i < e.rewrites->size(); ++i) {
            if (i) out.push_back(',');
            out += "{\"kind\":";
            append_json_string(out, (*e.rewrites)[i].kind);
            out += ",\"detail\":";
            append_json_string(out, (*e.rewrites)[i].detail);
            out.push_back('}');
        }
        out.push_back(']');
    }
    if (e.shadow) {
        key("shadow");
        out += "{\"decision\":";
        append_json_string(out, e.shadow->decision);
        out += ",\"rule\":";
        append_json_string(out, e.shadow->rule);
        out += ",\"revision\":";
        append_json_string(out, e.shadow->revision);
        out.push_back('}');
    }
    key("status");
    fmt::format_to(std::back_inserter(out), "{}", e.status);
    key("bytes_in");
    fmt::format_to(std::back_inserter(out), "{}", e.bytes_in);
    key("bytes_out");
    fmt::format_to(std::back_inserter(out), "{}", e.bytes_out);
    key("duration_ms");
    fmt::format_to(std::back_inserter(out), "{:.3f}", e.duration_ms);
    out += "}\n";
    return out;
}

// The writer: a file (reopened on request, for logrotate) or standard output.
class audit_log {
public:
    // `path` is a file path or "-" (stdout). Returns nullopt on success, else why the file cannot be opened.
    audit_log(std::string path, metrics& m) : path_(std::move(path)), metrics_(m) {}
    audit_log(const audit_log&) = delete;
    audit_log& operator=(const audit_log&) = delete;
    ~audit_log() { stop(); }

    std::optional<std::string> open() {
        std::lock_guard lk(file_mu_);
        return open_locked();
    }

    void start() { writer_ = std::thread([this] { run(); }); }

    // Never blocks on I/O: a full queue drops the line and counts it. The writer is woken only when it is
    // parked on an empty queue or the backlog reaches the high-water mark; otherwise its timer collects the line.
    void push(std::string line) {
        bool wake;
        {
            std::lock_guard lk(mu_);
            if (queue_.size() >= audit_queue_limit) {
                metrics_.audit_dropped.fetch_add(1, std::memory_order_relaxed);
                return;
            }
            queue_.push_back(std::move(line));
            wake = std::exchange(parked_, false) || queue_.size() == audit_high_water;
        }
        if (wake) cv_.notify_one();
    }

    // SIGUSR1: the writer reopens the file before its next write.
    void request_reopen() {
        {
            std::lock_guard lk(mu_);
            reopen_ = true;
        }
        cv_.notify_one();
    }

    // Flushes what is queued, then joins the writer.
    void stop() {
        {
            std::lock_guard lk(mu_);
            if (stopping_) return;
            stopping_ = true;
        }
        cv_.notify_one();
        if (writer_.joinable()) writer_.join();
        std::lock_guard lk(file_mu_);
        if (file_ && file_ != stdout) std::fclose(file_);
        file_ = nullptr;
    }

private:
    std::optional<std::string> open_locked() {
        if (path_ == "-") {
            file_ = stdout;
            return std::nullopt;
        }
        std::FILE* f = std::fopen(path_.c_str(), "a");
        if (!f) return "cannot open audit log " + path_ + ": " + std::strerror(errno);
        if (file_ && file_ != stdout) std::fclose(file_);
        file_ = f;
        return std::nullopt;
    }

    void run() {
        std::vector<std::string> batch;
        std::string out;
        for (;;) {
            bool reopen = false, stopping = false;
            {
                std::unique_lock lk(mu_);
                // Idle: sleep without a timer until a line, a reopen or stop arrives.
                if (queue_.empty() && !stopping_ && !reopen_) {
                    parked_ = true;
                    cv_.wait(lk, [this] { return stopping_ || reopen_ || !queue_.empty(); });
                    parked_ = false;
                }
                // Let the lines of concurrent requests gather, so one write carries many of them.
                cv_.wait_for(lk, audit_flush_interval,
                             [this] { return stopping_ || reopen_ || queue_.size() >= audit_high_water; });
                batch.swap(queue_);
                reopen = std::exchange(reopen_, false);
                stopping = stopping_;
            }
            out.clear();
            for (const auto& l : batch) out += l;
            batch.clear();
            std::lock_guard lk(file_mu_);
            if (reopen) {
                if (auto err = open_locked()) std::fprintf(stderr, "dockpold: %s\n", err->c_str());
            }
            if (file_ && !out.empty()) {
                std::fwrite(out.data(), 1, out.size(), file_);
                std::fflush(file_);
            }
            // A burst's buffer is not kept for the quiet time after it.
            if (out.capacity() > audit_keep_buffer_bytes) std::string().swap(out);
            if (stopping) return;
        }
    }

    std::string path_;
    metrics& metrics_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<std::string> queue_;
    bool parked_ = false;        // the writer sleeps without a timer: the next push must wake it
    bool reopen_ = false;
    bool stopping_ = false;
    std::mutex file_mu_;
    std::FILE* file_ = nullptr;
    std::thread writer_;
};

} // namespace dockpol::sidecar
