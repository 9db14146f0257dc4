// The request path end to end over real sockets, without root or dockerd: a
// TLS client → client_session → a scripted fake daemon on a UNIX socket.
// Covers keep-alive, 100-continue, a chunked upload, upstream interim answers
// (100 then 201), an upstream short and over-long body, upstream close
// mid-body and client close mid-body; after each, the next request must get
// its own answer and an upstream connection with anything unread is never
// reused. A hijacked stream's half-close (the client's close_notify) must
// reach dockerd as EOF while dockerd's later output still reaches the client.
#include <catch2/catch.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <thread>

#include "dockpol/dsl/compile.hpp"
#include "admin/metrics_text.hpp"
#include "admin/shadow_status.hpp"
#include "proxy/client_session.hpp"
#include "dockpol/rt/bundle.hpp"

// Each test file is its own namespace: the test executables are unity builds.
namespace sidecar_session_test {

using namespace dockpol;
using namespace dockpol::sidecar;
namespace fs = std::filesystem;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using local = boost::asio::local::stream_protocol;

namespace {

// A test that waits longer than this for an answer has hung.
constexpr auto answer_wait = std::chrono::seconds(10);

// What the daemon saw: each request with the upstream connection it came on, and connections that ended.
struct seen_request {
    int conn;
    std::string method, target, body;
    bool had_expect;
    bool chunked;
    std::vector<std::string> handoff;   // every X-Dockpol-Decision value, in order
    bool had_lookup_header = false;
};

// Answers each request with the script's bytes; an empty answer closes the connection.
class fake_daemon {
public:
    using script = std::function<std::string(const seen_request&, int n)>;

    fake_daemon(std::string path, script s) : path_(std::move(path)), script_(std::move(s)), acc_(ioc_) {
        ::unlink(path_.c_str());
        acc_.open(local());
        acc_.bind(local::endpoint(path_));
        acc_.listen();
        th_ = std::thread([this] { accept_loop(); });
    }
    ~fake_daemon() {
        // shutdown() does not reliably wake accept() on a UNIX socket: a last connection does.
        stopping_ = true;
        {
            local::socket wake(ioc_);
            boost::system::error_code ignored;
            wake.connect(local::endpoint(path_), ignored);
            th_.join();
        }
        {
            std::lock_guard lk(mu_);
            for (auto& s : socks_) ::shutdown(s->native_handle(), SHUT_RDWR);
        }
        // Not under mu_: each connection thread takes it once more as it ends.
        for (auto& t : conns_) t.join();
    }
    std::vector<seen_request> seen() {
        std::lock_guard lk(mu_);
        return seen_;
    }
    int connections() {
        std::lock_guard lk(mu_);
        return n_conns_;
    }
    int ended() {
        std::lock_guard lk(mu_);
        return n_ended_;
    }
    // What each hijacked stream received from the client before its EOF.
    std::vector<std::string> tunnel_in() {
        std::lock_guard lk(mu_);
        return tunnel_in_;
    }

private:
    void accept_loop() {
        for (;;) {
            auto s = std::make_shared<local::socket>(ioc_);
            boost::system::error_code ec;
            acc_.accept(*s, ec);
            if (ec || stopping_) return;
            std::lock_guard lk(mu_);
            int id = n_conns_++;
            socks_.push_back(s);
            conns_.emplace_back([this, s, id] { serve(*s, id); });
        }
    }
    void serve(local::socket& s, int id) {
        namespace http = boost::beast::http;
        boost::beast::flat_buffer buf;
        for (;;) {
            http::request<http::string_body> req;
            boost::system::error_code ec;
            http::read(s, buf, req, ec);
            if (ec) break;
            seen_request r{id, std::string(req.method_string()), std::string(req.target()), req.body(),
                           req.find(http::field::expect) != req.end(), req.chunked(), {}, false};
            for (const auto& f : req)
                if (boost::beast::iequals(f.name_string(), "X-Dockpol-Decision")) r.handoff.emplace_back(f.value());
            r.had_lookup_header = req.find("X-Dockpol-Lookup") != req.end();
            int n;
            {
                std::lock_guard lk(mu_);
                seen_.push_back(r);
                n = static_cast<int>(seen_.size()) - 1;
            }
            std::string ans = script_(r, n);
            if (ans.empty()) break;
            // "\x01" splits an answer into writes 50 ms apart (interim answer first).
            std::size_t pos = 0;
            while (pos <= ans.size()) {
                auto cut = ans.find('\x01', pos);
                auto piece = ans.substr(pos, cut == std::string::npos ? std::string::npos : cut - pos);
                boost::asio::write(s, boost::asio::buffer(piece), ec);
                if (cut == std::string::npos) break;
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
                pos = cut + 1;
            }
            if (ans.ends_with("\x02")) break;   // marker: close after this answer
            // A hijacked stream: read the client's bytes up to its half-close, then answer them and end.
            if (ans.starts_with("HTTP/1.1 101")) {
                std::string raw(static_cast<const char*>(buf.data().data()), buf.size());
                char chunk[4096];
                for (std::size_t n; (n = s.read_some(boost::asio::buffer(chunk), ec)) > 0 || !ec;) raw.append(chunk, n);
                {
                    std::lock_guard lk(mu_);
                    tunnel_in_.push_back(raw);
                }
                boost::asio::write(s, boost::asio::buffer("got:" + raw), ec);
                break;
            }
        }
        boost::system::error_code ignored;
        s.close(ignored);
        std::lock_guard lk(mu_);
        ++n_ended_;
    }

