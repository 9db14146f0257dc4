// The reload path: file and URL sources, signatures, bad bundles that must
// never replace the good one, metrics and the status record, the bundle cache
// (written only after verification) and the start-up fallback to it.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>


#include "bundles/bundle_reloader.hpp"
#include "bundles/reload_status.hpp"
#include "dockpol/rt/bind.hpp"
#include "dockpol/rt/decide.hpp"
#include "fixtures/hotswap/bundles.hpp"
#include "fixtures/hotswap/test_http_server.hpp"

// Each test file is its own namespace: the test executables are unity builds.
namespace bundle_reloader_test {

using namespace dockpol;
using namespace dockpol::sidecar;
using namespace hotswap_test;

namespace {

// The effect `docker ps` gets under the serving bundle.
rt::effect ps_effect(const policy_store& store) {
    rt::request req;
    req.user = "u";
    req.method = "GET";
    req.path = "/containers/json";
    req.action = "container_list";
    auto p = store.snapshot();
    REQUIRE(p);
    return rt::decide(*p, req).eff;
}

// Runs the reloader's executor until one reload finishes.
reload_result reload_now(net::io_context& ioc, bundle_reloader& r, reload_trigger t) {
    std::optional<reload_result> out;
    r.reload(t, [&](reload_result res) { out = std::move(res); });
    ioc.restart();
    while (!out && ioc.run_one()) {
    }
    REQUIRE(out);
    return *out;
}

std::vector<std::uint8_t> mutate(std::vector<std::uint8_t> b, const std::string& how) {
    if (how == "flip") b[b.size() / 2] ^= 0x5a;
    else if (how == "truncate") b.resize(b.size() / 2);
    else if (how == "empty") b.clear();
    else if (how == "text") b.assign({'d', 'e', 'f', 'a', 'u', 'l', 't', '\n'});
    else if (how == "trailing") b.push_back(0);
    return b;
}

void quiet(const std::string&) {}

} // namespace

TEST_CASE("file mode: a good bundle swaps, bad ones never replace it") {
    const auto dir = temp_dir("reload-file");
    const auto path = dir + "/bundle.dpb";
    write_bytes(path, bundle_of(rt::effect::allow, "rev-A"));
    net::io_context ioc;
    policy_store store;
    metrics m;
    std::vector<std::string> logs;
    bundle_reloader r(ioc.get_executor(), store, m, path, [&](const std::string& l) { logs.push_back(l); });
    REQUIRE_FALSE(r.initial_load());
    CHECK(store.status().revision == "rev-A");
    CHECK(ps_effect(store) == rt::effect::allow);

    write_bytes(path, bundle_of(rt::effect::deny, "rev-B"));
    auto ok = reload_now(ioc, r, reload_trigger::sighup);
    CHECK_FALSE(ok.error);
    CHECK(ok.swapped);
    CHECK(store.status().revision == "rev-B");
    CHECK(ps_effect(store) == rt::effect::deny);
    CHECK(m.bundle_reloads_success == 1);
    CHECK(r.record().last_error.empty());
    CHECK(r.record().last_trigger == "sighup");

    const auto good = bundle_of(rt::effect::deny, "rev-B");
    const auto serving = store.snapshot();
    std::uint64_t failures = 0;
    for (std::string how : {"flip", "truncate", "empty", "text", "trailing"}) {
        write_bytes(path, mutate(good, how));
        auto bad = reload_now(ioc, r, reload_trigger::admin);
        INFO(how);
        REQUIRE(bad.error);
        CHECK_FALSE(bad.swapped);
        CHECK(store.snapshot() == serving);
        CHECK(store.status().revision == "rev-B");
        CHECK(ps_effect(store) == rt::effect::deny);
        CHECK(m.bundle_reloads_failure == ++failures);
        CHECK(r.record().last_error == *bad.error);
        CHECK(r.record().last_trigger == "admin");
        CHECK_FALSE(logs.empty());
        CHECK(logs.back().find("keeping revision rev-B") != std::string::npos);
    }

    ::unlink(path.c_str());
    auto missing = reload_now(ioc, r, reload_trigger::file_change);
    REQUIRE(missing.error);
    CHECK(missing.error->find("cannot open bundle") != std::string::npos);
    CHECK(store.status().revision == "rev-B");
}

TEST_CASE("signed bundles: unsigned, wrongly signed and tampered bundles are refused, rotation works") {
    auto k1 = std::get<rt::signing_key>(rt::generate_signing_key());
    auto k2 = std::get<rt::signing_key>(rt::generate_signing_key());
    auto k3 = std::get<rt::signing_key>(rt::generate_signing_key());
    const auto dir = temp_dir("reload-signed");
    const auto path = dir + "/bundle.dpb";
    net::io_context ioc;
    // Trusts k1 and k2 (key rotation), not k3.
    policy_store store({rt::public_of(k1), rt::public_of(k2)});
    metrics m;
    bundle_reloader r(ioc.get_executor(), store, m, path, quiet);

    SECTION("unsigned at start") {
        write_bytes(path, bundle_of(rt::effect::allow, "rev-A"));
        auto e = r.initial_load();
        REQUIRE(e);
        CHECK(e->find("not signed") != std::string::npos);
        CHECK_FALSE(store.snapshot());
    }
    SECTION("wrong key at start") {
        write_bytes(path, bundle_of(rt::effect::allow, "rev-A", &k3));
        auto e = r.initial_load();
        REQUIRE(e);
        CHECK(e->find("not a trusted key") != std::string::npos);
    }
    SECTION("on reload") {
        write_bytes(path, bundle_of(rt::effect::allow, "rev-A", &k1));
        REQUIRE_FALSE(r.initial_load());
        struct bad_case { const char* name; std::vector<std::uint8_t> bytes; const char* reason; };
        auto tampered = bundle_of(rt::effect::deny, "rev-T", &k2);
        // Flip a payload byte and recompute the trailing digest: only the signature can catch it.
        tampered[40] ^= 1;
        auto d = rt::sha256(std::span<const std::uint8_t>(tampered).first(tampered.size() - 32));
        std::copy(d.begin(), d.end(), tampered.end() - 32);
        const std::vector<bad_case> cases = {
            {"unsigned", bundle_of(rt::effect::deny, "rev-U"), "not signed"},
            {"untrusted key", bundle_of(rt::effect::deny, "rev-W", &k3), "not a trusted key"},
            {"tampered", tampered, "bad signature"},
        };
        for (const auto& c : cases) {
            INFO(c.name);
            write_bytes(path, c.bytes);
            auto res = reload_now(ioc, r, reload_trigger::sighup);
            REQUIRE(res.error);
            CHECK(res.error->find(c.reason) != std::string::npos);
            CHECK(store.status().revision == "rev-A");
            CHECK(ps_effect(store) == rt::effect::allow);
        }
        CHECK(m.bundle_reloads_failure == 3);
        // The second trusted key is accepted: rotation without a restart.
        write_bytes(path, bundle_of(rt::effect::deny, "rev-K2", &k2));
        CHECK_FALSE(reload_now(ioc, r, reload_trigger::sighup).error);
        CHECK(store.status().revision == "rev-K2");
    }
}

TEST_CASE("URL mode: ETag, 304, cache written only after verification") {
    test_http_server srv;
    const auto dir = temp_dir("reload-url");
    const auto cache = dir + "/cache.dpb";
    srv.serve(bundle_of(rt::effect::allow, "rev-A"), "\"a\"");
    auto f = std::get<0>(bundle_fetcher::create(srv.url(), std::nullopt));
    net::io_context ioc;
    policy_store store;
    metrics m;
    bundle_reloader r(ioc.get_executor(), store, m, f, cache, quiet);
    REQUIRE_FALSE(r.initial_load());
    CHECK(store.status().revision == "rev-A");
    CHECK(store.status().source == srv.url());
    CHECK(f->accepted_etag() == "\"a\"");
    struct stat st{};
    REQUIRE(::stat(cache.c_str(), &st) == 0);
    const auto cached_a = read_text(cache);

    // Unchanged: a conditional GET answered 304, nothing swapped or counted.
    auto same = reload_now(ioc, r, reload_trigger::poll);
    CHECK_FALSE(same.error);
    CHECK_FALSE(same.swapped);
    CHECK(srv.last_if_none_match() == "\"a\"");
    CHECK(srv.not_modified() == 1);
    CHECK(m.bundle_reloads_success == 0);

    // A corrupt bundle: refused, cache untouched, ETag not remembered.
    auto bad = bundle_of(rt::effect::deny, "rev-B");
    bad[bad.size() / 2] ^= 1;
    srv.serve(bad, "\"bad\"");
    auto refused = reload_now(ioc, r, reload_trigger::poll);
    REQUIRE(refused.error);
    CHECK(refused.error->find("digest mismatch") != std::string::npos);
    CHECK(store.status().revision == "rev-A");
    CHECK(read_text(cache) == cached_a);
    CHECK(f->accepted_etag() == "\"a\"");
    CHECK(m.bundle_reloads_failure == 1);

    // Server errors and an unreachable server are failures too.
    srv.fail_with(500);
    auto e500 = reload_now(ioc, r, reload_trigger::admin);
    REQUIRE(e500.error);
    CHECK(e500.error->find("HTTP 500") != std::string::npos);
    CHECK(r.record().last_error == *e500.error);
    CHECK(m.bundle_reloads_failure == 2);

    // A good new bundle: swapped, cached, ETag remembered.
    srv.serve(bundle_of(rt::effect::deny, "rev-B"), "\"b\"");
    auto ok = reload_now(ioc, r, reload_trigger::sighup);
    CHECK_FALSE(ok.error);
    CHECK(ok.swapped);
    CHECK(store.status().revision == "rev-B");
    CHECK(ps_effect(store) == rt::effect::deny);
    CHECK(f->accepted_etag() == "\"b\"");
    const auto b_bytes = bundle_of(rt::effect::deny, "rev-B");
    CHECK(read_text(cache) == std::string(b_bytes.begin(), b_bytes.end()));
    CHECK(r.record().last_error.empty());
    // No temporary file is left beside the cache.
    CHECK(::access((cache + ".tmp." + std::to_string(::getpid())).c_str(), F_OK) != 0);
}

TEST_CASE("URL mode start-up: server down → the cache serves; no cache → refuse") {
    const auto dir = temp_dir("reload-cache");
    const auto cache = dir + "/cache.dpb";
    std::string url;
    {
        test_http_server gone;
        url = gone.url();
    }   // nothing listens on that port now
    SECTION("cache present") {
        write_bytes(cache, bundle_of(rt::effect::deny, "rev-cached"));
        auto f = std::get<0>(bundle_fetcher::create(url, std::nullopt));
        net::io_context ioc;
        policy_store store;
        metrics m;
        bundle_reloader r(ioc.get_executor(), store, m, f, cache, quiet);
        REQUIRE_FALSE(r.initial_load());
        CHECK(store.status().revision == "rev-cached");
        CHECK(store.status().source == cache);
        CHECK(r.record().last_error.find("cannot fetch") != std::string::npos);
        CHECK(m.bundle_reloads_failure == 1);
    }
    SECTION("corrupt cache") {
        auto b = bundle_of(rt::effect::deny, "rev-cached");
        b.resize(10);
        write_bytes(cache, b);
        auto f = std::get<0>(bundle_fetcher::create(url, std::nullopt));
        net::io_context ioc;
        policy_store store;
        metrics m;
        bundle_reloader r(ioc.get_executor(), store, m, f, cache, quiet);
        auto e = r.initial_load();
        REQUIRE(e);
        CHECK(e->find("cache") != std::string::npos);
        CHECK_FALSE(store.snapshot());
    }
    SECTION("no cache flag") {
        auto f = std::get<0>(bundle_fetcher::create(url, std::nullopt));
        net::io_context ioc;
        policy_store store;
        metrics m;
        bundle_reloader r(ioc.get_executor(), store, m, f, std::nullopt, quiet);
        auto e = r.initial_load();
        REQUIRE(e);
        CHECK(e->find("no --bundle-cache") != std::string::npos);
    }
}

TEST_CASE("URL mode: a fetch slower than the timeout fails, the old bundle stays") {
    test_http_server srv;
    srv.serve(bundle_of(rt::effect::allow, "rev-A"), "");
    auto f = std::get<0>(bundle_fetcher::create(srv.url(), std::nullopt));
    net::io_context ioc;
    policy_store store;
    metrics m;
    bundle_reloader r(ioc.get_executor(), store, m, f, std::nullopt, quiet);
    REQUIRE_FALSE(r.initial_load());
    srv.stall(std::chrono::milliseconds(1500));
    std::optional<fetch_outcome> got;
    f->fetch(ioc.get_executor(), [&](fetch_outcome o) { got = std::move(o); }, std::chrono::milliseconds(300));
    ioc.restart();
    const auto t0 = std::chrono::steady_clock::now();
    ioc.run();
    REQUIRE(got);
    CHECK(got->k == fetch_outcome::kind::failed);
    CHECK(got->error.find("within 300 ms") != std::string::npos);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(1200));
    srv.stall(std::chrono::milliseconds(0));
}

