// The admin listener end to end in one process: a real TCP listener on
// 127.0.0.1, real HTTP requests (through dockpold's own client and `probe`),
// a real bundle file, and a fake dockerd on a UNIX socket for /readyz.
#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <future>
#include <map>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "admin/admin_api.hpp"
#include "admin/probe.hpp"
#include "fixtures/hotswap/bundles.hpp"

// Each test file is its own namespace: the test executables are unity builds.
namespace admin_server_test {

using namespace dockpol;
using namespace dockpol::sidecar;
using namespace hotswap_test;
using nlohmann::json;

namespace {

void quiet(const std::string&) {}

// Answers every connection on a UNIX socket with one canned HTTP response.
class fake_dockerd {
public:
    explicit fake_dockerd(std::string path, std::string response)
        : path_(std::move(path)), response_(std::move(response)), acceptor_(ioc_, net::local::stream_protocol::endpoint(path_)) {
        thread_ = std::thread([this] {
            for (;;) {
                net::local::stream_protocol::socket s(ioc_);
                boost::system::error_code ec;
                acceptor_.accept(s, ec);
                if (ec || stop_) return;
                char buf[4096];
                s.read_some(net::buffer(buf), ec);
                net::write(s, net::buffer(response_), ec);
                s.shutdown(net::socket_base::shutdown_both, ec);
            }
        });
    }
    ~fake_dockerd() {
        stop_ = true;
        net::local::stream_protocol::socket poke(ioc_);
        boost::system::error_code ec;
        poke.connect(net::local::stream_protocol::endpoint(path_), ec);
        thread_.join();
        ::unlink(path_.c_str());
    }

private:
    std::string path_, response_;
    net::io_context ioc_;
    net::local::stream_protocol::acceptor acceptor_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

// dockpold's control plane in miniature: store + reloader + admin server, on a background thread.
struct admin_fixture {
    std::string dir = temp_dir("admin");
    std::string bundle = dir + "/bundle.dpb";
    std::string docker_sock = dir + "/docker.sock";
    net::io_context ioc;
    policy_store store;
    metrics stats;
    latency_metrics latency;
    std::unique_ptr<bundle_reloader> reloader;
    std::string shadow_bundle = dir + "/shadow.dpb";
    std::unique_ptr<shadow_slot> shadow;   // --shadow-bundle shadow.dpb (rev-S, denies) when asked for
    std::shared_ptr<admin_server> server;
    std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
    std::thread thread;

    explicit admin_fixture(bool with_shadow = false) {
        write_bytes(bundle, bundle_of(rt::effect::allow, "rev-A"));
        reloader = std::make_unique<bundle_reloader>(ioc.get_executor(), store, stats, bundle, quiet);
        REQUIRE_FALSE(reloader->initial_load());
        if (with_shadow) {
            write_bytes(shadow_bundle, bundle_of(rt::effect::deny, "rev-S"));
            config cfg;
            cfg.shadow_bundle = shadow_bundle;
            auto made = make_shadow_slot(ioc.get_executor(), {}, cfg, quiet);
            REQUIRE(made.index() == 0);
            shadow = std::get<0>(std::move(made));
        }
        auto routes = make_admin_routes({ioc.get_executor(), store, stats, latency, *reloader, docker_sock, nullptr,
                                         shadow.get()});
        auto s = admin_server::create(ioc.get_executor(), "127.0.0.1", 0, std::move(routes));
        REQUIRE(s.index() == 0);
        server = std::get<0>(s);
        server->start();
        work.emplace(ioc.get_executor());
        thread = std::thread([this] { ioc.run(); });
    }
    ~admin_fixture() {
        server->stop();
        work.reset();
        ioc.stop();
        thread.join();
    }

    std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(server->port()) + path; }
};

struct reply {
    unsigned status = 0;
    std::string body;
};

// One request over a raw socket (any method), Connection: close.
reply request(std::uint16_t port, const std::string& method, const std::string& path) {
    net::io_context ioc;
    net::ip::tcp::socket s(ioc);
    s.connect({net::ip::make_address("127.0.0.1"), port});
    const std::string req = method + " " + path + " HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    net::write(s, net::buffer(req));
    beast::flat_buffer buf;
    beast::http::response<beast::http::string_body> res;
    beast::http::read(s, buf, res);
    return {res.result_int(), res.body()};
}

std::map<std::string, std::string> samples(const std::string& text) {
    std::map<std::string, std::string> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        const auto sp = line.rfind(' ');
        out[line.substr(0, sp)] = line.substr(sp + 1);
    }
    return out;
}

} // namespace