    std::string path_;
    script script_;
    boost::asio::io_context ioc_;
    local::acceptor acc_;
    std::thread th_;
    std::mutex mu_;
    std::vector<std::shared_ptr<local::socket>> socks_;
    std::vector<std::thread> conns_;
    std::vector<seen_request> seen_;
    std::vector<std::string> tunnel_in_;
    int n_conns_ = 0, n_ended_ = 0;
    std::atomic<bool> stopping_{false};
};

std::string ok(std::string_view body, std::string_view status = "200 OK") {
    return fmt::format("HTTP/1.1 {}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{}", status, body.size(), body);
}

struct pki {
    fs::path dir;
    pki() {
        dir = fs::temp_directory_path() / fmt::format("dockpol-session-test-{}", ::getpid());
        fs::remove_all(dir);
        const std::string mk = std::string("bash ") + DOCKPOL_SOURCE_ROOT + "/examples/certs/make-certs.sh ";
        const std::string d = dir.string();
        REQUIRE(std::system((mk + "ca " + d + " >/dev/null").c_str()) == 0);
        REQUIRE(std::system((mk + "server " + d + " --host localhost --ip 127.0.0.1 >/dev/null").c_str()) == 0);
        REQUIRE(std::system((mk + "client " + d + " --user alice --group admins >/dev/null").c_str()) == 0);
    }
    ~pki() { fs::remove_all(dir); }
};

pki& shared_pki() {
    static pki p;
    return p;
}

// dockpold's request path on one io_context thread, accepting on 127.0.0.1.
struct proxy {
    config cfg;
    io_pool io{1};
    std::shared_ptr<const tls_context> ctx;
    std::unique_ptr<tls_context_store> tls;
    policy_store policy;
    std::vector<std::unique_ptr<upstream_pool>> upstreams;
    resource_cache resources;
    metrics stats;
    std::unique_ptr<server_context> srv;
    std::unique_ptr<shadow_slot> shadow;   // with a shadow policy only, and then an audit log too
    std::string audit_path;
    std::unique_ptr<audit_log> audit;
    tcp::acceptor acc{io.at(0)};
    std::thread th;

