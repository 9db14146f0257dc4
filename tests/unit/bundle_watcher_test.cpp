// The bundle file watcher on a real directory with real inotify: atomic
// rename and closed in-place writes fire (once per burst), an open write,
// other files and a failed watch setup do not.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <thread>

#include <boost/asio/io_context.hpp>

#include "bundles/bundle_watcher.hpp"
#include "fixtures/hotswap/bundles.hpp"

// Each test file is its own namespace: the test executables are unity builds.
namespace bundle_watcher_test {

using namespace dockpol::sidecar;
using namespace hotswap_test;
using namespace std::chrono_literals;

namespace {

// A short debounce keeps the test fast; the production value is watch_debounce.
constexpr std::chrono::milliseconds test_debounce{100};

struct fixture {
    std::string dir = temp_dir("watch");
    std::string path = dir + "/bundle.dpb";
    boost::asio::io_context ioc;
    int fired = 0;
    std::shared_ptr<bundle_watcher> w;

    fixture() {
        write_file(path, "v0");
        auto r = bundle_watcher::create(ioc.get_executor(), path, [this] { ++fired; }, test_debounce);
        REQUIRE(r.index() == 0);
        w = std::get<0>(r);
        w->start();
        settle(20ms);
    }
    ~fixture() {
        w->stop();
        ioc.restart();
        ioc.run_for(50ms);
    }

    static void write_file(const std::string& p, const std::string& text) {
        std::FILE* f = std::fopen(p.c_str(), "wb");
        REQUIRE(f);
        std::fwrite(text.data(), 1, text.size(), f);
        std::fclose(f);
    }
    // Runs the event loop for `d` (longer than the debounce when waiting for a callback).
    void settle(std::chrono::milliseconds d = 500ms) {
        ioc.restart();
        ioc.run_for(d);
    }
};

} // namespace

TEST_CASE("atomic rename onto the bundle fires once") {
    fixture f;
    fixture::write_file(f.dir + "/bundle.dpb.new", "v1");
    REQUIRE(std::rename((f.dir + "/bundle.dpb.new").c_str(), f.path.c_str()) == 0);
    f.settle();
    CHECK(f.fired == 1);
}

TEST_CASE("an in-place write fires only once the file is closed") {
    fixture f;
    const int fd = ::open(f.path.c_str(), O_WRONLY | O_TRUNC);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, "v1", 2) == 2);
    f.settle();
    CHECK(f.fired == 0);
    ::close(fd);
    f.settle();
    CHECK(f.fired == 1);
}

TEST_CASE("a burst of changes is debounced into one callback") {
    fixture f;
    for (int i = 0; i < 10; ++i) {
        fixture::write_file(f.dir + "/tmp", "v" + std::to_string(i));
        REQUIRE(std::rename((f.dir + "/tmp").c_str(), f.path.c_str()) == 0);
        f.settle(5ms);
    }
    f.settle();
    CHECK(f.fired == 1);
    // A later, separate change fires again.
    fixture::write_file(f.path, "later");
    f.settle();
    CHECK(f.fired == 2);
}

TEST_CASE("other files in the directory are ignored") {
    fixture f;
    fixture::write_file(f.dir + "/other.dpb", "x");
    REQUIRE(std::rename((f.dir + "/other.dpb").c_str(), (f.dir + "/other2.dpb").c_str()) == 0);
    f.settle();
    CHECK(f.fired == 0);
}

TEST_CASE("a directory that does not exist is a clear error") {
    boost::asio::io_context ioc;
    auto r = bundle_watcher::create(ioc.get_executor(), "/nonexistent-dir-for-dockpol/b.dpb", [] {});
    REQUIRE(r.index() == 1);
    CHECK(std::get<1>(r).find("cannot watch /nonexistent-dir-for-dockpol") == 0);
}

TEST_CASE("a symlinked bundle (ConfigMap style) reloads when the link target directory is swapped") {
    const auto dir = temp_dir("watch-link");
    REQUIRE(::mkdir((dir + "/v1").c_str(), 0755) == 0);
    fixture::write_file(dir + "/v1/bundle.dpb", "v1");
    REQUIRE(::symlink("v1", (dir + "/..data").c_str()) == 0);
    REQUIRE(::symlink("..data/bundle.dpb", (dir + "/bundle.dpb").c_str()) == 0);
    boost::asio::io_context ioc;
    int fired = 0;
    auto w = std::get<0>(bundle_watcher::create(ioc.get_executor(), dir + "/bundle.dpb", [&] { ++fired; }, test_debounce));
    w->start();
    ioc.run_for(20ms);
    REQUIRE(::mkdir((dir + "/v2").c_str(), 0755) == 0);
    fixture::write_file(dir + "/v2/bundle.dpb", "v2");
    REQUIRE(::symlink("v2", (dir + "/..data_tmp").c_str()) == 0);
    REQUIRE(std::rename((dir + "/..data_tmp").c_str(), (dir + "/..data").c_str()) == 0);
    ioc.restart();
    ioc.run_for(500ms);
    CHECK(fired == 1);
    w->stop();
    ioc.restart();
    ioc.run_for(20ms);
}

} // namespace bundle_watcher_test