TEST_CASE("status, reload and metrics through the admin listener") {
    admin_fixture f;
    const auto port = f.server->port();

    auto st = json::parse(request(port, "GET", "/v1/status").body);
    CHECK(st["revision"] == "rev-A");
    CHECK(st["source"] == f.bundle);
    CHECK(st["last_error"].is_null());
    CHECK(st["loaded_at"].is_string());

    // A good new bundle: 200 with the new status, success counted.
    write_bytes(f.bundle, bundle_of(rt::effect::deny, "rev-B"));
    auto ok = request(port, "POST", "/v1/bundle/reload");
    REQUIRE(ok.status == 200);
    CHECK(json::parse(ok.body)["revision"] == "rev-B");
    CHECK(json::parse(ok.body)["last_error"].is_null());

    // A corrupt bundle: 422 with the reason, revision unchanged, failure counted.
    auto bytes = bundle_of(rt::effect::allow, "rev-C");
    bytes[bytes.size() / 2] ^= 0x10;
    write_bytes(f.bundle, bytes);
    auto bad = request(port, "POST", "/v1/bundle/reload");
    REQUIRE(bad.status == 422);
    auto badj = json::parse(bad.body);
    CHECK(badj["message"].get<std::string>().find("digest mismatch") != std::string::npos);
    CHECK(badj["status"]["revision"] == "rev-B");
    auto st2 = json::parse(request(port, "GET", "/v1/status").body);
    CHECK(st2["revision"] == "rev-B");
    CHECK(st2["last_error"].get<std::string>().find("digest mismatch") != std::string::npos);
    CHECK(f.store.status().revision == "rev-B");

    auto m = samples(request(port, "GET", "/metrics").body);
    CHECK(m.at("dockpol_bundle_reloads_total{result=\"success\"}") == "1");
    CHECK(m.at("dockpol_bundle_reloads_total{result=\"failure\"}") == "1");
    CHECK(m.at("dockpol_bundle_info{revision=\"rev-B\"}") == "1");
    CHECK(m.count("dockpol_bundle_info{revision=\"rev-A\"}") == 0);

    // Counters the request path bumps show up with their values.
    f.stats.count_request(decision_label::deny, *rt::find_action("container_list"));
    f.latency.request_seconds.observe(std::chrono::milliseconds(3));
    auto m2 = samples(request(port, "GET", "/metrics").body);
    CHECK(m2.at("dockpol_requests_total{decision=\"deny\",action=\"container_list\"}") == "1");
    CHECK(m2.at("dockpol_request_seconds_count") == "1");
    CHECK(m2.at("dockpol_request_seconds_bucket{le=\"0.005\"}") == "1");
}

TEST_CASE("unknown paths are 404, wrong methods 405, health is 200") {
    admin_fixture f;
    const auto port = f.server->port();
    CHECK(request(port, "GET", "/healthz").status == 200);
    CHECK(request(port, "GET", "/nope").status == 404);
    CHECK(request(port, "GET", "/v1/bundle/reload").status == 405);
    CHECK(request(port, "POST", "/metrics").status == 405);
    CHECK(request(port, "GET", "/healthz?x=1").status == 200);
}