    explicit proxy(const std::string& sock, const std::string& policy_text, const std::string& shadow_text = {},
                   handoff::signer* signer = nullptr) {
        auto& p = shared_pki();
        auto t = make_tls_context({(p.dir / "server/cert.pem").string(), (p.dir / "server/key.pem").string(),
                                   (p.dir / "ca.pem").string(), std::nullopt});
        REQUIRE(t.index() == 0);
        ctx = std::get<0>(t);
        tls = std::make_unique<tls_context_store>(ctx);
        auto c = dsl::compile({dsl::source_file{"t.dpol", policy_text}}, {}, "test");
        REQUIRE(c.image);
        auto bytes = rt::write_bundle(*c.image);
        REQUIRE_FALSE(policy.try_replace(bytes, "test"));
        upstreams.push_back(std::make_unique<upstream_pool>(io.at(0), sock));
        srv.reset(new server_context{cfg, io, *tls, policy, upstreams, resources, nullptr, signer, stats, "h", {}, {false}, {1}, {}});
        if (!shadow_text.empty()) {
            auto sc = dsl::compile({dsl::source_file{"shadow.dpol", shadow_text}}, {}, "shadow-rev");
            REQUIRE(sc.image);
            shadow = std::make_unique<shadow_slot>(std::vector<rt::public_key>{});
            REQUIRE_FALSE(shadow->store.try_replace(rt::write_bundle(*sc.image), "shadow.dpb"));
            srv->shadow = shadow.get();
            audit_path = (fs::temp_directory_path() / fmt::format("dockpol-shadow-audit-{}.jsonl", ::getpid())).string();
            fs::remove(audit_path);
            audit = std::make_unique<audit_log>(audit_path, stats);
            REQUIRE_FALSE(audit->open());
            audit->start();
            srv->audit = audit.get();
        }
        acc.open(tcp::v4());
        acc.bind({boost::asio::ip::make_address("127.0.0.1"), 0});
        acc.listen();
        do_accept();
        th = std::thread([this] { io.run(); });
    }
    ~proxy() {
        // Sessions reference srv and the pools: let them end (their clients are gone) before anything is destroyed.
        for (int i = 0; i < 300 && stats.connections_active.load() > 0; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        io.stop();
        th.join();
        if (audit) {
            audit->stop();
            fs::remove(audit_path);
        }
    }
    // Waits until `n` requests have ended and been compared with the shadow (the audit line follows the answer).
    void wait_compared(std::uint64_t n) {
        for (int i = 0; i < 500 && shadow->tally.requests() < n; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        REQUIRE(shadow->tally.requests() == n);
    }
    // The requests' audit lines so far (stops the writer, which flushes); the chain's checkpoints are left out.
    std::vector<std::string> audit_lines() {
        audit->stop();
        std::vector<std::string> out;
        std::ifstream f(audit_path);
        for (std::string l; std::getline(f, l);)
            if (!l.starts_with("{\"checkpoint\":")) out.push_back(l);
        return out;
    }
    void do_accept() {
        acc.async_accept([this](boost::system::error_code ec, tcp::socket s) {
            if (ec) return;
            std::make_shared<client_session>(*srv, std::move(s), ctx->native(), 0)->run();
            do_accept();
        });
    }
    unsigned short port() const { return acc.local_endpoint().port(); }
};

// A blocking TLS client (alice).
struct client {
    boost::asio::io_context ioc;
    ssl::context sctx{ssl::context::tls_client};
    ssl::stream<tcp::socket> s;
    boost::beast::flat_buffer buf;

    // The stream copies the context's certificate when it is made: load the context first.
    static ssl::context& loaded(ssl::context& c) {
        auto& p = shared_pki();
        c.load_verify_file((p.dir / "ca.pem").string());
        c.use_certificate_chain_file((p.dir / "alice/cert.pem").string());
        c.use_private_key_file((p.dir / "alice/key.pem").string(), ssl::context::pem);
        return c;
    }

    explicit client(unsigned short port) : s(ioc, loaded(sctx)) {
        s.set_verify_mode(ssl::verify_peer);
        s.next_layer().connect({boost::asio::ip::make_address("127.0.0.1"), port});
        timeval tv{static_cast<long>(answer_wait.count()), 0};
        ::setsockopt(s.next_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        s.handshake(ssl::stream_base::client);
    }
    void send(std::string_view bytes) { boost::asio::write(s, boost::asio::buffer(bytes.data(), bytes.size())); }
    // "STATUS BODY"; status 0 when the connection ended first.
    std::string answer() {
        namespace http = boost::beast::http;
        http::response<http::string_body> res;
        boost::system::error_code ec;
        http::read(s, buf, res, ec);
        if (ec) return "0 " + ec.message();
        return fmt::format("{} {}", res.result_int(), res.body());
    }
    std::string get(std::string_view path) {
        send(fmt::format("GET {} HTTP/1.1\r\nHost: d\r\n\r\n", path));
        return answer();
    }
};

// A raw OpenSSL client (alice): Boost's ssl::stream cannot send close_notify and go on reading,
// which is what the docker CLI does when its stdin ends on an attached stream.
struct half_close_client {
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    SSL* ssl = nullptr;
    int fd = -1;

    explicit half_close_client(unsigned short port) {
        auto& p = shared_pki();
        REQUIRE(SSL_CTX_load_verify_locations(ctx, (p.dir / "ca.pem").c_str(), nullptr) == 1);
        REQUIRE(SSL_CTX_use_certificate_chain_file(ctx, (p.dir / "alice/cert.pem").c_str()) == 1);
        REQUIRE(SSL_CTX_use_PrivateKey_file(ctx, (p.dir / "alice/key.pem").c_str(), SSL_FILETYPE_PEM) == 1);
        fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        timeval tv{static_cast<long>(answer_wait.count()), 0};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ssl = SSL_new(ctx);
        SSL_set_fd(ssl, fd);
        REQUIRE(SSL_connect(ssl) == 1);
    }
    ~half_close_client() {
        SSL_free(ssl);
        ::close(fd);
        SSL_CTX_free(ctx);
    }
    void send(std::string_view b) { REQUIRE(SSL_write(ssl, b.data(), static_cast<int>(b.size())) == static_cast<int>(b.size())); }
    // Sends close_notify: our writing ends, reading goes on.
    void close_write() { REQUIRE(SSL_shutdown(ssl) >= 0); }
    // Up to and including `end`, or everything until the stream ends when `end` is empty.
    std::string read(std::string_view end = {}) {
        std::string got;
        char c[4096];
        while (end.empty() || got.find(end) == std::string::npos) {
            const int n = SSL_read(ssl, c, end.empty() ? static_cast<int>(sizeof c) : 1);
            if (n <= 0) break;
            got.append(c, static_cast<std::size_t>(n));
        }
        return got;
    }
};

const std::string allow_all = "default deny\nrule alice: allow if user == \"alice\"\n";

std::string sock_path(const char* name) {
    return (fs::temp_directory_path() / fmt::format("dockpol-fd-{}-{}.sock", ::getpid(), name)).string();
}

// Answers /containers/NAME/... with NAME, so each request's own answer is recognisable.
std::string echo_path(const seen_request& r) {
    constexpr std::string_view key = "/containers/";
    auto at = r.target.find(key);
    if (at == std::string::npos) return ok(r.target);
    auto name = r.target.substr(at + key.size());
    return ok(name.substr(0, name.find('/')));
}

} // namespace

TEST_CASE("keep-alive: each request gets its own answer over one reused upstream connection") {
    fake_daemon d(sock_path("ka"), [](const seen_request& r, int) { return echo_path(r); });
    proxy p(sock_path("ka"), allow_all);
    client c(p.port());
    for (const char* n : {"one", "two", "three"}) CHECK(c.get(std::string("/v1.41/containers/") + n + "/json") ==
                                                        std::string("200 ") + n);
    CHECK(d.connections() == 1);
}

TEST_CASE("upstream 100 then 201: the client gets 201, and the next request its own answer") {
    fake_daemon d(sock_path("1xx"), [](const seen_request& r, int n) {
        if (n == 0) return std::string("HTTP/1.1 100 Continue\r\n\r\n\x01") + ok("created", "201 Created");
        return echo_path(r);
    });
    proxy p(sock_path("1xx"), allow_all);
    client c(p.port());
    c.send("POST /v1.41/containers/create HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
    CHECK(c.answer() == "201 created");
    CHECK(c.get("/v1.41/containers/next/json") == "200 next");
    client c2(p.port());
    CHECK(c2.get("/v1.41/containers/other/json") == "200 other");
}

TEST_CASE("100-continue: dockpold answers the Expect, dockerd never sees it, the body arrives whole") {
    fake_daemon d(sock_path("exp"), [](const seen_request&, int) { return ok("done", "201 Created"); });
    proxy p(sock_path("exp"), allow_all);
    client c(p.port());
    c.send("POST /v1.41/containers/create HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\n"
           "Expect: 100-continue\r\nContent-Length: 13\r\n\r\n");
    CHECK(c.answer().starts_with("100 "));
    c.send("{\"Image\":\"x\"}");
    CHECK(c.answer() == "201 done");
    auto seen = d.seen();
    REQUIRE(seen.size() == 1);
    CHECK_FALSE(seen[0].had_expect);
    CHECK(seen[0].body == "{\"Image\":\"x\"}");
}

TEST_CASE("chunked upload: the body reaches dockerd whole and the next request is answered") {
    fake_daemon d(sock_path("chunk"), [](const seen_request& r, int) { return echo_path(r); });
    proxy p(sock_path("chunk"), allow_all);
    client c(p.port());
    c.send("PUT /v1.41/containers/web/archive?path=/tmp HTTP/1.1\r\nHost: d\r\nContent-Type: application/x-tar\r\n"
           "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
    CHECK(c.answer().starts_with("200 "));
    CHECK(c.get("/v1.41/containers/after/json") == "200 after");
    auto seen = d.seen();
    REQUIRE(seen.size() == 2);
    CHECK(seen[0].body == "hello world");
}

TEST_CASE("upstream over-long body: the extra bytes are never read as the next answer") {
    // The first answer carries a whole forged response after its declared body.
    fake_daemon d(sock_path("long"), [](const seen_request& r, int n) {
        if (n == 0) return ok("first") + ok("FORGED");
        return echo_path(r);
    });
    proxy p(sock_path("long"), allow_all);
    client c(p.port());
    CHECK(c.get("/v1.41/containers/first/json") == "200 first");
    CHECK(c.get("/v1.41/containers/second/json") == "200 second");
    client c2(p.port());
    CHECK(c2.get("/v1.41/containers/third/json") == "200 third");
    CHECK(d.connections() >= 2);   // the connection with unread bytes was not reused
}

TEST_CASE("upstream short body and close mid-body: the client connection ends, the next one works") {
    fake_daemon d(sock_path("short"), [](const seen_request& r, int n) {
        if (n == 0) return std::string("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc\x02");
        return echo_path(r);
    });
    proxy p(sock_path("short"), allow_all);
    {
        client c(p.port());
        CHECK(c.get("/v1.41/containers/x/json").starts_with("0 "));
    }
    client c2(p.port());
    CHECK(c2.get("/v1.41/containers/fine/json") == "200 fine");
    CHECK(d.connections() == 2);
}

TEST_CASE("client close mid-body: the upstream connection is closed, not pooled") {
    fake_daemon d(sock_path("cclose"), [](const seen_request& r, int) { return echo_path(r); });
    proxy p(sock_path("cclose"), allow_all);
    {
        client c(p.port());
        c.send("PUT /v1.41/containers/web/archive?path=/tmp HTTP/1.1\r\nHost: d\r\nContent-Type: application/x-tar\r\n"
               "Content-Length: 100\r\n\r\n0123456789");
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    for (int i = 0; i < 100 && d.ended() < 1; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    CHECK(d.ended() == 1);   // dockerd saw its half-sent request's connection end
    client c2(p.port());
    CHECK(c2.get("/v1.41/containers/next/json") == "200 next");
    CHECK(d.connections() == 2);
}

TEST_CASE("streamed chunked upload with a trailer: 400, and the body never ends at dockerd") {
    fake_daemon d(sock_path("trs"), [](const seen_request& r, int) { return echo_path(r); });
    proxy p(sock_path("trs"), allow_all);
    client c(p.port());
    c.send("PUT /v1.41/containers/web/archive?path=/tmp HTTP/1.1\r\nHost: d\r\nContent-Type: application/x-tar\r\n"
           "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nExpect: 100-continue\r\n\r\n");
    auto a = c.answer();
    CHECK(a.starts_with("400 "));
    CHECK(a.find("chunked trailer fields") != std::string::npos);
    // dockerd saw a body that never ended: no complete request reached it.
    CHECK(d.seen().empty());
    client c2(p.port());
    CHECK(c2.get("/v1.41/containers/after/json") == "200 after");
}

TEST_CASE("hijack half-close: the client's close_notify reaches dockerd as EOF, dockerd's later output still arrives") {
    fake_daemon d(sock_path("hj"), [](const seen_request&, int) {
        return std::string("HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
                           "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n");
    });
    proxy p(sock_path("hj"), allow_all);
    half_close_client c(p.port());
    c.send("POST /v1.41/containers/web/attach?stream=1&stdin=1&stdout=1 HTTP/1.1\r\nHost: d\r\n"
           "Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n");
    CHECK(c.read("\r\n\r\n").starts_with("HTTP/1.1 101"));
    c.send("hello");
    c.send(" world");
    c.close_write();
    // dockerd answers only once it has seen the end of the client's input: the answer proves the EOF
    // got through, and that output after the client's half-close still reaches it.
    CHECK(c.read() == "got:hello world");
    CHECK(d.tunnel_in() == std::vector<std::string>{"hello world"});
}

// alice may create only unprivileged containers: the create body is read (inspected).
const std::string inspect_create = "default deny\n"
                                   "rule creates: allow if user == \"alice\" and action == \"container_create\" "
                                   "and not container.privileged\n"
                                   "rule others: allow if user == \"alice\" and action != \"container_create\"\n";

TEST_CASE("inspected chunked body: forwarded whole, framed by its length") {
    fake_daemon d(sock_path("ich"), [](const seen_request&, int) { return ok("made", "201 Created"); });
    proxy p(sock_path("ich"), inspect_create);
    client c(p.port());
    c.send("POST /v1.41/containers/create HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\n"
           "Transfer-Encoding: chunked\r\n\r\n5\r\n{\"Ima\r\n8\r\nge\":\"x\"}\r\n0\r\n\r\n");
    CHECK(c.answer() == "201 made");
    auto seen = d.seen();
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].body == "{\"Image\":\"x\"}");
    CHECK_FALSE(seen[0].chunked);
}

TEST_CASE("inspected chunked body with a trailer: 400, nothing forwarded") {
    fake_daemon d(sock_path("itr"), [](const seen_request&, int) { return ok("made", "201 Created"); });
    proxy p(sock_path("itr"), inspect_create);
    client c(p.port());
    c.send("POST /v1.41/containers/create HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\n"
           "Transfer-Encoding: chunked\r\n\r\nd\r\n{\"Image\":\"x\"}\r\n0\r\nX-Extra: 1\r\n\r\n");
    auto a = c.answer();
    CHECK(a.starts_with("400 "));
    CHECK(a.find("chunked trailer fields") != std::string::npos);
    CHECK(d.seen().empty());
}

TEST_CASE("inspected chunked body over --max-body-inspect: 413, nothing forwarded") {
    fake_daemon d(sock_path("big"), [](const seen_request&, int) { return ok("made", "201 Created"); });
    proxy p(sock_path("big"), inspect_create);
    p.cfg.max_body_inspect = 64;
    client c(p.port());
    const std::string body = "{\"Image\":\"x\",\"Env\":[\"" + std::string(200, 'a') + "\"]}";
    c.send(fmt::format("POST /v1.41/containers/create HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\n"
                       "Transfer-Encoding: chunked\r\n\r\n{:x}\r\n{}\r\n0\r\n\r\n",
                       body.size(), body));
    auto a = c.answer();
    CHECK(a.starts_with("413 "));
    CHECK(a.find("--max-body-inspect") != std::string::npos);
    CHECK(d.seen().empty());
}

TEST_CASE("an image's resource.name is the reference the request used, not dockerd's first RepoTag") {
    fake_daemon d(sock_path("img"), [](const seen_request& r, int) {
        if (r.target.starts_with("/images/") && r.target.ends_with("/json") && r.target.find("/v1.41/") == std::string::npos)
            return ok(R"({"Id":"sha256:0123","RepoTags":["aaa/x:latest","prod:1"]})");
        return ok("inspected");
    });
    proxy p(sock_path("img"),
            "default deny\nrule prod_only: allow if user == \"alice\" and action == \"image_inspect\" and "
            "resource.name == \"prod:1\"\n");
    client c(p.port());
    CHECK(c.get("/v1.41/images/prod:1/json") == "200 inspected");
    // The same image by its other tag: the rule reads the name used, so it does not match.
    CHECK(c.get("/v1.41/images/aaa/x:latest/json").starts_with("403 "));
}

TEST_CASE("hand-off: dockerd gets the proxy's signed header on forwarded requests and inspects, never a client's") {
    fake_daemon d(sock_path("hand"), [](const seen_request& r, int) {
        if (r.target == "/containers/web/json") return ok(R"({"Id":"0123abcd","Name":"/web","Config":{"Labels":{}}})");
        return ok("inspected");
    });
    const handoff::key k{std::string(40, 'k')};
    handoff::signer signer(k);
    proxy p(sock_path("hand"), "default deny\nrule by_name: allow if action == \"container_inspect\" and "
                               "resource.name == \"web\"\n", {}, &signer);
    client c(p.port());
    c.send("GET /v1.41/containers/web/json HTTP/1.1\r\nHost: d\r\nX-Dockpol-Decision: forged.00\r\n"
           "x-dockpol-decision: again.11\r\nX-Dockpol-Lookup: guess\r\n\r\n");
    CHECK(c.answer() == "200 inspected");
    auto seen = d.seen();
    REQUIRE(seen.size() == 2);
    handoff::verifier v(k);
    // The proxy's lookup, then the request forwarded by the full id: one header each, signed for exactly that.
    CHECK(seen[0].target == "/containers/web/json");
    REQUIRE(seen[0].handoff.size() == 1);
    CHECK(v.verify(seen[0].handoff[0], "GET", "/containers/web/json") == "");
    CHECK(seen[1].target == "/v1.41/containers/0123abcd/json");
    REQUIRE(seen[1].handoff.size() == 1);
    CHECK(v.verify(seen[1].handoff[0], "GET", "/v1.41/containers/0123abcd/json") == "");
    CHECK_FALSE(seen[1].had_lookup_header);
    // Used once: the same header again is refused.
    CHECK(v.verify(seen[1].handoff[0], "GET", "/v1.41/containers/0123abcd/json") == "hand-off token already used");
}

TEST_CASE("hand-off: without --handoff-key a client's X-Dockpol headers are still dropped") {
    fake_daemon d(sock_path("hand2"), [](const seen_request&, int) { return ok("fine"); });
    proxy p(sock_path("hand2"), allow_all);
    client c(p.port());
    c.send("GET /v1.41/version HTTP/1.1\r\nHost: d\r\nX-DOCKPOL-DECISION: forged.00\r\nX-Dockpol-Lookup: g\r\n\r\n");
    CHECK(c.answer() == "200 fine");
    auto seen = d.seen();
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].handoff.empty());
    CHECK_FALSE(seen[0].had_lookup_header);
}

// Ownership: what dockerd receives is the rewritten request, framed for its new length.
const std::string own_policy = "default deny\nowner label \"dockpol.owner\"\n"
                               "rule alice_own: allow own if user == \"alice\" and "
                               "action in {\"container_create\", \"container_list\"}\n";

TEST_CASE("ownership: the create body reaches dockerd with the owner label, the list with the owner filter") {
    fake_daemon d(sock_path("own"), [](const seen_request&, int) { return ok("fine"); });
    proxy p(sock_path("own"), own_policy);
    client c(p.port());
    const std::string body = "{\"Image\":\"x\"}";
    c.send(fmt::format("POST /v1.41/containers/create HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\n"
                       "Content-Length: {}\r\n\r\n{}", body.size(), body));
    CHECK(c.answer() == "200 fine");
    CHECK(c.get("/v1.41/containers/json?all=1") == "200 fine");
    auto seen = d.seen();
    REQUIRE(seen.size() == 2);
    // Parsed by Beast with the forwarded Content-Length: the whole new body, nothing more.
    CHECK(seen[0].body == "{\"Labels\":{\"dockpol.owner\":\"alice\"},\"Image\":\"x\"}");
    CHECK(seen[1].target ==
          "/v1.41/containers/json?all=1&filters=%7B%22label%22%3A%7B%22dockpol.owner%3Dalice%22%3Atrue%7D%7D");
}

// ---- shadow bundle: decides next to the live one, never the answer -------------

const std::string shadow_no_list = "default allow\nrule no_list: deny if action == \"container_list\"\n";

TEST_CASE("shadow: a shadow denying what the live allows changes nothing for the client; the disagreement is counted and audited") {
    fake_daemon d(sock_path("sh1"), [](const seen_request& r, int) { return echo_path(r); });
    proxy p(sock_path("sh1"), allow_all, shadow_no_list);
    client c(p.port());
    CHECK(c.get("/v1.41/containers/json") == "200 json");
    // Agreement: both allow (by different rules), so nothing is counted as a disagreement nor audited.
    CHECK(c.get("/v1.41/containers/web/json") == "200 web");
    p.wait_compared(2);
    CHECK(d.seen().size() == 2);
    const auto& t = p.shadow->tally;
    CHECK(t.disagreements() == 1);
    CHECK(t.disagreements(rt::action_id_of("container_list"), 0, 1) == 1);
    CHECK(t.shadow_decisions(0) == 1);
    CHECK(t.shadow_decisions(1) == 1);
    auto lines = p.audit_lines();
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].find(R"("decision":"allow","rule":"alice")") != std::string::npos);
    CHECK(lines[0].find(R"("shadow":{"decision":"deny","rule":"no_list","revision":"shadow-rev"})") != std::string::npos);
    CHECK(lines[1].find("\"shadow\"") == std::string::npos);

