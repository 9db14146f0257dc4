// Binding a request to a program's slots, and decide() = bind + evaluate.
#include <catch2/catch.hpp>

#include "dockpol/dsl.hpp"
#include "dockpol/rt/decide.hpp"
#include "runtime_test_util.hpp"

// Each test file is its own namespace: the test executables are unity builds.
namespace bind_test {

using namespace dockpol;
using rt::value;

namespace {

using runtime_test::compile_program;

rt::request base_request() {
    rt::request r;
    r.user = "bruce";
    r.groups = {"dev", "ops"};
    r.host = "prod-1";
    r.host_labels = {{"env", "prod"}, {"env", "second"}};
    r.method = "GET";
    r.path = "/containers/abc/json";
    r.api_version = "1.41";
    r.query = {{"all", "1"}, {"all", "0"}};
    r.action = "container_inspect";
    r.resource_id = "abc";
    return r;
}

// The value of slot `name` (as the disassembler spells it) after binding.
value slot(const rt::program& p, const rt::input& in, const std::string& name) {
    const auto& im = rt::image_of(p);
    for (std::size_t i = 0; i < im.slots.size(); ++i) {
        const auto& s = im.slots[i];
        if (std::string(rt::info(s.field).name) + (s.key.empty() ? "" : "." + s.key) == name) return in.slots[i];
    }
    FAIL("no slot " << name);
    return {};
}

value strs(std::vector<std::string> xs) {
    std::vector<value> v;
    for (auto& x : xs) v.push_back(value::string(x));
    return value::list(v);
}

} // namespace

TEST_CASE("request and resource fields bind in slot order") {
    auto p = compile_program(
        "rule r: allow if user == \"a\" and group == \"b\" and \"c\" in groups and host == \"d\" and host.labels.env == \"e\""
        " and host.labels.zone == \"f\" and method == \"g\" and path == \"h\" and api_version == \"i\" and query.all == \"j\""
        " and query.none == \"k\" and resource.id == \"l\" and resource.name == \"m\" and resource.labels.owner == \"n\"\n");
    auto req = base_request();
    auto b = rt::bind(*p, req);
    REQUIRE(b.index() == 0);
    const auto& in = std::get<0>(b);
    CHECK(in.action_id == *rt::find_action("container_inspect"));
    CHECK(slot(*p, in, "user") == value::string("bruce"));
    CHECK(slot(*p, in, "group") == strs({"dev", "ops"}));
    CHECK(slot(*p, in, "groups") == strs({"dev", "ops"}));
    CHECK(slot(*p, in, "host") == value::string("prod-1"));
    CHECK(slot(*p, in, "host.labels.env") == value::string("prod"));  // first match
    CHECK(slot(*p, in, "host.labels.zone") == value());
    CHECK(slot(*p, in, "method") == value::string("GET"));
    CHECK(slot(*p, in, "path") == value::string("/containers/abc/json"));
    CHECK(slot(*p, in, "api_version") == value::string("1.41"));
    CHECK(slot(*p, in, "query.all") == value::string("1"));  // first value
    CHECK(slot(*p, in, "query.none") == value());
    CHECK(slot(*p, in, "resource.id") == value::string("abc"));
    CHECK(slot(*p, in, "resource.name") == value());  // unknown until inspected
    CHECK(slot(*p, in, "resource.labels.owner") == value());

    req.resource_name = "web";
    req.resource_labels = {{"owner", "bruce"}};
    req.api_version = "";
    req.resource_id = "";
    auto b2 = std::get<0>(rt::bind(*p, req));
    CHECK(slot(*p, b2, "resource.name") == value::string("web"));
    CHECK(slot(*p, b2, "resource.labels.owner") == value::string("bruce"));
    CHECK(slot(*p, b2, "api_version") == value());  // no version prefix
    CHECK(slot(*p, b2, "resource.id") == value());   // no target
}

TEST_CASE("unknown action names bind to `unknown`") {
    auto p = compile_program("rule r: allow if action == \"unknown\"\n");
    auto req = base_request();
    req.action = "definitely_not_an_action";
    auto d = rt::decide(*p, req);
    CHECK(d.rule == "r");
    CHECK(d.eff == rt::effect::allow);
}

TEST_CASE("body facts come from fill_facts; a bad body denies by rule error") {
    auto p = compile_program("default allow\nrule r: deny if action == \"container_create\" and container.privileged\n");
    auto req = base_request();
    req.action = "container_create";
    req.body = R"({"Image":"alpine","HostConfig":{"Privileged":true}})";
    auto b = rt::bind(*p, req);
    REQUIRE(b.index() == 0);
    CHECK(slot(*p, std::get<0>(b), "container.privileged") == value::boolean(true));
    CHECK(rt::decide(*p, req).rule == "r");

    req.body = R"({"Image":"alpine","HostConfig":{"Privileged":false}})";
    CHECK(rt::decide(*p, req).rule == "default");

    req.body = "{";
    auto d = rt::decide(*p, req);
    CHECK(d.rule == "error");
    CHECK(d.eff == rt::effect::deny);
    CHECK(d.rule_index == -1);
    CHECK_FALSE(d.reason.empty());

    // Facts of other actions stay absent; no body needed.
    req.action = "container_list";
    req.body.reset();
    CHECK(rt::decide(*p, req).rule == "default");
    CHECK(rt::needs_body(*p, *rt::find_action("container_create")));
    CHECK_FALSE(rt::needs_body(*p, *rt::find_action("container_list")));
}

} // namespace bind_test
