// rt::decide and ownership: an `allow own` rule that fails its check passes
// the request to the next rule; creates are labelled whichever rule allowed
// them; a label set to someone else is an error; lists get the caller's filter;
// objects a request names are asked for (decision::lookups) before the check,
// together with the facts' own lookups; an unread body never proves ownership.
#include <catch2/catch.hpp>

#include "dockpol/dsl.hpp"
#include "dockpol/rt/decide.hpp"
#include "runtime_test_util.hpp"

// Each test file is its own namespace: the test executables are unity builds.
namespace decide_test {

using namespace dockpol;
using runtime_test::routed_request;

namespace {

const std::string policy = R"(default deny
owner label "dockpol.owner"
rule no_priv: deny if action == "container_create" and container.privileged
rule dev_own: allow own if group == "dev" and action in {"container_create", "container_exec", "container_list", "network_connect"}
rule ops_exec: allow if group == "ops" and action == "container_exec"
rule admins: allow if group == "admins"
)";

std::shared_ptr<const rt::program> prog() {
    static auto p = runtime_test::compile_program(policy);
    return p;
}

} // namespace

TEST_CASE("allow own: the target's owner decides; otherwise the next rule is tried") {
    auto r = routed_request("bob", {"dev", "ops"}, "POST", "/v1.41/containers/web/exec", R"({"Cmd":["sh"]})");
    r.resource_labels = {{"dockpol.owner", "bob"}};
    auto d = rt::decide(*prog(), r);
    CHECK(d.eff == rt::effect::allow);
    CHECK(d.rule == "dev_own");
    CHECK(d.own);
    // Someone else's container: dev_own does not hold, ops_exec (the next rule) decides.
    r.resource_labels = {{"dockpol.owner", "alice"}};
    d = rt::decide(*prog(), r);
    CHECK(d.rule == "ops_exec");
    CHECK_FALSE(d.own);
    // Without ops, nothing else matches: the default.
    r.groups = {"dev"};
    CHECK(rt::decide(*prog(), r).rule == "default");
    // Unowned: the same.
    r.resource_labels.clear();
    CHECK(rt::decide(*prog(), r).rule == "default");
}

TEST_CASE("every allowed create is labelled, whichever rule allowed it") {
    auto r = routed_request("alice", {"admins"}, "POST", "/v1.41/containers/create", R"({"Image":"bb"})");
    r.objects_known = true;
    auto d = rt::decide(*prog(), r);
    CHECK(d.rule == "admins");
    REQUIRE(d.forward_body);
    CHECK(*d.forward_body == R"({"Labels":{"dockpol.owner":"alice"},"Image":"bb"})");
    REQUIRE(d.rewrites.size() == 1);
    CHECK(d.rewrites[0].kind == "body");
    // Set to someone else: denied by rule error, nothing to forward.
    r.body = R"({"Image":"bb","labels":{"dockpol.owner":"bob"}})";
    d = rt::decide(*prog(), r);
    CHECK(d.eff == rt::effect::deny);
    CHECK(d.rule == "error");
    CHECK_FALSE(d.forward_body);
    // A denied create is not rewritten.
    r.body = R"({"Image":"bb","HostConfig":{"Privileged":true}})";
    d = rt::decide(*prog(), r);
    CHECK(d.rule == "no_priv");
    CHECK(d.rewrites.empty());
}

TEST_CASE("allow own on a list: the caller's label filter is forwarded") {
    auto r = routed_request("bob", {"dev"}, "GET", "/v1.41/containers/json?all=1");
    auto d = rt::decide(*prog(), r);
    CHECK(d.rule == "dev_own");
    REQUIRE(d.forward_filters);
    CHECK(*d.forward_filters == R"({"label":{"dockpol.owner=bob":true}})");
    // An admin's list is not narrowed.
    auto a = routed_request("alice", {"admins"}, "GET", "/v1.41/containers/json?all=1");
    CHECK_FALSE(rt::decide(*prog(), a).forward_filters);
    // Filters dockerd could not read: a bad request, never forwarded unfiltered.
    auto bad = routed_request("bob", {"dev"}, "GET", "/v1.41/containers/json?filters=%7Bnope");
    d = rt::decide(*prog(), bad);
    CHECK(d.rule == "error");
    CHECK(d.bad_request);
}

TEST_CASE("objects a create names are looked up first, with the facts' own lookups, then checked") {
    auto r = routed_request("bob", {"dev"}, "POST", "/v1.41/containers/create",
                  R"({"Image":"bb","HostConfig":{"Binds":["data:/d"],"NetworkMode":"alicenet"}})");
    auto d = rt::decide(*prog(), r);
    // One round for everything: the volume (a fact needs its driver) and the network (ownership).
    CHECK(d.rule == "error");
    CHECK(std::find(d.lookups.begin(), d.lookups.end(), "volume:data") != d.lookups.end());
    CHECK(std::find(d.lookups.begin(), d.lookups.end(), "network:alicenet") != d.lookups.end());
    r.objects_known = true;
    r.objects = {{"volume:data", R"({"Name":"data","Driver":"local","Labels":{"dockpol.owner":"bob"}})"},
                 {"network:alicenet", R"({"Name":"alicenet","Id":"n1","Labels":{"dockpol.owner":"alice"}})"}};
    CHECK(rt::decide(*prog(), r).rule == "default");
    r.objects[1].second = R"({"Name":"alicenet","Id":"n1","Labels":{"dockpol.owner":"bob"}})";
    d = rt::decide(*prog(), r);
    CHECK(d.rule == "dev_own");
    CHECK(d.forward_body);
}

TEST_CASE("network_connect under allow own needs the body it names a container in") {
    auto r = routed_request("bob", {"dev"}, "POST", "/v1.41/networks/bobnet/connect");
    r.resource_labels = {{"dockpol.owner", "bob"}};
    // Body not read: ownership cannot be shown, deny by rule error (fail closed).
    auto d = rt::decide(*prog(), r);
    CHECK(d.eff == rt::effect::deny);
    CHECK(d.rule == "error");
    r.body = R"({"Container":"alicebox"})";
    r.objects_known = true;
    r.objects = {{"container:alicebox", R"({"Id":"c1","Name":"/alicebox","Config":{"Labels":{"dockpol.owner":"alice"}}})"}};
    CHECK(rt::decide(*prog(), r).rule == "default");
    r.objects[0].second = R"({"Id":"c1","Name":"/alicebox","Config":{"Labels":{"dockpol.owner":"bob"}}})";
    CHECK(rt::decide(*prog(), r).rule == "dev_own");
}

TEST_CASE("the compiled program reads what ownership needs") {
    const auto& p = *prog();
    CHECK(rt::needs_body(p, rt::action_id(rt::action_code::container_create)));
    CHECK(rt::needs_body(p, rt::action_id(rt::action_code::network_connect)));
    CHECK(rt::needs_resource(p, rt::action_id(rt::action_code::container_exec)));
    CHECK(rt::needs_resource(p, rt::action_id(rt::action_code::network_connect)));
    // Every create of an ownable object is read (to label it), even with no rule about it.
    CHECK(rt::needs_body(p, rt::action_id(rt::action_code::secret_create)));
}

} // namespace decide_test