    auto j = nlohmann::json::parse(shadow_status_json(*p.shadow));
    CHECK(j["revision"] == "shadow-rev");
    CHECK(j["requests"] == 2);
    CHECK(j["disagreements"] == 1);
    REQUIRE(j["by_action"].size() == 1);
    CHECK(j["by_action"][0] == nlohmann::json{{"action", "container_list"}, {"live", "allow"}, {"shadow", "deny"},
                                              {"live_rule", "alice"}, {"shadow_rule", "no_list"}, {"count", 1}});
    REQUIRE(j["examples"].size() == 1);
    CHECK(j["examples"][0]["user"] == "alice");
    CHECK(j["examples"][0]["shadow"]["rule"] == "no_list");
    CHECK(j["examples"][0]["live"]["decision"] == "allow");

    auto m = render_metrics(p.stats, p.stats.latency, "test", p.shadow.get());
    CHECK(m.find("dockpol_shadow_disagreements_total{action=\"container_list\",live=\"allow\",shadow=\"deny\"} 1\n") !=
          std::string::npos);
    CHECK(m.find("dockpol_shadow_bundle_info{revision=\"shadow-rev\"} 1\n") != std::string::npos);
}

const std::string shadow_no_priv =
    "default allow\nrule no_priv: deny if action == \"container_create\" and container.privileged\n";

TEST_CASE("shadow: a body only the shadow reads is read within --max-body-inspect and forwarded unchanged; "
          "a chunked or larger one is streamed and the shadow decides error") {
    fake_daemon d(sock_path("sh2"), [](const seen_request&, int) { return ok("created", "201 Created"); });
    proxy p(sock_path("sh2"), allow_all, shadow_no_priv);
    p.cfg.max_body_inspect = 64;
    client c(p.port());
    const std::string priv = R"({"Image":"x","HostConfig":{"Privileged":true}})";
    const auto create = [&](const std::string& framing, const std::string& body) {
        c.send("POST /v1.41/containers/create HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\n" + framing +
               "\r\n\r\n" + body);
        return c.answer();
    };
    CHECK(create(fmt::format("Content-Length: {}", priv.size()), priv) == "201 created");
    CHECK(create("Transfer-Encoding: chunked", fmt::format("{:x}\r\n{}\r\n0\r\n\r\n", priv.size(), priv)) ==
          "201 created");
    const std::string big = R"({"Image":"x","HostConfig":{"Privileged":true},"Env":[")" + std::string(64, 'a') + "\"]}";
    CHECK(create(fmt::format("Content-Length: {}", big.size()), big) == "201 created");
    p.wait_compared(3);
    auto seen = d.seen();
    REQUIRE(seen.size() == 3);
    CHECK(seen[0].body == priv);
    CHECK_FALSE(seen[0].chunked);
    CHECK(seen[1].body == priv);
    CHECK(seen[1].chunked);   // streamed as the live would: the shadow did not read it
    CHECK(seen[2].body == big);
    const auto& t = p.shadow->tally;
    CHECK(t.disagreements() == 3);
    CHECK(t.shadow_decisions(2) == 2);
    auto lines = p.audit_lines();
    REQUIRE(lines.size() == 3);
    CHECK(lines[0].find(R"("shadow":{"decision":"deny","rule":"no_priv")") != std::string::npos);
    CHECK(lines[1].find(R"("shadow":{"decision":"deny","rule":"error")") != std::string::npos);
    CHECK(lines[2].find(R"("shadow":{"decision":"deny","rule":"error")") != std::string::npos);
}

TEST_CASE("shadow: promotion makes the candidate live for the next request; the slot keeps it") {
    fake_daemon d(sock_path("sh3"), [](const seen_request& r, int) { return echo_path(r); });
    proxy p(sock_path("sh3"), allow_all, shadow_no_list);
    client c(p.port());
    CHECK(c.get("/v1.41/containers/json") == "200 json");
    REQUIRE_FALSE(p.shadow->promote_into(p.policy));
    CHECK(p.policy.status().revision == "shadow-rev");
    CHECK(p.policy.status().source == "shadow:shadow.dpb");
    // Same connection: the next request takes the new snapshot.
    CHECK(c.get("/v1.41/containers/json").starts_with("403 "));
    p.wait_compared(2);
    CHECK(p.shadow->tally.disagreements() == 1);   // after the promotion both decide alike
    CHECK(p.shadow->store.status().revision == "shadow-rev");
    CHECK(d.seen().size() == 1);
}

} // namespace sidecar_session_test
