// REQUEST.json → rt::request for dockpolc: routing like dockpold, body vs
// body_raw, explicit actions, and the errors that make eval/test exit 2.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <optional>
#include <string>

#include "cli/request_json.hpp"

// Each test file is its own namespace: the test executables are unity builds.
namespace cli_request_json_test {

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
          "unknown key \"resource.id\" (expected name, labels, names, inspect)");
    CHECK(error_of(from(R"({"user":"u"})"), request_error::malformed) ==
          "a request needs \"path\" (with \"method\") or \"action\"");
}

TEST_CASE("malformed JSON text names the file and the byte") {
    auto r = dsl::cli::parse_json_text("req.json", R"({"user": })");
    REQUIRE(r.index() == 1);
    CHECK(std::get<std::string>(r).rfind("req.json: malformed JSON at byte 10: parse error at line 1, column 10", 0) == 0);
}

TEST_CASE("resource.inspect: stored compact; name and labels derived per kind unless given") {
    struct row { const char* text; std::optional<std::string> name; rt::string_pairs labels; };
    const row rows[] = {
        // Containers: Name without its leading "/", Config.Labels.
        {R"({"method":"POST","path":"/containers/abc/stop","resource":{"inspect":
            {"Name":"/web","Config":{"Labels":{"env":"prod"}},"Labels":{"no":"x"}}}})",
         "web", {{"env", "prod"}}},
        // An exec's inspect is its container's.
        {R"({"method":"POST","path":"/exec/e1/start","resource":{"inspect":{"Name":"/db","Config":{"Labels":{}}}}})",
         "db", {}},
        // Images: the path's reference, Config.Labels.
        {R"({"method":"POST","path":"/images/team/app:1/push","resource":{"inspect":
            {"RepoTags":["team/app:1","team/app:latest"],"Config":{"Labels":{"team":"a"}}}}})",
         "team/app:1", {{"team", "a"}}},
        // Volumes and networks: Name, Labels at the top.
        {R"({"method":"DELETE","path":"/volumes/data","resource":{"inspect":{"Name":"data","Labels":{"k":"v"}}}})",
         "data", {{"k", "v"}}},
        {R"({"method":"DELETE","path":"/networks/n1","resource":{"inspect":{"Name":"front","Labels":{"k":"v"}}}})",
         "front", {{"k", "v"}}},
        // Given name and labels win over the inspect JSON.
        {R"({"method":"POST","path":"/containers/abc/stop","resource":{"name":"given","labels":{"a":"b"},
            "inspect":{"Name":"/web","Config":{"Labels":{"env":"prod"}}}}})",
         "given", {{"a", "b"}}},
        // Without a path the action's resource is the kind.
        {R"({"action":"container_stop","resource":{"inspect":{"Name":"/web"}}})", "web", {}},
    };
    for (const auto& r : rows) {
        INFO(r.text);
        const auto res = from(r.text);
        const auto& q = ok(res);
        REQUIRE(q.resource_inspect);
        CHECK(nlohmann::json::parse(*q.resource_inspect).is_object());
        CHECK(q.resource_inspect->find('\n') == std::string::npos);
        CHECK(q.resource_name == r.name);
        CHECK(q.resource_labels == r.labels);
    }
    const auto img = from(R"({"method":"POST","path":"/images/team/app:1/push","resource":{"inspect":
        {"RepoTags":["team/app:1","team/app:latest"]}}})");
    CHECK(ok(img).resource_names == std::vector<std::string>{"team/app:1", "team/app:latest"});
    const auto given = from(R"({"method":"POST","path":"/images/x/push","resource":{"names":["a","b"],
        "inspect":{"RepoTags":["c"]}}})");
    CHECK(ok(given).resource_names == std::vector<std::string>{"a", "b"});
    CHECK(ok(from(R"({"method":"POST","path":"/containers/a/stop","resource":{"inspect":{"Name":"/w"}}})"))
              .resource_inspect == R"({"Name":"/w"})");
}

TEST_CASE("objects: KIND:NAME → compact inspect JSON; the list is the whole world") {
    const auto r = from(R"({"method":"POST","path":"/containers/create","body":{"Image":"a"},
        "objects":{"volume:data":{"Name":"data","Driver":"local"},"container:web":{"Name":"/web"},
                   "network:net1":{"Name":"net1"}}})");
    const auto& q = ok(r);
    CHECK(q.objects_known);
    CHECK(q.objects == rt::string_pairs{{"container:web", R"({"Name":"/web"})"},
                                        {"network:net1", R"({"Name":"net1"})"},
                                        {"volume:data", R"({"Driver":"local","Name":"data"})"}});
    // No "objects": nothing exists besides what the request carries.
    const auto none = from(R"({"method":"GET","path":"/containers/json"})");
    CHECK(ok(none).objects_known);
    CHECK(ok(none).objects.empty());
    struct row { const char* text; const char* error; };
    const row bad[] = {
        {R"({"action":"container_create","objects":[]})",
         "\"objects\" must be an object of KIND:NAME → inspect JSON, not array"},
        {R"({"action":"container_create","objects":{"data":{}}})",
         "\"objects\" key \"data\" must be KIND:NAME with KIND volume, container or network"},
        {R"({"action":"container_create","objects":{"image:x":{}}})",
         "\"objects\" key \"image:x\" must be KIND:NAME with KIND volume, container or network"},
        {R"({"action":"container_create","objects":{"volume:":{}}})",
         "\"objects\" key \"volume:\" must be KIND:NAME with KIND volume, container or network"},
        {R"({"action":"container_create","objects":{"volume:d":"x"}})",
         "\"objects\".\"volume:d\" must be an inspect JSON object, not string"},
        {R"({"action":"container_stop","resource":{"inspect":[]}})",
         "\"resource.inspect\" must be the target's inspect JSON object, not array"},
        {R"({"action":"container_stop","resource":{"names":"a"}})", "\"resource.names\" must be an array of strings, not string"},
        {R"({"action":"container_stop","resource":{"id":"a"}})",
         "unknown key \"resource.id\" (expected name, labels, names, inspect)"},
    };
    for (const auto& b : bad) {
        INFO(b.text);
        CHECK(error_of(from(b.text), request_error::malformed) == b.error);
    }
}

TEST_CASE("JSON nesting is bounded before nlohmann parses or serialises it") {
    using dsl::cli::json_too_deep_at;
    CHECK_FALSE(json_too_deep_at(R"({"a":[[[]]]})", 4));
    CHECK(json_too_deep_at(R"({"a":[[[[]]]]})", 4) == std::size_t{8});
    // Brackets inside strings, escaped quotes included, do not count.
    CHECK_FALSE(json_too_deep_at(R"({"a":"[[[[[[\"[[[[["})", 2));
    const std::string deep = std::string(100000, '[') + std::string(100000, ']');
    CHECK(json_too_deep_at(deep, dsl::cli::max_json_depth) == dsl::cli::max_json_depth);
    auto r = dsl::cli::parse_json_text("deep.json", deep);
    REQUIRE(r.index() == 1);
    CHECK(std::get<1>(r) == "deep.json: JSON nested more than 64 levels deep at byte 64 (max_json_depth)");
    // At the limit it parses.
    const std::string at_limit = std::string(64, '[') + std::string(64, ']');
    CHECK(dsl::cli::parse_json_text("ok.json", at_limit).index() == 0);
}

} // namespace cli_request_json_test
