// The signed hand-off between proxy and plugin (sidecar/handoff/handoff.hpp):
// a token verifies only for the method and target it was made for, with the
// same key, within the allowed clock skew, and once; the key file must be
// long enough and private.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "handoff/handoff.hpp"

// Each test file is its own namespace: the test executables are unity builds.
namespace sidecar_handoff_test {

using namespace dockpol::sidecar;
namespace fs = std::filesystem;
using clock = std::chrono::system_clock;

namespace {

const handoff::key test_key{"0123456789abcdef0123456789abcdef"};

fs::path key_file(const std::string& name, const std::string& text, fs::perms perms) {
    auto p = fs::temp_directory_path() / ("dockpol-handoff-" + std::to_string(::getpid()) + "-" + name);
    {
        std::ofstream out(p, std::ios::binary | std::ios::trunc);
        out << text;
    }
    fs::permissions(p, perms);
    return p;
}

} // namespace

TEST_CASE("hand-off: a token verifies for its method and target only") {
    handoff::signer s(test_key);
    handoff::verifier v(test_key);
    CHECK(v.verify(s.token("POST", "/v1.41/containers/create"), "POST", "/v1.41/containers/create") == "");
    CHECK(v.verify(s.token("POST", "/v1.41/containers/create"), "PUT", "/v1.41/containers/create") ==
          "hand-off signature does not verify");
    CHECK(v.verify(s.token("GET", "/containers/a/json"), "GET", "/containers/b/json") ==
          "hand-off signature does not verify");
    handoff::verifier other(handoff::key{std::string(32, 'z')});
    CHECK(other.verify(s.token("GET", "/_ping"), "GET", "/_ping") == "hand-off signature does not verify");
}

TEST_CASE("hand-off: the token's shape is INSTANCE-COUNTER-TIME.MAC and every part is checked") {
    handoff::signer s(test_key);
    const auto t = s.token("GET", "/_ping");
    const auto dot = t.find('.');
    REQUIRE(dot != std::string::npos);
    CHECK(t.substr(0, 16) == s.instance());
    CHECK(t.size() - dot - 1 == 64);
    handoff::verifier v(test_key);
    CHECK(v.verify("", "GET", "/_ping") == "hand-off header is not ID.MAC");
    CHECK(v.verify(std::string(200, 'a'), "GET", "/_ping") == "hand-off header too long");
    CHECK(v.verify("a-b.c", "GET", "/_ping") == "hand-off id is not INSTANCE-COUNTER-TIME");
    CHECK(v.verify("zzzzzzzzzzzzzzzz-0000000000000001-1.00", "GET", "/_ping") == "hand-off id is not INSTANCE-COUNTER-TIME");
    // One flipped MAC digit.
    auto flipped = t;
    flipped.back() = flipped.back() == '0' ? '1' : '0';
    CHECK(v.verify(flipped, "GET", "/_ping") == "hand-off signature does not verify");
    CHECK(v.verify(t, "GET", "/_ping") == "");
}

TEST_CASE("hand-off: a token is good once, out of order within the window, and only near its time") {
    handoff::signer s(test_key);
    handoff::verifier v(test_key);
    const auto now = clock::now();
    const auto t1 = s.token("GET", "/x", now), t2 = s.token("GET", "/x", now), t3 = s.token("GET", "/x", now);
    CHECK(v.verify(t3, "GET", "/x", now) == "");
    CHECK(v.verify(t1, "GET", "/x", now) == "");   // arrives late: still once
    CHECK(v.verify(t1, "GET", "/x", now) == "hand-off token already used");
    CHECK(v.verify(t3, "GET", "/x", now) == "hand-off token already used");
    CHECK(v.verify(t2, "GET", "/x", now) == "");
    const auto old = s.token("GET", "/x", now - std::chrono::seconds(61));
    CHECK(v.verify(old, "GET", "/x", now) == "hand-off token expired");
    const auto future = s.token("GET", "/x", now + std::chrono::seconds(61));
    CHECK(v.verify(future, "GET", "/x", now) == "hand-off token expired");
    const auto near = s.token("GET", "/x", now - std::chrono::seconds(59));
    CHECK(v.verify(near, "GET", "/x", now) == "");
}

TEST_CASE("hand-off: a token older than the replay window is refused even if never seen") {
    handoff::signer s(test_key);
    handoff::verifier v(test_key);
    const auto first = s.token("GET", "/x");
    for (std::uint64_t i = 0; i < handoff::replay_window; ++i) (void)s.token("GET", "/x");
    CHECK(v.verify(s.token("GET", "/x"), "GET", "/x") == "");
    CHECK(v.verify(first, "GET", "/x") == "hand-off token too old");
}

TEST_CASE("hand-off: each proxy instance has its own window") {
    handoff::verifier v(test_key);
    handoff::signer a(test_key), b(test_key);
    CHECK(a.instance() != b.instance());
    const auto ta = a.token("GET", "/x"), tb = b.token("GET", "/x");   // both counter 1
    CHECK(v.verify(ta, "GET", "/x") == "");
    CHECK(v.verify(tb, "GET", "/x") == "");
    CHECK(v.verify(tb, "GET", "/x") == "hand-off token already used");
}

TEST_CASE("hand-off: the key file must be private and long enough") {
    auto good = key_file("good", std::string(32, 'k') + "\n", fs::perms::owner_read | fs::perms::owner_write);
    auto k = handoff::load_key(good.string());
    REQUIRE(k.index() == 0);
    CHECK(std::get<0>(k).bytes == std::string(32, 'k'));   // the newline is not part of it
    auto shared = key_file("shared", std::string(32, 'k'), fs::perms::owner_read | fs::perms::others_read);
    auto e1 = handoff::load_key(shared.string());
    REQUIRE(e1.index() == 1);
    CHECK(std::get<1>(e1).find("readable by others") != std::string::npos);
    auto group = key_file("group", std::string(32, 'k'), fs::perms::owner_read | fs::perms::group_read);
    CHECK(handoff::load_key(group.string()).index() == 0);
    auto shortk = key_file("short", std::string(31, 'k') + "\n\n", fs::perms::owner_read);
    auto e2 = handoff::load_key(shortk.string());
    REQUIRE(e2.index() == 1);
    CHECK(std::get<1>(e2).find("31 bytes, at least 32") != std::string::npos);
    auto e3 = handoff::load_key("/nonexistent/handoff.key");
    REQUIRE(e3.index() == 1);
    CHECK(std::get<1>(e3) == "--handoff-key /nonexistent/handoff.key: cannot read it");
    for (const auto& p : {good, shared, group, shortk}) fs::remove(p);
}

} // namespace sidecar_handoff_test
