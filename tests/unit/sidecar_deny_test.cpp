// The bodies dockpold answers with itself: the docker CLI prints `message`.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "proxy/deny_response.hpp"

// Each test file is its own namespace: the test executables are unity builds.
namespace sidecar_deny_test {

using namespace dockpol::sidecar;

TEST_CASE("denial message has the exact CLI-facing wording") {
    CHECK(denial_message("image_create", "bruce@example.com", "devs_rule") ==
          "[dockpol] The command 'image_create' denied for user 'bruce@example.com' by rule 'devs_rule'");
}

TEST_CASE("denial body is one JSON object with only `message`") {
    auto j = nlohmann::json::parse(denial_body("container_delete", "bob", "default"));
    REQUIRE(j.is_object());
    CHECK(j.size() == 1);
    CHECK(j["message"] == "[dockpol] The command 'container_delete' denied for user 'bob' by rule 'default'");
}

TEST_CASE("names are JSON-escaped, never able to break the object") {
    std::string user = "a\"b\\c\n\x01";
    auto body = denial_body("x", user, "r");
    auto j = nlohmann::json::parse(body);
    CHECK(j["message"] == "[dockpol] The command 'x' denied for user '" + user + "' by rule 'r'");
    CHECK(body.find('\n') == body.size() - 1);
}

TEST_CASE("bad request and upstream bodies carry their reason") {
    CHECK(nlohmann::json::parse(bad_request_body("encoded slash in path"))["message"] ==
          "[dockpol] bad request: encoded slash in path");
    CHECK(nlohmann::json::parse(upstream_error_body("connection refused"))["message"] ==
          "[dockpol] upstream error: connection refused");
}

TEST_CASE("UTF-8 passes through unchanged") {
    auto j = nlohmann::json::parse(denial_body("x", "J\xc3\xbcrgen", "r"));
    CHECK(j["message"].get<std::string>().find("J\xc3\xbcrgen") != std::string::npos);
}

} // namespace sidecar_deny_test
