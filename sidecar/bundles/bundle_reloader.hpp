// The one path every bundle reload takes, whatever triggered it (SIGHUP, a
// file change, the admin call, a URL poll): get the bytes (file or URL) →
// policy_store::try_replace (bounds → digest → signature → verifier → swap).
// Reloads run one at a time on a strand; a failure keeps the last good bundle
// and is reported three ways: a log line with the reason, the failure
// counter, and last_error in /v1/status.
#pragma once
#include <array>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "atomic_file.hpp"
#include "bundle_fetcher.hpp"
#include "dockpol/rt/sha256.hpp"
#include "metrics.hpp"
#include "policy_store.hpp"

namespace dockpol::sidecar {

enum class reload_trigger : std::uint8_t { start, sighup, file_change, admin, poll };

// Names used in log lines and /v1/status, indexed by reload_trigger.
inline constexpr std::array<std::string_view, 5> reload_trigger_names = {"start", "sighup", "file", "admin", "poll"};

inline std::string_view name_of(reload_trigger t) { return reload_trigger_names[static_cast<std::size_t>(t)]; }

// What the last reload attempt did (the serving bundle itself is policy_store's status).
struct reload_record {
    std::chrono::system_clock::time_point last_reload{};   // epoch: none yet
    std::string last_error;                                // "" when the last attempt succeeded
    std::string last_trigger;
};

struct reload_result {
    std::optional<std::string> error;   // set: nothing changed and this is why
    bool swapped = false;               // false on success means "unchanged" (304 or identical bytes)
};

class bundle_reloader {
public:
    using done_fn = std::function<void(reload_result)>;
    using log_fn = std::function<void(const std::string&)>;

    static void log_stderr(const std::string& line) { std::fprintf(stderr, "dockpold: %s\n", line.c_str()); }

    // File mode: --bundle F.
    bundle_reloader(net::any_io_executor ex, policy_store& store, metrics& stats, std::string bundle_path,
                    log_fn log = log_stderr)
        : strand_(net::make_strand(ex)), store_(store), stats_(stats), path_(std::move(bundle_path)), log_(std::move(log)),
          poll_timer_(strand_) {}

    // URL mode: --bundle-url URL [--bundle-cache F].
    bundle_reloader(net::any_io_executor ex, policy_store& store, metrics& stats, std::shared_ptr<bundle_fetcher> fetcher,
                    std::optional<std::string> cache, log_fn log = log_stderr)
        : strand_(net::make_strand(ex)), store_(store), stats_(stats), fetcher_(std::move(fetcher)),
          cache_(std::move(cache)), log_(std::move(log)), poll_timer_(strand_) {}

    bundle_reloader(const bundle_reloader&) = delete;
    bundle_reloader& operator=(const bundle_reloader&) = delete;

    bool url_mode() const { return fetcher_ != nullptr; }
    const std::string& bundle_path() const { return path_; }

    // The first load, before serving; runs its own event loop for the URL case.
    // File mode: the file must load. URL mode: the URL, else the cache, must load.
    std::optional<std::string> initial_load() {
        if (!url_mode()) {
            auto bytes = read_bundle_file(path_);
            if (auto* e = std::get_if<std::string>(&bytes)) return *e;
            if (auto e = store_.try_replace(std::get<0>(bytes), path_)) return "bundle " + path_ + " rejected: " + *e;
            remember(std::get<0>(bytes));
            note(reload_trigger::start, std::nullopt);
            log_("bundle revision " + store_.status().revision + " loaded from " + path_);
            return std::nullopt;
        }
        net::io_context ioc;
        fetch_outcome got;
        fetcher_->fetch(ioc.get_executor(), [&](fetch_outcome o) { got = std::move(o); });
        ioc.run();
        std::string why;
        if (got.k == fetch_outcome::kind::fresh) {
            auto r = install_fetched(std::move(got));
            if (!r.error) return std::nullopt;
            why = *r.error;
        } else {
            why = got.error.empty() ? "unexpected answer from " + fetcher_->url() : got.error;
        }
        if (!cache_) return why + " (and no --bundle-cache to fall back to)";
        auto bytes = read_bundle_file(*cache_);
        if (auto* e = std::get_if<std::string>(&bytes)) return why + "; cache: " + *e;
        if (auto e = store_.try_replace(std::get<0>(bytes), *cache_)) return why + "; cache " + *cache_ + " rejected: " + *e;
        remember(std::get<0>(bytes));
        stats_.bundle_reloads_failure.fetch_add(1, std::memory_order_relaxed);
        note(reload_trigger::start, why);
        log_(why + "; serving revision " + store_.status().revision + " from the cache " + *cache_);
        return std::nullopt;
    }

    // Thread-safe; `done` (optional) runs on the reloader's strand when the attempt ends.
    void reload(reload_trigger t, done_fn done = {}) {
        net::post(strand_, [this, t, done = std::move(done)]() mutable { run(t, std::move(done)); });
    }

    // URL mode: poll every `interval` until stop().
    void start_polling(std::chrono::milliseconds interval) {
        net::post(strand_, [this, interval] {
            poll_interval_ = interval;
            arm_poll();
        });
    }

