// Audit events (docs/request-model.md): one JSON line per request, written when the
// request completes. The request path only formats the line and pushes it
// into a bounded queue; a writer thread does the I/O, collecting lines for up
// to audit_flush_interval and writing each batch with one write. A full queue
// drops the line and counts the drop rather than slowing or blocking requests.
// The writer chains the lines and seals them with checkpoints (see audit_log).
#pragma once
#include <algorithm>
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
#include <variant>
#include <vector>

#include <sys/stat.h>

#include <fmt/format.h>

#include "dockpol/rt/audit_chain.hpp"
#include "dockpol/rt/limits.hpp"
#include "dockpol/rt/signature.hpp"
#include "dockpol/rt/recorded_facts.hpp"
#include "dockpol/rt/vm.hpp"
#include "dockpol/rt/json_text.hpp"
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
    rt::bound_facts facts;       // what the decision read (`facts`, replayed by dockpolc learn/diff); left out when none
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
        rt::append_json_string(out, k);
        out.push_back(':');
    };
    auto str = [&](std::string_view k, std::string_view v) {
        key(k);
        rt::append_json_string(out, v);
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
            rt::append_json_string(out, (*e.groups)[i]);
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
            rt::append_json_string(out, (*e.rewrites)[i].kind);
            out += ",\"detail\":";
            rt::append_json_string(out, (*e.rewrites)[i].detail);
            out.push_back('}');
        }
        out.push_back(']');
    }
    if (e.facts.image && e.facts.in) rt::append_recorded_facts(out, *e.facts.image, *e.facts.in);
    if (e.shadow) {
        key("shadow");
        out += "{\"decision\":";
        rt::append_json_string(out, e.shadow->decision);
        out += ",\"rule\":";
        rt::append_json_string(out, e.shadow->rule);
        out += ",\"revision\":";
        rt::append_json_string(out, e.shadow->revision);
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
// It also keeps the tamper-evident chain (rt/audit_chain.hpp): it appends each
// line's `"prev"` (the hash of the line before it in the file) and writes the
// checkpoint lines, signed with --audit-key. Both happen here, in file order,
// so the request path only formats its line, as before.
class audit_log {
public:
    audit_log(std::string path, metrics& m) : path_(std::move(path)), metrics_(m) {}
    audit_log(const audit_log&) = delete;
    audit_log& operator=(const audit_log&) = delete;
    ~audit_log() { stop(); }

    // Returns nullopt on success, else why the file cannot be opened.
    std::optional<std::string> open() {
        std::lock_guard lk(file_mu_);
        return open_locked(true);
    }

    // --audit-key: checkpoints are signed with this Ed25519 key. Returns why it cannot be used.
    std::optional<std::string> load_key(const std::string& pem_path) {
        auto k = rt::load_signing_key_pem(pem_path);
        if (auto* e = std::get_if<std::string>(&k)) return *e;
        key_ = std::get<rt::signing_key>(std::move(k));
        return std::nullopt;
    }

    // Checkpoint spacing (defaults: rt/audit_chain.hpp); set before start().
    void set_checkpoint_interval(std::uint64_t lines, std::chrono::milliseconds every) {
        checkpoint_lines_ = lines;
        checkpoint_every_ = every;
    }

    void start() { writer_ = std::thread([this] { run(); }); }

    // Never blocks on I/O: a full queue drops the line and counts it. The writer is woken only when it is
    // parked on an empty queue or the backlog reaches the high-water mark; otherwise its timer collects the line.
    void push(std::string line) {
        bool wake;
        {
            std::lock_guard lk(mu_);
            if (queue_.size() >= audit_queue_limit) {
                ++dropped_;
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

    // Flushes what is queued, seals it with a final checkpoint, then joins the writer.
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
    using steady = std::chrono::steady_clock;

    // Opens path_ for appending. At start-up the chain continues from the file's last line, so restarts
    // that append to one file keep one chain.
    std::optional<std::string> open_locked(bool initial) {
        std::FILE* f = path_ == "-" ? stdout : std::fopen(path_.c_str(), "a");
        if (!f) return "cannot open audit log " + path_ + ": " + std::strerror(errno);
        if (initial) prev_ = f == stdout ? std::string(rt::audit_chain::genesis_prev) : last_line_hash(f);
        if (file_ && file_ != stdout && file_ != f) std::fclose(file_);
        file_ = f;
        return std::nullopt;
    }

    // The hash of the file's last line, or genesis for an empty file. A last line cut by a crash is ended with
    // a newline first, so the next line starts on its own (the verifier then reports the cut line).
    std::string last_line_hash(std::FILE* f) {
        std::string tail;
        if (std::FILE* in = std::fopen(path_.c_str(), "rb")) {
            if (std::fseek(in, 0, SEEK_END) == 0) {
                const long size = std::ftell(in);
                const long want = static_cast<long>(std::min<std::size_t>(rt::limits::max_audit_line_bytes + 1,
                                                                          static_cast<std::size_t>(std::max(size, 0L))));
                if (size > 0 && std::fseek(in, size - want, SEEK_SET) == 0) {
                    tail.resize(static_cast<std::size_t>(want));
                    tail.resize(std::fread(tail.data(), 1, tail.size(), in));
                }
            }
            std::fclose(in);
        }
        if (tail.empty()) return std::string(rt::audit_chain::genesis_prev);
        if (tail.back() != '\n') {
            std::fputc('\n', f);
            std::fflush(f);
        } else {
            tail.pop_back();
        }
        const auto nl = tail.rfind('\n');
        // A last line longer than the verifier reads cannot be chained to; it will report the break.
        if (nl == std::string::npos && tail.size() > rt::limits::max_audit_line_bytes)
            return std::string(rt::audit_chain::genesis_prev);
        return rt::audit_chain::line_hash(nl == std::string::npos ? std::string_view(tail)
                                                                   : std::string_view(tail).substr(nl + 1));
    }

    // One line, chained to the one before it; a line that is not a one-line JSON object (an internal error)
    // is counted as dropped rather than written unchained.
    void append_line(std::string& out, std::string_view line) {
        if (line.ends_with('\n')) line.remove_suffix(1);
        auto chained = rt::audit_chain::with_prev(line, prev_);
        if (!chained) {
            ++own_dropped_;
            metrics_.audit_dropped.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        prev_ = rt::audit_chain::line_hash(*chained);
        out += *chained;
        out.push_back('\n');
        ++lines_;
        if (unsealed_++ == 0) seal_due_ = steady::now() + checkpoint_every_;
    }

    void append_checkpoint(std::string& out, rt::audit_chain::checkpoint_kind kind) {
        rt::audit_chain::checkpoint c;
        c.kind = kind;
        c.seq = seq_++;
        c.lines = lines_;
        c.dropped = dropped_seen_ + own_dropped_;
        c.time = rfc3339_ms(std::chrono::system_clock::now());
        c.prev = prev_;
        auto line = rt::audit_chain::checkpoint_line(c, key_ ? &*key_ : nullptr);
        // Signing fails only when OpenSSL cannot allocate: write the checkpoint unsigned, the verifier says so.
        if (!line) line = rt::audit_chain::checkpoint_line(c, nullptr);
        prev_ = rt::audit_chain::line_hash(*line);
        out += *line;
        out.push_back('\n');
        unsealed_ = 0;
        sealed_dropped_ = c.dropped;
    }

    bool needs_seal() const { return unsealed_ > 0 || dropped_seen_ + own_dropped_ != sealed_dropped_; }

    void write_out(std::string& out) {
        if (file_ && !out.empty()) {
            std::fwrite(out.data(), 1, out.size(), file_);
            std::fflush(file_);
        }
        out.clear();
    }

    // SIGUSR1: the old file ends with a `close` checkpoint, the new one starts with a `rotate` checkpoint whose
    // `prev` is that close line, so one chain runs through both. Reopening the same file (no rename) adds nothing.
    void rotate(std::string& out) {
        write_out(out);
        std::FILE* old = file_;
        std::FILE* f = path_ == "-" ? stdout : std::fopen(path_.c_str(), "a");
        if (!f) {
            std::fprintf(stderr, "dockpold: cannot open audit log %s: %s\n", path_.c_str(), std::strerror(errno));
            return;
        }
        struct stat a{}, b{};
        const bool same = !old || f == old ||
                          (::fstat(::fileno(old), &a) == 0 && ::fstat(::fileno(f), &b) == 0 && a.st_dev == b.st_dev &&
                           a.st_ino == b.st_ino);
        if (!same) {
            append_checkpoint(out, rt::audit_chain::checkpoint_kind::close);
            write_out(out);
        }
        if (old && old != stdout && old != f) std::fclose(old);
        file_ = f;
        if (!same) {
            append_checkpoint(out, rt::audit_chain::checkpoint_kind::rotate);
            write_out(out);
        }
    }

    void run() {
        std::vector<std::string> batch;
        std::string out;
        {
            std::lock_guard lk(file_mu_);
            append_checkpoint(out, rt::audit_chain::checkpoint_kind::start);
            write_out(out);
        }
        for (;;) {
            bool reopen = false, stopping = false;
            {
                std::unique_lock lk(mu_);
                auto woken = [this] { return stopping_ || reopen_ || !queue_.empty(); };
                // Idle: sleep until a line, a reopen or stop arrives, or unsealed lines are due a checkpoint.
                if (queue_.empty() && !stopping_ && !reopen_) {
                    parked_ = true;
                    if (needs_seal()) cv_.wait_until(lk, seal_due_, woken);
                    else cv_.wait(lk, woken);
                    parked_ = false;
                }
                // Let the lines of concurrent requests gather, so one write carries many of them.
                if (!queue_.empty())
                    cv_.wait_for(lk, audit_flush_interval,
                                 [this] { return stopping_ || reopen_ || queue_.size() >= audit_high_water; });
                batch.swap(queue_);
                reopen = std::exchange(reopen_, false);
                stopping = stopping_;
                dropped_seen_ = dropped_;
            }
            std::lock_guard lk(file_mu_);
            for (const auto& l : batch) {
                append_line(out, l);
                if (unsealed_ >= checkpoint_lines_) append_checkpoint(out, rt::audit_chain::checkpoint_kind::periodic);
            }
            batch.clear();
            if (needs_seal() && !stopping && !reopen && steady::now() >= seal_due_)
                append_checkpoint(out, rt::audit_chain::checkpoint_kind::periodic);
            if (reopen) rotate(out);
            if (stopping) append_checkpoint(out, rt::audit_chain::checkpoint_kind::stop);
            write_out(out);
            // A burst's buffer is not kept for the quiet time after it.
            if (out.capacity() > audit_keep_buffer_bytes) std::string().swap(out);
            if (stopping) return;
        }
    }

    std::string path_;
    metrics& metrics_;
    std::optional<rt::signing_key> key_;
    std::uint64_t checkpoint_lines_ = rt::audit_chain::checkpoint_every_lines;
    std::chrono::milliseconds checkpoint_every_ = rt::audit_chain::checkpoint_every;

    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<std::string> queue_;
    std::uint64_t dropped_ = 0;  // lines the full queue refused (guarded by mu_)
    bool parked_ = false;        // the writer sleeps without a timer: the next push must wake it
    bool reopen_ = false;
    bool stopping_ = false;

    // The writer thread's own state (file_mu_ held while it writes).
    std::mutex file_mu_;
    std::FILE* file_ = nullptr;
    std::string prev_{rt::audit_chain::genesis_prev};  // hash of the last line written
    std::uint64_t seq_ = 0;
    std::uint64_t lines_ = 0;
    std::uint64_t unsealed_ = 0;          // lines since the last checkpoint
    std::uint64_t dropped_seen_ = 0;      // dropped_ when the current batch was taken
    std::uint64_t own_dropped_ = 0;       // lines the writer could not chain
    std::uint64_t sealed_dropped_ = 0;    // drops the last checkpoint reported
    steady::time_point seal_due_{};
    std::thread writer_;
};

} // namespace dockpol::sidecar