TEST_CASE("readyz: ready only when a bundle serves and dockerd answers /_ping") {
    admin_fixture f;
    const auto port = f.server->port();
    auto down = request(port, "GET", "/readyz");
    CHECK(down.status == 503);
    CHECK(json::parse(down.body)["message"].get<std::string>().find("cannot connect") != std::string::npos);
    {
        fake_dockerd d(f.docker_sock, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nOK");
        CHECK(request(port, "GET", "/readyz").status == 200);
    }
    {
        fake_dockerd d(f.docker_sock, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        auto r = request(port, "GET", "/readyz");
        CHECK(r.status == 503);
        CHECK(json::parse(r.body)["message"].get<std::string>().find("HTTP 500") != std::string::npos);
    }
}

TEST_CASE("keep-alive: several requests on one connection") {
    admin_fixture f;
    net::io_context ioc;
    net::ip::tcp::socket s(ioc);
    s.connect({net::ip::make_address("127.0.0.1"), f.server->port()});
    beast::flat_buffer buf;
    for (int i = 0; i < 3; ++i) {
        beast::http::request<beast::http::empty_body> req(beast::http::verb::get, "/healthz", 11);
        req.set(beast::http::field::host, "x");
        beast::http::write(s, req);
        beast::http::response<beast::http::string_body> res;
        beast::http::read(s, buf, res);
        CHECK(res.result_int() == 200);
        CHECK(res.keep_alive());
    }
}

TEST_CASE("admin refuses non-loopback addresses and taken ports") {
    net::io_context ioc;
    auto r = admin_server::create(ioc.get_executor(), "0.0.0.0", 0, {});
    REQUIRE(r.index() == 1);
    CHECK(std::get<1>(r).find("not a loopback address") != std::string::npos);
    auto a = std::get<0>(admin_server::create(ioc.get_executor(), "127.0.0.1", 0, {}));
    auto taken = admin_server::create(ioc.get_executor(), "127.0.0.1", a->port(), {});
    REQUIRE(taken.index() == 1);
    CHECK(std::get<1>(taken).find("cannot listen") != std::string::npos);
}

TEST_CASE("probe: exit 0 on 2xx, 1 on errors, refusals, timeouts and bad URLs") {
    admin_fixture f;
    CHECK(probe(f.url("/healthz")).exit_code == 0);
    auto nf = probe(f.url("/missing"));
    CHECK(nf.exit_code == 1);
    CHECK(nf.message.find("HTTP 404") != std::string::npos);
    CHECK(probe(f.url("/readyz")).exit_code == 1);   // no dockerd
    CHECK(probe("not-a-url").exit_code == 1);
    // Nothing listens on a port we just closed.
    std::uint16_t closed_port;
    {
        net::io_context ioc;
        net::ip::tcp::acceptor a(ioc, {net::ip::make_address("127.0.0.1"), 0});
        closed_port = a.local_endpoint().port();
    }
    auto refused = probe("http://127.0.0.1:" + std::to_string(closed_port) + "/healthz");
    CHECK(refused.exit_code == 1);
    CHECK(refused.message.find("cannot connect") != std::string::npos);
    // A listener that never answers: the probe gives up after its timeout.
    net::io_context ioc;
    net::ip::tcp::acceptor silent(ioc, {net::ip::make_address("127.0.0.1"), 0});
    const auto t0 = std::chrono::steady_clock::now();
    auto slow = probe("http://127.0.0.1:" + std::to_string(silent.local_endpoint().port()) + "/",
                      std::chrono::milliseconds(300));
    CHECK(slow.exit_code == 1);
    CHECK(slow.message.find("within 300 ms") != std::string::npos);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2));
}

TEST_CASE("parse_http_url") {
    struct row { const char* in; bool ok; bool tls; const char* host; const char* port; const char* target; };
    const row rows[] = {
        {"http://example.com/b.dpb", true, false, "example.com", "80", "/b.dpb"},
        {"HTTPS://example.com", true, true, "example.com", "443", "/"},
        {"https://10.0.0.1:8443/x?y=1#frag", true, true, "10.0.0.1", "8443", "/x?y=1"},
        {"http://[::1]:9000/b", true, false, "::1", "9000", "/b"},
        {"http://h?q", true, false, "h", "80", "/?q"},
        {"ftp://h/x", false, false, "", "", ""},
        {"http://user:pw@h/x", false, false, "", "", ""},
        {"http://h:0/x", false, false, "", "", ""},
        {"http://h:99999/x", false, false, "", "", ""},
        {"http:///x", false, false, "", "", ""},
        {"http://h/a b", false, false, "", "", ""},
        {"http://[::1/x", false, false, "", "", ""},
    };
    for (const auto& r : rows) {
        INFO(r.in);
        auto u = parse_http_url(r.in);
        REQUIRE((u.index() == 0) == r.ok);
        if (!r.ok) continue;
        const auto& v = std::get<0>(u);
        CHECK(v.tls == r.tls);
        CHECK(v.host == r.host);
        CHECK(v.port == r.port);
        CHECK(v.target == r.target);
    }
    CHECK(std::get<0>(parse_http_url("http://[::1]:80/")).host_header() == "[::1]");
    CHECK(std::get<0>(parse_http_url("http://h:81/")).host_header() == "h:81");
    CHECK(parse_http_url("http://h/" + std::string(max_url_bytes, 'a')).index() == 1);
}