    void stop() {
        net::post(strand_, [this] {
            stopped_ = true;
            poll_timer_.cancel();
        });
    }

    reload_record record() const {
        std::lock_guard lk(record_mu_);
        return record_;
    }

private:
    void arm_poll() {
        if (stopped_ || !url_mode()) return;
        poll_timer_.expires_after(poll_interval_);
        poll_timer_.async_wait([this](const boost::system::error_code& ec) {
            if (ec || stopped_) return;
            run(reload_trigger::poll, [this](reload_result) { arm_poll(); });
        });
    }

    // On the strand.
    void run(reload_trigger t, done_fn done) {
        if (!url_mode()) {
            finish(t, reload_file(), std::move(done));
            return;
        }
        // A fetch is already running: its answer is the answer to this trigger too.
        waiters_.push_back(std::move(done));
        if (fetching_) return;
        fetching_ = true;
        fetcher_->fetch(strand_, [this, t](fetch_outcome o) {
            net::post(strand_, [this, t, o = std::move(o)]() mutable {
                reload_result r;
                if (o.k == fetch_outcome::kind::fresh) r = install_fetched(std::move(o), t == reload_trigger::poll);
                else if (o.k == fetch_outcome::kind::failed) r.error = std::move(o.error);
                fetching_ = false;
                auto waiters = std::move(waiters_);
                waiters_.clear();
                for (std::size_t i = 0; i < waiters.size(); ++i)
                    finish(t, i == 0 ? r : reload_result{r.error, false}, std::move(waiters[i]), i > 0);
            });
        });
    }

    reload_result reload_file() {
        reload_result r;
        auto bytes = read_bundle_file(path_);
        if (auto* e = std::get_if<std::string>(&bytes)) {
            r.error = *e;
            return r;
        }
        if (auto e = store_.try_replace(std::get<0>(bytes), path_)) {
            r.error = "bundle " + path_ + " rejected: " + *e;
            return r;
        }
        remember(std::get<0>(bytes));
        r.swapped = true;
        return r;
    }

    // Verify, swap, then (only then) remember the ETag and refresh the cache.
    reload_result install_fetched(fetch_outcome o, bool skip_identical = false) {
        reload_result r;
        if (skip_identical && rt::sha256(o.bytes) == last_digest_) {
            fetcher_->accept(std::move(o.etag));
            return r;
        }
        if (auto e = store_.try_replace(o.bytes, fetcher_->url())) {
            r.error = "bundle from " + fetcher_->url() + " rejected: " + *e;
            return r;
        }
        remember(o.bytes);
        fetcher_->accept(std::move(o.etag));
        r.swapped = true;
        if (cache_)
            if (auto e = write_file_atomically(*cache_, o.bytes)) log_("cannot update the bundle cache: " + *e);
        return r;
    }

    void remember(std::span<const std::uint8_t> bytes) { last_digest_ = rt::sha256(bytes); }

    // Reports one attempt; `echo` is set for coalesced triggers, which do not count twice.
    void finish(reload_trigger t, const reload_result& r, done_fn done, bool echo = false) {
        if (!echo && !r.error && !r.swapped && !record().last_error.empty()) {
            // Unchanged after a failure: the source works again, so the failure is no longer current.
            note(t, std::nullopt);
            log_("bundle source answers again; revision " + current_revision() + " unchanged (" + std::string(name_of(t)) + ")");
        } else if (!echo && (r.error || r.swapped)) {
            note(t, r.error);
            if (r.error) {
                stats_.bundle_reloads_failure.fetch_add(1, std::memory_order_relaxed);
                log_("bundle reload (" + std::string(name_of(t)) + ") failed, keeping revision " +
                     current_revision() + ": " + *r.error);
            } else {
                stats_.bundle_reloads_success.fetch_add(1, std::memory_order_relaxed);
                log_("bundle revision " + current_revision() + " loaded (" + std::string(name_of(t)) + ")");
            }
        }
        if (done) done(r);
    }

    std::string current_revision() const {
        auto s = store_.status().revision;
        return s.empty() ? std::string("(none)") : s;
    }

    void note(reload_trigger t, const std::optional<std::string>& error) {
        std::lock_guard lk(record_mu_);
        record_.last_reload = std::chrono::system_clock::now();
        record_.last_error = error.value_or("");
        record_.last_trigger = std::string(name_of(t));
    }

    net::strand<net::any_io_executor> strand_;
    policy_store& store_;
    metrics& stats_;
    std::string path_;
    std::shared_ptr<bundle_fetcher> fetcher_;
    std::optional<std::string> cache_;
    log_fn log_;
    net::steady_timer poll_timer_;
    std::chrono::milliseconds poll_interval_{0};
    bool stopped_ = false;
    bool fetching_ = false;
    std::vector<done_fn> waiters_;
    rt::sha256_digest last_digest_{};
    mutable std::mutex record_mu_;
    reload_record record_;
};

} // namespace dockpol::sidecar