TEST_CASE("identical bytes on a poll without ETag are not a swap") {
    test_http_server srv;
    srv.serve(bundle_of(rt::effect::allow, "rev-A"), "");
    auto f = std::get<0>(bundle_fetcher::create(srv.url(), std::nullopt));
    net::io_context ioc;
    policy_store store;
    metrics m;
    bundle_reloader r(ioc.get_executor(), store, m, f, std::nullopt, quiet);
    REQUIRE_FALSE(r.initial_load());
    const auto serving = store.snapshot();
    auto res = reload_now(ioc, r, reload_trigger::poll);
    CHECK_FALSE(res.error);
    CHECK_FALSE(res.swapped);
    CHECK(store.snapshot() == serving);
    CHECK(m.bundle_reloads_success == 0);
}

TEST_CASE("status JSON: null before anything, revision and error after") {
    policy_status none;
    reload_record rec;
    CHECK(status_json(none, rec) ==
          "{\"revision\":null,\"loaded_at\":null,\"source\":null,\"last_reload\":null,\"last_error\":null}\n");
    policy_status s;
    s.revision = "r\"1";
    s.source = "/b.dpb";
    s.loaded_at = std::chrono::system_clock::time_point(std::chrono::milliseconds(1764091214123));
    rec.last_reload = s.loaded_at;
    rec.last_error = "digest mismatch";
    CHECK(status_json(s, rec) ==
          "{\"revision\":\"r\\\"1\",\"loaded_at\":\"2025-11-25T17:20:14.123Z\",\"source\":\"/b.dpb\","
          "\"last_reload\":\"2025-11-25T17:20:14.123Z\",\"last_error\":\"digest mismatch\"}\n");
}

