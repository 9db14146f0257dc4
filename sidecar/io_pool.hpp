// One io_context per core, each run by exactly one thread. A connection and
// its upstream socket live on one context for their whole life, so handlers
// never hop threads (no futex wake-ups between the reactor and the handler
// threads) and the per-connection strand is free.
#pragma once
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

namespace dockpol::sidecar {

namespace net = boost::asio;

class io_pool {
public:
    explicit io_pool(unsigned n) {
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
        for (std::size_t i = 1; i < contexts_.size(); ++i) threads.emplace_back([this, i] { contexts_[i]->run(); });
        contexts_[0]->run();
        for (auto& t : threads) t.join();
    }

    void stop() {
        guards_.clear();
        for (auto& c : contexts_) c->stop();
    }

private:
    std::vector<std::unique_ptr<net::io_context>> contexts_;
    std::vector<net::executor_work_guard<net::io_context::executor_type>> guards_;
    std::atomic<std::size_t> next_{0};
};

} // namespace dockpol::sidecar
