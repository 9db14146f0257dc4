// One io_context per core, each run by exactly one thread. A connection and
// its upstream socket live on one context for their whole life, so handlers
// never hop threads (no futex wake-ups between the reactor and the handler
// threads) and the per-connection strand is free.
//
// Busy polling: after running handlers, a context keeps polling without
// sleeping for up to `busy_poll` before it blocks in epoll_wait. On a
// keep-alive connection the next event (dockerd's answer, the client's next
// request) usually comes within that window, and not sleeping saves the
// wake-up — a context switch, on VMs an inter-processor interrupt — which is
// most of what a small proxied request costs. Only one context spins at a
// time and it yields while spinning, so under load spinning never takes more
// than one core from dockerd and runnable threads on that core go first.
// The window adapts: while events come further apart than the window (a slow
// backend such as a big `docker ps`), it halves after each miss and spinning
// fades out.
#pragma once
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

namespace dockpol::sidecar {

namespace net = boost::asio;

class io_pool {
public:
    explicit io_pool(unsigned n, std::chrono::microseconds busy_poll = std::chrono::microseconds(0))
        : busy_poll_(busy_poll) {
        for (unsigned i = 0; i < std::max(1u, n); ++i) {
            // Concurrency hint 1: each context is run by one thread, so Asio can skip most locking.
            contexts_.push_back(std::make_unique<net::io_context>(1));
            guards_.emplace_back(net::make_work_guard(*contexts_.back()));
        }
    }

    std::size_t size() const { return contexts_.size(); }
    net::io_context& at(std::size_t i) { return *contexts_[i]; }

    // Round-robin choice for a new connection.
    std::size_t next_index() { return next_.fetch_add(1, std::memory_order_relaxed) % contexts_.size(); }

    // Runs context 0 on the calling thread and the others on their own threads; returns when all stopped.
    void run() {
        std::vector<std::thread> threads;
        for (std::size_t i = 1; i < contexts_.size(); ++i) threads.emplace_back([this, i] { run_context(*contexts_[i]); });
        run_context(*contexts_[0]);
        for (auto& t : threads) t.join();
    }

    void stop() {
        guards_.clear();
        for (auto& c : contexts_) c->stop();
    }

    // Times a context went to sleep in epoll_wait after polling (for the tests).
    std::uint64_t blocking_waits() const { return blocking_waits_.load(std::memory_order_relaxed); }

private:
    void run_context(net::io_context& ctx) {
        if (busy_poll_.count() <= 0) {
            ctx.run();
            return;
        }
        using clock = std::chrono::steady_clock;
        auto last_work = clock::now();
        auto budget = busy_poll_;   // this context's current spin window, adapted below
        bool spinner = false;       // this thread holds the one spinning slot
        while (!ctx.stopped()) {
            if (ctx.poll() > 0) {
                last_work = clock::now();
                continue;
            }
            if (clock::now() - last_work < budget && (spinner || !spinning_.exchange(true, std::memory_order_acquire))) {
                spinner = true;
                std::this_thread::yield();
                continue;
            }
            if (spinner) {
                spinning_.store(false, std::memory_order_release);
                spinner = false;
            }
            blocking_waits_.fetch_add(1, std::memory_order_relaxed);
            if (ctx.run_one() == 0) break;
            auto now = clock::now();
            // Was this event close enough that spinning pays? (The gap includes the wake-up itself, which can
            // take longer than the window on a VM, hence the slack.) Then spin fully again; if not, halve the
            // window, so a slow backend (events milliseconds apart) is waited for asleep, not spun for.
            budget = now - last_work < 4 * busy_poll_ ? busy_poll_ : budget / 2;
            last_work = now;
        }
        if (spinner) spinning_.store(false, std::memory_order_release);
    }

    std::chrono::microseconds busy_poll_;
    std::vector<std::unique_ptr<net::io_context>> contexts_;
    std::vector<net::executor_work_guard<net::io_context::executor_type>> guards_;
    std::atomic<std::size_t> next_{0};
    std::atomic<bool> spinning_{false};
    std::atomic<std::uint64_t> blocking_waits_{0};
};

} // namespace dockpol::sidecar
