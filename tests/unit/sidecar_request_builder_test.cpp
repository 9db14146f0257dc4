// What dockpold forwards and what it refuses, without sockets: the target is
// rewritten to the looked-up id per kind (not for `rm --link`, not for images
// or exec ids), the query is kept byte for byte, and form bodies, trailers and
// repeated filters are refused. The lookup op is run against a fake daemon on
// a socketpair: interim answers are skipped and a connection with anything
// left unread is never reported reusable.
#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/connect_pair.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http.hpp>

#include <sstream>
#include <thread>

#include "proxy/forward_request.hpp"
#include "proxy/forward_target.hpp"
#include "proxy/lookup_op.hpp"
#include "proxy/request_refusals.hpp"
#include "proxy/resource_lookup.hpp"

// Each test file is its own namespace: the test executables are unity builds.
namespace sidecar_request_builder_test {

using namespace dockpol;
using namespace dockpol::sidecar;

namespace {

const std::string full = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

std::string rewritten(std::string_view method, std::string_view target, std::string_view id = full) {
    auto r = rt::route(method, target);
    REQUIRE(r.ok);
    if (!rewrites_target(r)) return "(kept)";
    return forward_target(method, target, r, id);
}

// The head dockerd receives for `raw_head` under `plan`, as bytes.
std::string forwarded(std::string_view raw_head, const forward_plan& plan) {
    namespace http = boost::beast::http;
    http::request_parser<http::empty_body> p;
    p.eager(false);
    boost::beast::error_code ec;
    p.put(boost::asio::buffer(raw_head.data(), raw_head.size()), ec);
    REQUIRE(p.is_header_done());
    auto h = p.release().base();
    prepare_forward_head(h, plan);
    std::ostringstream os;
    os << h;
    return os.str();
}

} // namespace

TEST_CASE("forwarded head: new target, no Expect, every other field as sent and in order") {
    const std::string head = "POST /v1.41/containers/web/exec?x=%41 HTTP/1.1\r\nHost: d\r\nX-B: 2\r\n"
                             "Expect: 100-continue\r\nUser-Agent: Docker-Client\r\nContent-Length: 2\r\n\r\n";
    CHECK(forwarded(head, {"/v1.41/containers/" + full + "/exec?x=%41", false, 0}) ==
          "POST /v1.41/containers/" + full + "/exec?x=%41 HTTP/1.1\r\nHost: d\r\nX-B: 2\r\n"
          "User-Agent: Docker-Client\r\nContent-Length: 2\r\n\r\n");
    // An empty plan target keeps the target as sent.
    CHECK(forwarded(head, {"", false, 0}).starts_with("POST /v1.41/containers/web/exec?x=%41 HTTP/1.1\r\n"));
}

TEST_CASE("forwarded head: a body read whole goes by its length, never chunked") {
    const std::string chunked = "POST /containers/create HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked\r\n"
                                "Content-Type: application/json\r\n\r\n";
    CHECK(forwarded(chunked, {"", true, 17}) ==
          "POST /containers/create HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\nContent-Length: 17\r\n\r\n");
    // A rewritten body changes the length the client declared.
    const std::string sized = "POST /containers/create HTTP/1.1\r\nContent-Length: 2\r\nHost: d\r\n\r\n";
    CHECK(forwarded(sized, {"", true, 40}) == "POST /containers/create HTTP/1.1\r\nHost: d\r\nContent-Length: 40\r\n\r\n");
    // A streamed body keeps the client's framing.
    CHECK(forwarded(chunked, {"", false, 0}) == chunked);
}

TEST_CASE("the path target is forwarded as the full id for every kind dockerd resolves by name") {
    struct row { const char* method; const char* target; std::string want; };
    const row rows[] = {
        {"POST", "/v1.43/containers/web/exec", "/v1.43/containers/" + full + "/exec"},
        {"POST", "/containers/web/start", "/containers/" + full + "/start"},
        {"GET", "/v1.41/containers/abc/json?size=1", "/v1.41/containers/" + full + "/json?size=1"},
        {"DELETE", "/containers/web?force=1&v=1", "/containers/" + full + "?force=1&v=1"},
        {"DELETE", "/containers/web/checkpoints/cp%201", "/containers/" + full + "/checkpoints/cp%201"},
        {"POST", "/networks/net1/connect", "/networks/" + full + "/connect"},
        {"DELETE", "/volumes/data?force=true", "/volumes/" + full + "?force=true"},
        {"POST", "/services/svc/update?version=3", "/services/" + full + "/update?version=3"},
        {"POST", "/nodes/n1/update?version=9", "/nodes/" + full + "/update?version=9"},
        {"DELETE", "/secrets/s1", "/secrets/" + full},
        {"DELETE", "/configs/c1", "/configs/" + full},
        {"POST", "/plugins/vieux/sshfs:latest/enable?timeout=0", "/plugins/" + full + "/enable?timeout=0"},
    };
    for (const auto& r : rows) {
        INFO(r.method << " " << r.target);
        CHECK(rewritten(r.method, r.target) == r.want);
    }
}

TEST_CASE("the query is kept byte for byte, escapes and order included") {
    const std::string q = "?filters=%7B%22a%22%3A1%7D&x=1&x=2&empty=&flag";
    CHECK(rewritten("GET", "/v1.41/containers/web/logs" + q) == "/v1.41/containers/" + full + "/logs" + q);
    CHECK(rewritten("POST", "/containers/web/kill?") == "/containers/" + full + "/kill?");
}

TEST_CASE("rm --link names a link, images a reference, exec an exact id: no rewrite") {
    CHECK(rewritten("DELETE", "/containers/parent/alias?link=1") == "(kept)");
    CHECK(rewritten("DELETE", "/containers/parent/alias?link=True") == "(kept)");
    CHECK(rewritten("DELETE", "/containers/web?link=0") == "/containers/" + full + "?link=0");
    CHECK(rewritten("DELETE", "/containers/web?link=false") == "/containers/" + full + "?link=false");
    CHECK(rewritten("GET", "/images/busybox:latest/json") == "(kept)");
    CHECK(rewritten("POST", "/exec/abc/start") == "(kept)");
}

TEST_CASE("an id that cannot be addressed exactly builds no target") {
    CHECK(rewritten("POST", "/containers/web/start", "") == "");
    // A `/` in a one-segment id would route elsewhere; the router's own proof refuses it.
    CHECK(rewritten("POST", "/services/svc/update", "a/b") == "");
}

TEST_CASE("form bodies are refused in every spelling") {
    const char* refused[] = {
        "application/x-www-form-urlencoded",
        "Application/X-WWW-Form-URLEncoded; charset=utf-8",
        "APPLICATION/X-WWW-FORM-URLENCODED",
        "  application/x-www-form-urlencoded  ;x=y",
        "multipart/form-data; boundary=x",
        "Multipart/Form-Data",
        "multipart/form-data;boundary=\"a;b\"",
        "application/x-www-form-urlencoded\xc2\xa0",   // Go trims Unicode space
    };
    for (auto v : refused) {
        INFO(v);
        CHECK_FALSE(content_type_refusal(v).empty());
    }
    const char* allowed[] = {"application/json", "application/x-tar", "text/plain", "",
                             "application/x-www-form-urlencodedx", "multipart/mixed; boundary=x",
                             "application/json; note=application/x-www-form-urlencoded"};
    for (auto v : allowed) {
        INFO(v);
        CHECK(content_type_refusal(v).empty());
    }
}

TEST_CASE("a repeated filters parameter is refused, other repeats are not") {
    CHECK_FALSE(query_refusal(rt::route("GET", "/containers/json?filters=%7B%7D&filters=%7B%7D").query).empty());
    CHECK(query_refusal(rt::route("GET", "/containers/json?filters=%7B%7D").query).empty());
    CHECK(query_refusal(rt::route("GET", "/images/json?x=1&x=2").query).empty());
}

TEST_CASE("trailer fields are seen as header fields added by the body") {
    namespace http = boost::beast::http;
    auto fields_after = [](std::string_view wire, std::size_t& head_fields) {
        http::request_parser<http::string_body> p;
        boost::beast::error_code ec;
        auto n = p.put(boost::asio::buffer(wire.data(), wire.size()), ec);
        REQUIRE_FALSE(ec);
        head_fields = static_cast<std::size_t>(std::distance(p.get().begin(), p.get().end()));
        p.eager(true);
        p.put(boost::asio::buffer(wire.data() + n, wire.size() - n), ec);
        REQUIRE((!ec && p.is_done()));
        return static_cast<std::size_t>(std::distance(p.get().begin(), p.get().end()));
    };
    struct row { std::string wire; bool refused; };
    const std::string h = "POST /containers/create HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked\r\n\r\n";
    const row rows[] = {
        {h + "2\r\n{}\r\n0\r\n\r\n", false},
        {h + "2\r\n{}\r\n0\r\nExpect: 100-continue\r\n\r\n", true},
        {h + "2\r\n{}\r\n0\r\nX-A: 1\r\nX-B: 2\r\n\r\n", true},
        {h + "2\r\n{}\r\n0\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n", true},
    };
    for (const auto& r : rows) {
        INFO(r.wire);
        std::size_t head = 0;
        auto after = fields_after(r.wire, head);
        CHECK(trailer_refusal(head, after).empty() == !r.refused);
    }
}

TEST_CASE("inspect answers give the exact id per kind, every RepoTag and the raw JSON") {
    auto c = parse_inspect("container", R"({"Id":"c1full","Name":"/web","Config":{"Labels":{"team":"a"}}})");
    REQUIRE(c);
    CHECK(c->id == "c1full");
    CHECK(c->name == "web");
    CHECK(c->raw.find("c1full") != std::string::npos);
    auto v = parse_inspect("volume", R"({"Name":"data","Labels":{}})");
    REQUIRE(v);
    CHECK(v->id == "data");
    auto s = parse_inspect("service", R"({"ID":"s1full","Spec":{"Name":"svc"}})");
    REQUIRE(s);
    CHECK(s->id == "s1full");
    CHECK(s->name == "svc");
    auto e = parse_inspect("exec", R"({"ID":"e1","ContainerID":"c1full"})");
    REQUIRE(e);
    CHECK(e->id == "c1full");
    auto i = parse_inspect("image", R"({"Id":"sha256:x","RepoTags":["a:1","b:2"]})");
    REQUIRE(i);
    CHECK(i->names == std::vector<std::string>{"a:1", "b:2"});
    CHECK(i->name == "a:1");
}

namespace {

using unix_socket = boost::asio::local::stream_protocol::socket;

// Runs async_lookup for `paths` against a fake daemon that reads one request per
// answer and writes the answer bytes; returns the items and the result.
struct lookup_run {
    boost::beast::error_code ec;
    lookup_result res;
    std::vector<lookup_item> items;
    std::size_t leftover = 0;
};

lookup_run run_lookup(std::vector<std::string> answers, std::size_t n_items) {
    boost::asio::io_context ioc;
    unix_socket a(ioc), b(ioc);
    boost::asio::local::connect_pair(a, b);
    std::thread daemon([&b, answers] {
        boost::asio::streambuf in;
        for (const auto& ans : answers) {
            boost::system::error_code ec;
            boost::asio::read_until(b, in, "\r\n\r\n", ec);
            if (ec) return;
            in.consume(in.size());
            boost::asio::write(b, boost::asio::buffer(ans), ec);
        }
        // The daemon is done: a reader still waiting for bytes gets EOF, not a hang.
        boost::system::error_code ignored;
        b.shutdown(unix_socket::shutdown_send, ignored);
    });
    lookup_run out;
    for (std::size_t i = 0; i < n_items; ++i)
        out.items.push_back(lookup_item{"container", "web" + std::to_string(i), "/containers/web/json", 0, {}, {}});
    boost::beast::flat_buffer buf;
    async_lookup(a, buf, out.items, [&](boost::beast::error_code ec, lookup_result r) {
        out.ec = ec;
        out.res = r;
    });
    ioc.run();
    out.leftover = buf.size();
    a.close();
    daemon.join();
    return out;
}

const std::string ok_json = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"Id\":\"c1\"}";

} // namespace

TEST_CASE("lookup: answers are read in turn and the connection stays reusable") {
    auto r = run_lookup({ok_json, ok_json}, 2);
    REQUIRE_FALSE(r.ec);
    CHECK(r.res.reusable);
    CHECK(r.items[0].status == 200);
    CHECK(r.items[1].body == "{\"Id\":\"c1\"}");
}

TEST_CASE("lookup: an interim 100 is skipped, never taken for the answer") {
    auto r = run_lookup({"HTTP/1.1 100 Continue\r\n\r\n" + ok_json, ok_json}, 2);
    REQUIRE_FALSE(r.ec);
    CHECK(r.items[0].status == 200);
    CHECK(r.items[1].status == 200);
    CHECK(r.items[1].body == "{\"Id\":\"c1\"}");
    CHECK(r.res.reusable);
}

TEST_CASE("lookup: an over-long answer leaves bytes unread and is not reusable") {
    auto r = run_lookup({ok_json + "garbage"}, 1);
    REQUIRE_FALSE(r.ec);
    CHECK(r.items[0].status == 200);
    CHECK_FALSE(r.res.reusable);
}

TEST_CASE("lookup: Connection: close is not reusable; a short answer is an error") {
    auto closing = run_lookup({"HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}"}, 1);
    REQUIRE_FALSE(closing.ec);
    CHECK(closing.items[0].status == 404);
    CHECK_FALSE(closing.res.reusable);
    auto short_body = run_lookup({"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{\"Id\":"}, 1);
    CHECK(short_body.ec);
}

} // namespace sidecar_request_builder_test
