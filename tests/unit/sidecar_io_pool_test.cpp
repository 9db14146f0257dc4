// io_pool: handlers run on their own context, stop() ends run(), and busy polling
// gives way to a blocking wait once the spin window has passed.
#include "proxy/io_pool.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <catch2/catch.hpp>

#include <ctime>
#include <functional>
#include <future>
#include <thread>

// Each test file is its own namespace: the test executables are unity builds.
namespace sidecar_io_pool_test {

using dockpol::sidecar::io_pool;
using namespace std::chrono_literals;

namespace {

double process_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Runs the pool on a thread; the destructor stops it and joins.
struct running_pool {
    io_pool pool;
    std::thread runner;
    running_pool(unsigned n, std::chrono::microseconds spin) : pool(n, spin), runner([this] { pool.run(); }) {}
    ~running_pool() {
        pool.stop();
        runner.join();
    }
};

} // namespace

TEST_CASE("every context runs the handlers posted to it, on one thread each") {
    for (auto spin : {0us, 100us}) {
        running_pool rp(2, spin);
        std::promise<std::thread::id> a, b;
        boost::asio::post(rp.pool.at(0), [&] { a.set_value(std::this_thread::get_id()); });
        boost::asio::post(rp.pool.at(1), [&] { b.set_value(std::this_thread::get_id()); });
        auto fa = a.get_future(), fb = b.get_future();
        REQUIRE(fa.wait_for(5s) == std::future_status::ready);
        REQUIRE(fb.wait_for(5s) == std::future_status::ready);
        CHECK(fa.get() != fb.get());
    }
}

TEST_CASE("stop() ends run() while contexts are busy polling") {
    io_pool pool(2, 5000us);
    std::promise<void> ran;
    boost::asio::post(pool.at(1), [&] { ran.set_value(); });
    auto done = std::async(std::launch::async, [&] { pool.run(); });
    REQUIRE(ran.get_future().wait_for(5s) == std::future_status::ready);
    pool.stop();   // inside the 5 ms spin window of context 1
    CHECK(done.wait_for(5s) == std::future_status::ready);
}

TEST_CASE("after the spin window a context sleeps, and a later timer still wakes it") {
    running_pool rp(1, 200us);
    boost::asio::steady_timer timer(rp.pool.at(0), 50ms);
    std::promise<void> fired;
    timer.async_wait([&](const boost::system::error_code&) { fired.set_value(); });
    REQUIRE(fired.get_future().wait_for(5s) == std::future_status::ready);
    CHECK(rp.pool.blocking_waits() >= 1);
}

TEST_CASE("an idle pool does not burn CPU") {
    running_pool rp(2, 1000us);
    std::promise<void> ran;
    boost::asio::post(rp.pool.at(0), [&] { ran.set_value(); });
    REQUIRE(ran.get_future().wait_for(5s) == std::future_status::ready);
    std::this_thread::sleep_for(20ms);   // let the spin window pass
    double before = process_cpu_seconds();
    std::this_thread::sleep_for(300ms);
    double used = process_cpu_seconds() - before;
    // A thread spinning through this interval would use about 0.3 s; sleeping threads use next to nothing.
    CHECK(used < 0.1);
}

TEST_CASE("events further apart than the window fade spinning out") {
    // Window 2 ms, events every 20 ms: a fixed window would spin 2 ms per event (about 60 ms over 30
    // events); the adaptive one halves after each miss and spins about 4 ms in all.
    running_pool rp(1, 2000us);
    boost::asio::steady_timer timer(rp.pool.at(0));
    std::promise<void> done;
    int left = 30;
    std::function<void()> arm = [&] {
        timer.expires_after(20ms);
        timer.async_wait([&](const boost::system::error_code&) {
            if (--left == 0) done.set_value();
            else arm();
        });
    };
    double before = process_cpu_seconds();
    boost::asio::post(rp.pool.at(0), arm);
    REQUIRE(done.get_future().wait_for(10s) == std::future_status::ready);
    double used = process_cpu_seconds() - before;
    CHECK(used < 0.03);
    CHECK(rp.pool.blocking_waits() >= 25);
}

} // namespace sidecar_io_pool_test
