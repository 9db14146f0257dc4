// Request-head validation: everything two HTTP parsers could read differently is a 400.
#include <catch2/catch.hpp>

#include "proxy/head_check.hpp"

// Each test file is its own namespace: the test executables are unity builds.
namespace sidecar_head_check_test {

using namespace dockpol::sidecar;

namespace {

std::string head(std::string_view request_line, std::initializer_list<std::string_view> fields) {
    std::string h(request_line);
    h += "\r\n";
    for (auto f : fields) {
        h += f;
        h += "\r\n";
    }
    h += "\r\n";
    return h;
}

std::string error_of(const std::string& h) {
    auto r = check_request_head(h);
    REQUIRE(r.error);
    return *r.error;
}

} // namespace

TEST_CASE("a docker CLI request passes and its framing is reported") {
    auto h = head("POST /v1.41/containers/create?name=web HTTP/1.1",
                  {"Host: api.moby.localhost", "User-Agent: Docker-Client/28.2.2 (linux)", "Content-Length: 1234",
                   "Content-Type: application/json"});
    auto r = check_request_head(h);
    REQUIRE_FALSE(r.error);
    CHECK(r.facts.method == "POST");
    CHECK(r.facts.target == "/v1.41/containers/create?name=web");
    CHECK(r.facts.version == 11);
    CHECK(r.facts.content_length == std::optional<std::uint64_t>(1234));
    CHECK_FALSE(r.facts.chunked);
    CHECK(r.facts.header_count == 4);
}

TEST_CASE("chunked, Expect and HTTP/1.0 without a body are accepted") {
    auto r = check_request_head(head("PUT /containers/x/archive?path=/ HTTP/1.1", {"Transfer-Encoding: chunked",
                                                                                  "Expect: 100-continue"}));
    REQUIRE_FALSE(r.error);
    CHECK(r.facts.chunked);
    CHECK(r.facts.expect_continue);
    auto r10 = check_request_head(head("GET /_ping HTTP/1.0", {}));
    REQUIRE_FALSE(r10.error);
    CHECK(r10.facts.version == 10);
}

TEST_CASE("ambiguous framing is refused") {
    CHECK(error_of(head("POST /x HTTP/1.1", {"Content-Length: 3", "Transfer-Encoding: chunked"})) ==
          "both Transfer-Encoding and Content-Length");
    CHECK(error_of(head("POST /x HTTP/1.1", {"Content-Length: 3", "Content-Length: 3"})) ==
          "multiple Content-Length fields");
    CHECK(error_of(head("POST /x HTTP/1.1", {"Content-Length: 3, 3"})) == "invalid Content-Length");
    CHECK(error_of(head("POST /x HTTP/1.1", {"Content-Length: -1"})) == "invalid Content-Length");
    CHECK(error_of(head("POST /x HTTP/1.1", {"Content-Length: 1234567890123456"})) == "invalid Content-Length");
    CHECK(error_of(head("POST /x HTTP/1.1", {"Transfer-Encoding: gzip, chunked"})) == "unsupported Transfer-Encoding");
    CHECK(error_of(head("POST /x HTTP/1.1", {"Transfer-Encoding: chunked", "Transfer-Encoding: chunked"})) ==
          "multiple Transfer-Encoding fields");
    CHECK(error_of(head("POST /x HTTP/1.0", {"Transfer-Encoding: chunked"})) == "chunked Transfer-Encoding in HTTP/1.0");
    CHECK(error_of(head("GET /x HTTP/1.1", {"Host: a", "Host: b"})) == "multiple Host fields");
    CHECK(error_of(head("GET /x HTTP/1.1", {"Expect: something-else"})) == "unsupported Expect");
}

TEST_CASE("malformed lines are refused") {
    CHECK(error_of(head("GET /x HTTP/1.1", {"X-A: b", " folded"})) == "obsolete header line folding");
    CHECK(error_of(head("GET /x HTTP/1.1", {"X-A : b"})) == "invalid header field name");
    CHECK(error_of(head("GET /x HTTP/1.1", {"NoColon"})) == "malformed header field");
    CHECK(error_of(head("GET /x HTTP/1.1", {": empty-name"})) == "malformed header field");
    CHECK(error_of(head("GET /x HTTP/1.1", {"X: a\x01" "b"})) == "control character in header field value");
    CHECK(error_of("GET /x HTTP/1.1\nHost: a\r\n\r\n") == "bare LF in header");
    CHECK(error_of("GET /x HTTP/1.1\r\nHost: a\rb\r\n\r\n") == "bare CR in header");
    CHECK(error_of(head("GET  /x HTTP/1.1", {})) == "malformed request line");
    CHECK(error_of(head("GET /x", {})) == "malformed request line");
    CHECK(error_of(head("G(T /x HTTP/1.1", {})) == "invalid method");
    CHECK(error_of(head("GET http://evil/x HTTP/1.1", {})) == "request target must start with /");
    CHECK(error_of(head("GET /x\x7f HTTP/1.1", {})) == "invalid byte in request target");
    CHECK(error_of(head("GET /x HTTP/2.0", {})) == "unsupported HTTP version");
    CHECK(error_of("\r\nGET /x HTTP/1.1\r\n\r\n") == "empty request line");
    CHECK(error_of("GET /x HTTP/1.1\r\n") == "incomplete header");
}

TEST_CASE("header count and target length limits hold at their bounds") {
    std::string fields;
    for (std::size_t i = 0; i < max_header_count; ++i) fields += "X-" + std::to_string(i) + ": v\r\n";
    auto at_limit = "GET /x HTTP/1.1\r\n" + fields + "\r\n";
    CHECK_FALSE(check_request_head(at_limit).error);
    auto over = "GET /x HTTP/1.1\r\n" + fields + "X-last: v\r\n\r\n";
    CHECK(error_of(over) == "too many header fields");

    std::string target = "/" + std::string(dockpol::rt::limits::max_target_bytes - 1, 'a');
    CHECK_FALSE(check_request_head(head("GET " + target + " HTTP/1.1", {})).error);
    // The router's own message: one limit, one wording (rt/limits.def).
    CHECK(error_of(head("GET " + target + "a HTTP/1.1", {})) ==
          "request target longer than " + std::to_string(dockpol::rt::limits::max_target_bytes) + " bytes");
}

} // namespace sidecar_head_check_test