TEST_CASE("write_file_atomically replaces the whole file and reports failures") {
    const auto dir = temp_dir("atomic");
    const auto path = dir + "/f";
    const std::vector<std::uint8_t> a(1000, 'a'), b(10, 'b');
    REQUIRE_FALSE(write_file_atomically(path, a));
    REQUIRE_FALSE(write_file_atomically(path, b));
    CHECK(read_text(path) == std::string(10, 'b'));
    auto e = write_file_atomically(dir + "/missing/f", a);
    REQUIRE(e);
    CHECK(e->find("cannot create") != std::string::npos);
}

TEST_CASE("URL mode: triggers during a fetch share it (one GET, one count, every caller answered)") {
    test_http_server srv;
    srv.serve(bundle_of(rt::effect::allow, "rev-A"), "\"a\"");
    auto f = std::get<0>(bundle_fetcher::create(srv.url(), std::nullopt));
    net::io_context ioc;
    policy_store store;
    metrics m;
    bundle_reloader r(ioc.get_executor(), store, m, f, std::nullopt, quiet);
    REQUIRE_FALSE(r.initial_load());
    const int before = srv.requests();
    srv.serve(bundle_of(rt::effect::deny, "rev-B"), "\"b\"");
    srv.stall(std::chrono::milliseconds(300));
    std::vector<reload_result> got;
    r.reload(reload_trigger::admin, [&](reload_result x) { got.push_back(x); });
    r.reload(reload_trigger::sighup, [&](reload_result x) { got.push_back(x); });
    r.reload(reload_trigger::poll, [&](reload_result x) { got.push_back(x); });
    ioc.restart();
    while (got.size() < 3 && ioc.run_one()) {
    }
    srv.stall(std::chrono::milliseconds(0));
    REQUIRE(got.size() == 3);
    for (const auto& g : got) CHECK_FALSE(g.error);
    CHECK(got[0].swapped);
    CHECK(srv.requests() == before + 1);
    CHECK(m.bundle_reloads_success == 1);
    CHECK(store.status().revision == "rev-B");
}

} // namespace bundle_reloader_test
