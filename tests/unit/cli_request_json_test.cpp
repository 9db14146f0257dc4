// REQUEST.json → rt::request for dockpolc: routing like dockpold, body vs
// body_raw, explicit actions, and the errors that make eval/test exit 2.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>

#include "dockpol/dsl/cli/request_json.hpp"

using namespace dockpol;
using dsl::cli::request_error;

namespace {
std::variant<rt::request, request_error> from(const char* text) {
    return dsl::cli::request_from_json(nlohmann::json::parse(text));
}
const rt::request& ok(const std::variant<rt::request, request_error>& r) {
    if (auto* e = std::get_if<request_error>(&r)) FAIL(e->message);
    return std::get<rt::request>(r);
}
std::string error_of(const std::variant<rt::request, request_error>& r, request_error::kind k) {
    REQUIRE(r.index() == 1);
    CHECK(std::get<request_error>(r).k == k);
    return std::get<request_error>(r).message;
}
} // namespace

TEST_CASE("method and path are routed like dockpold routes them") {
    const auto r = from(R"({"user":"bruce","groups":["dev","ops"],"host":"prod-1","host_labels":{"env":"prod"},
        "method":"POST","path":"/v1.41/images/registry.example.com/team/app:1/push?tag=1",
        "resource":{"name":"app","labels":{"owner":"bruce"}}})");
    const auto& q = ok(r);
    CHECK(q.user == "bruce");
    CHECK(q.groups == std::vector<std::string>{"dev", "ops"});
    CHECK(q.host_labels == rt::string_pairs{{"env", "prod"}});
    CHECK(q.method == "POST");
    CHECK(q.action == "image_push");
    CHECK(q.resource_id == "registry.example.com/team/app:1");
    CHECK(q.path == "/images/registry.example.com/team/app:1/push");
    CHECK(q.api_version == "1.41");
    CHECK(q.query == rt::string_pairs{{"tag", "1"}});
    CHECK(q.resource_name == "app");
    CHECK(q.resource_labels == rt::string_pairs{{"owner", "bruce"}});
    CHECK_FALSE(q.body);
}

TEST_CASE("body is serialised, body_raw kept byte for byte") {
    CHECK(ok(from(R"({"method":"POST","path":"/containers/create","body":{"Image":"a","HostConfig":{}}})")).body ==
          R"({"HostConfig":{},"Image":"a"})");
    CHECK(ok(from(R"({"method":"POST","path":"/containers/create","body_raw":"{\"a\":1, \"a\":2}"})")).body ==
          R"({"a":1, "a":2})");
    CHECK(error_of(from(R"({"path":"/x","body":{},"body_raw":""})"), request_error::malformed) ==
          "give \"body\" or \"body_raw\", not both");
}

TEST_CASE("an explicit action overrides the route, or stands alone") {
    CHECK(ok(from(R"({"method":"GET","path":"/containers/json","action":"image_list"})")).action == "image_list");
    // Keep the result alive: ok() returns a reference into it.
    const auto result = from(R"({"user":"u","action":"container_logs"})");
    const auto& alone = ok(result);
    CHECK(alone.action == "container_logs");
    CHECK(alone.path.empty());
    CHECK(error_of(from(R"({"action":"docker_ping"})"), request_error::malformed) ==
          "unknown action \"docker_ping\"; did you mean \"system_ping\"? (see dockpolc actions)");
    // A path without a method is a GET.
    CHECK(ok(from(R"({"path":"/_ping"})")).action == "system_ping");
}

TEST_CASE("requests dockpold would refuse with 400 are route errors") {
    const std::string m = error_of(from(R"({"method":"GET","path":"/containers/a%2Fb/json"})"), request_error::route);
    CHECK(m.rfind("bad request: ", 0) == 0);
    error_of(from(R"({"method":"GET","path":"/v1.12/containers/json"})"), request_error::route);
}

TEST_CASE("shape errors name the key") {
    CHECK(error_of(from("[]"), request_error::malformed) == "a request must be a JSON object, not array");
    CHECK(error_of(from(R"({"user":5,"path":"/"})"), request_error::malformed) ==
          "\"user\" must be a string, not number");
    CHECK(error_of(from(R"({"groups":["a",1],"path":"/"})"), request_error::malformed) ==
          "\"groups\" must hold strings only, found number");
    CHECK(error_of(from(R"({"host_labels":{"a":1},"path":"/"})"), request_error::malformed) ==
          "\"host_labels\".a must be a string, not number");
    CHECK(error_of(from(R"({"grups":[],"path":"/"})"), request_error::malformed).rfind("unknown key \"grups\"", 0) == 0);
    CHECK(error_of(from(R"({"resource":{"id":"x"},"path":"/"})"), request_error::malformed) ==
          "unknown key \"resource.id\" (expected name, labels)");
    CHECK(error_of(from(R"({"user":"u"})"), request_error::malformed) ==
          "a request needs \"path\" (with \"method\") or \"action\"");
}

TEST_CASE("malformed JSON text names the file and the byte") {
    auto r = dsl::cli::parse_json_text("req.json", R"({"user": })");
    REQUIRE(r.index() == 1);
    CHECK(std::get<std::string>(r).rfind("req.json: malformed JSON at byte 10: parse error at line 1, column 10", 0) == 0);
}
