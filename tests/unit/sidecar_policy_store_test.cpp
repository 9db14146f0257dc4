// The policy store: a reload verifies fully before the swap and keeps the last good bundle on failure;
// a snapshot taken before a swap keeps deciding with its own program.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "dockpol/dsl/compile.hpp"
#include "dockpol/rt/bind.hpp"
#include "dockpol/rt/decide.hpp"
#include "dockpol/rt/bundle.hpp"
#include "dockpol/rt/request.hpp"
#include "bundles/policy_store.hpp"

// Each test file is its own namespace: the test executables are unity builds.
namespace sidecar_policy_store_test {

using namespace dockpol;
using namespace dockpol::sidecar;

namespace {

std::vector<std::uint8_t> bundle_of(const std::string& revision) {
    std::ifstream in(std::string(DOCKPOL_SOURCE_ROOT) + "/tests/unit/fixtures/sidecar/store_policy.dpol");
    std::stringstream ss;
    ss << in.rdbuf();
    auto r = dsl::compile({dsl::source_file{"store_policy.dpol", ss.str()}}, {}, revision);
    REQUIRE(r.image);
    return rt::write_bundle(*r.image);
}

rt::request delete_by(std::string user, std::vector<std::string> groups) {
    rt::request q;
    q.user = std::move(user);
    q.groups = std::move(groups);
    q.method = "DELETE";
    q.path = "/containers/web";
    q.action = "container_delete";
    q.resource_id = "web";
    return q;
}

} // namespace

TEST_CASE("an empty store has no snapshot until the first good bundle") {
    policy_store store;
    CHECK_FALSE(store.snapshot());
    auto bytes = bundle_of("rev-1");
    REQUIRE_FALSE(store.try_replace(bytes, "a.dpb"));
    REQUIRE(store.snapshot());
    auto st = store.status();
    CHECK(st.revision == "rev-1");
    CHECK(st.source == "a.dpb");
    CHECK(st.last_error.empty());
}

TEST_CASE("a bad bundle is rejected and the last good one stays") {
    policy_store store;
    REQUIRE_FALSE(store.try_replace(bundle_of("good"), "good.dpb"));
    auto before = store.snapshot();

    auto corrupt = bundle_of("evil");
    corrupt[corrupt.size() / 2] ^= 0xff;
    auto err = store.try_replace(corrupt, "evil.dpb");
    REQUIRE(err);
    CHECK(err->find("digest") != std::string::npos);
    CHECK(store.snapshot() == before);
    auto st = store.status();
    CHECK(st.revision == "good");
    CHECK(st.source == "good.dpb");
    CHECK(st.last_error == *err);

    std::vector<std::uint8_t> garbage{'n', 'o', 'p', 'e'};
    REQUIRE(store.try_replace(garbage, "garbage.dpb"));
    CHECK(store.snapshot() == before);
}

TEST_CASE("a snapshot keeps deciding with its program after a swap") {
    policy_store store;
    REQUIRE_FALSE(store.try_replace(bundle_of("one"), "one.dpb"));
    auto old = store.snapshot();
    REQUIRE_FALSE(store.try_replace(bundle_of("two"), "two.dpb"));
    auto now = store.snapshot();
    CHECK(old != now);
    CHECK(rt::image_of(*old).man.revision == "one");
    CHECK(rt::image_of(*now).man.revision == "two");

    auto d_bob = rt::decide(*old, delete_by("bob", {"admins"}));
    CHECK(d_bob.eff == rt::effect::deny);
    CHECK(d_bob.rule == "bob_no_delete");
    auto d_alice = rt::decide(*now, delete_by("alice", {"admins"}));
    CHECK(d_alice.eff == rt::effect::allow);
    CHECK(d_alice.rule == "admins");
    auto d_eve = rt::decide(*now, delete_by("eve", {}));
    CHECK(d_eve.eff == rt::effect::deny);
    CHECK(d_eve.rule == "default");
}

TEST_CASE("loading from a file names the file on error") {
    policy_store store;
    auto err = store.load_file("/nonexistent/bundle.dpb");
    REQUIRE(err);
    CHECK(err->find("/nonexistent/bundle.dpb") != std::string::npos);
    CHECK_FALSE(store.snapshot());
}

} // namespace sidecar_policy_store_test
