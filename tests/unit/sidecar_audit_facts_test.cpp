// The audit line's `facts` as dockpold writes them: what rt::decide read,
// handed over without a second bind, placed before `status`, left out when
// no decision was evaluated.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "audit_log.hpp"
#include "plugin/plugin_decide.hpp"
#include "dockpol/dsl.hpp"
#include "dockpol/rt/decide.hpp"
#include "runtime_test_util.hpp"

// Each test file is its own namespace: the test executables are unity builds.
namespace sidecar_audit_facts_test {

using namespace dockpol;
using namespace dockpol::sidecar;

TEST_CASE("format_audit_line writes the decision's facts, and none without a bound input") {
    const auto prog = runtime_test::compile_program(
        "default allow\n"
        "rule no_priv: deny if action == \"container_create\" and container.privileged\n"
        "rule dev: allow if group == \"dev\" and query.name == \"x\"\n");
    auto q = runtime_test::routed_request("alice", {"dev"}, "POST", "/v1.41/containers/create?name=x",
                                          R"({"Image":"bb","HostConfig":{"Privileged":true}})");
    q.objects_known = true;
    std::optional<rt::input> bound;
    const auto d = rt::decide(*prog, q, &bound);
    CHECK(d.rule == "no_priv");
    REQUIRE(bound);
    // The handed-over input is what bind gives: no second bind needed, none done.
    CHECK(bound->slots.size() == rt::image_of(*prog).slots.size());

    const std::vector<std::string> groups{"dev"};
    audit_event e;
    e.user = "alice";
    e.groups = &groups;
    e.action = "container_create";
    e.decision = "deny";
    e.rule = d.rule;
    e.status = 403;
    e.facts = {&rt::image_of(*prog), &*bound};
    const std::string line = format_audit_line(e);
    const auto j = nlohmann::json::parse(line);
    CHECK(j["facts"] == nlohmann::json::parse(R"({"container.privileged":true,"query.name":"x"})"));
    CHECK_FALSE(j.contains("facts_truncated"));
    CHECK(line.find("\"facts\":") < line.find("\"status\":"));

    // A request refused before its decision was evaluated records no facts at all.
    const auto refused = rt::decide(*prog, [&] { auto r = q; r.body = "{"; return r; }(), &bound);
    CHECK(refused.rule == "error");
    CHECK_FALSE(bound);
    e.facts = {};
    CHECK_FALSE(nlohmann::json::parse(format_audit_line(e)).contains("facts"));
}

TEST_CASE("plugin mode hands over the facts its decision read too") {
    const auto prog = runtime_test::compile_program(
        "default allow\n"
        "rule no_priv: deny if action == \"container_create\" and container.privileged\n");
    plugin::authz_request r;
    r.method = "POST";
    r.uri = "/v1.41/containers/create";
    r.headers = {{"Content-Type", "application/json"}};
    r.body = R"({"Image":"bb","HostConfig":{"Privileged":true}})";
    const auto o = plugin::plugin_decide(*prog, r, plugin::plugin_settings{});
    CHECK(o.rule == "no_priv");
    REQUIRE(o.bound);
    std::string line = "{";
    rt::append_recorded_facts(line, rt::image_of(*prog), *o.bound);
    line.erase(1, 1);   // the leading comma of an appended key
    CHECK(nlohmann::json::parse(line + "}")["facts"] == nlohmann::json::parse(R"({"container.privileged":true})"));
    // Refused before deciding (no body where the policy reads one): nothing bound.
    r.body.reset();
    const auto refused = plugin::plugin_decide(*prog, r, plugin::plugin_settings{});
    CHECK(refused.rule == "error");
    CHECK_FALSE(refused.bound);
}

} // namespace sidecar_audit_facts_test