TEST_CASE("admin limits: oversize head and body are refused with 400, connections are capped") {
    admin_fixture f;
    const auto port = f.server->port();
    auto raw = [&](const std::string& bytes) {
        net::io_context ioc;
        net::ip::tcp::socket s(ioc);
        s.connect({net::ip::make_address("127.0.0.1"), port});
        net::write(s, net::buffer(bytes));
        beast::flat_buffer buf;
        beast::http::response<beast::http::string_body> res;
        boost::system::error_code ec;
        beast::http::read(s, buf, res, ec);
        return ec ? 0u : res.result_int();
    };
    const std::string big_header(admin_max_header_bytes + 1, 'a');
    CHECK(raw("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + big_header + "\r\n\r\n") == 400);
    const std::string big_body(admin_max_body_bytes + 1, 'b');
    CHECK(raw("POST /v1/bundle/reload HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(big_body.size()) +
              "\r\n\r\n" + big_body) == 400);
    CHECK(f.store.status().revision == "rev-A");

    // admin_max_connections idle connections are accepted; the next one is closed at once.
    net::io_context ioc;
    std::vector<net::ip::tcp::socket> held;
    for (int i = 0; i < admin_max_connections; ++i) {
        held.emplace_back(ioc);
        held.back().connect({net::ip::make_address("127.0.0.1"), port});
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    net::ip::tcp::socket extra(ioc);
    extra.connect({net::ip::make_address("127.0.0.1"), port});
    char c;
    boost::system::error_code ec;
    extra.read_some(net::buffer(&c, 1), ec);
    CHECK(ec == net::error::eof);
    // The held ones still work.
    const std::string req = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    net::write(held.front(), net::buffer(req));
    beast::flat_buffer buf;
    beast::http::response<beast::http::string_body> res;
    beast::http::read(held.front(), buf, res);
    CHECK(res.result_int() == 200);
}

TEST_CASE("http client: a body over the limit is an error, not a truncated bundle") {
    admin_fixture f;
    net::io_context ioc;
    http_get_options opt;
    opt.max_body = 16;   // /metrics is far bigger
    opt.timeout = std::chrono::seconds(5);
    http_get_result got;
    async_http_get(ioc.get_executor(), std::get<0>(parse_http_url(f.url("/metrics"))), opt,
                   [&](http_get_result r) { got = std::move(r); });
    ioc.run();
    CHECK(got.status == 0);
    CHECK(got.error.find("larger than 16 bytes") != std::string::npos);
    CHECK(got.body.empty());
}

TEST_CASE("shadow: GET /v1/shadow, a failed shadow reload kept apart from the live one, promotion until the next live reload") {
    {
        admin_fixture none;
        CHECK(request(none.server->port(), "GET", "/v1/shadow").status == 404);
        CHECK(request(none.server->port(), "POST", "/v1/shadow/promote").status == 404);
    }
    admin_fixture f(true);
    const auto port = f.server->port();
    auto sh = json::parse(request(port, "GET", "/v1/shadow").body);
    CHECK(sh["revision"] == "rev-S");
    CHECK(sh["source"] == f.shadow_bundle);
    CHECK(sh["last_error"].is_null());
    CHECK(sh["requests"] == 0);
    CHECK(sh["by_action"].empty());
    CHECK(sh["examples"].empty());

    // A damaged candidate: the last good shadow stays, the error shows in /v1/shadow and the shadow's counter.
    auto bytes = bundle_of(rt::effect::allow, "rev-T");
    bytes[bytes.size() / 2] ^= 0x10;
    write_bytes(f.shadow_bundle, bytes);
    std::promise<reload_result> done;
    f.shadow->reloader->reload(reload_trigger::sighup, [&done](reload_result r) { done.set_value(r); });
    CHECK(done.get_future().get().error);
    auto sh2 = json::parse(request(port, "GET", "/v1/shadow").body);
    CHECK(sh2["revision"] == "rev-S");
    CHECK(sh2["last_error"].get<std::string>().find("digest mismatch") != std::string::npos);
    auto m = samples(request(port, "GET", "/metrics").body);
    CHECK(m.at("dockpol_shadow_reloads_total{result=\"failure\"}") == "1");
    CHECK(m.at("dockpol_bundle_reloads_total{result=\"failure\"}") == "0");
    CHECK(m.at("dockpol_shadow_bundle_info{revision=\"rev-S\"}") == "1");
    CHECK(m.at("dockpol_shadow_decisions_total{decision=\"error\"}") == "0");

    auto promoted = request(port, "POST", "/v1/shadow/promote");
    REQUIRE(promoted.status == 200);
    CHECK(json::parse(promoted.body)["revision"] == "rev-S");
    CHECK(json::parse(request(port, "GET", "/v1/status").body)["source"] == "shadow:" + f.shadow_bundle);
    CHECK(rt::image_of(*f.store.snapshot()).man.revision == "rev-S");
    CHECK(json::parse(request(port, "GET", "/v1/shadow").body)["promotions"] == 1);
    // For the running process only: the next live reload brings the live bundle back.
    REQUIRE(request(port, "POST", "/v1/bundle/reload").status == 200);
    CHECK(f.store.status().revision == "rev-A");
}

} // namespace admin_server_test
