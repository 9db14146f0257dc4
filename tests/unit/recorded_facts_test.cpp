// The audit line's `facts` (rt/recorded_facts.hpp) and their replay
// (dsl/cli/audit_replay.hpp): what rt::decide read, written the way dockpold
// writes it and read back, decides the same again; what was not recorded (or
// did not fit the bounds) is "not replayable", never guessed.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "cli/audit_replay.hpp"
#include "dockpol/dsl.hpp"
#include "dockpol/rt/decide.hpp"
#include "dockpol/rt/recorded_facts.hpp"
#include "runtime_test_util.hpp"

// Each test file is its own namespace: the test executables are unity builds.
namespace recorded_facts_test {

using namespace dockpol;
namespace cli = dockpol::dsl::cli;

namespace {

using runtime_test::compile_program;

rt::request make(std::string user, std::vector<std::string> groups, std::string method, std::string target,
                 std::optional<std::string> body = std::nullopt) {
    auto r = runtime_test::routed_request(std::move(user), std::move(groups), method, target, std::move(body));
    r.host = "dev-1";
    r.host_labels = {{"env", "dev"}};
    r.objects_known = true;
    return r;
}

// An audit line as dockpold writes it (the keys replay reads, then the facts).
std::string audit_line(const rt::program& p, const rt::request& r, const rt::decision& d,
                       const std::optional<rt::input>& bound) {
    nlohmann::ordered_json j;
    j["time"] = "2026-12-07T14:00:00.000Z";
    j["user"] = r.user;
    j["groups"] = r.groups;
    j["host"] = r.host;
    j["method"] = r.method;
    j["path"] = r.path;
    j["action"] = r.action;
    j["decision"] = d.eff == rt::effect::allow ? "allow" : "deny";
    j["rule"] = d.rule;
    std::string line = j.dump();
    line.pop_back();
    if (bound) rt::append_recorded_facts(line, rt::image_of(p), *bound);
    return line + "}";
}

cli::audit_record record_of(const std::string& line) {
    auto p = cli::parse_audit_line("a.log", 1, line);
    INFO(line);
    REQUIRE(p.kind == cli::parsed_line::event);
    return p.rec;
}

const std::string body_policy = R"(default deny
rule no_priv: deny if action == "container_create" and container.privileged
rule no_host: deny if host_access and not group == "admins"
rule no_binds: deny if action == "container_create" and any m in body.HostConfig.Mounts: m.Type == "bind" and m.Source == "/etc"
rule caps: deny if action == "container_create" and any c in container.cap_add: c == "CAP_SYS_ADMIN"
rule forced: deny if action == "container_delete" and query.force == "1" and not group == "admins"
rule dev_env: allow if group == "dev" and host.labels.env == "dev" and host matches "dev-*"
rule bob: allow if user == "bob" and body.Image == "busybox"
)";

} // namespace

TEST_CASE("record then replay decides as rt::decide did, body facts included") {
    auto p = compile_program(body_policy);
    const std::vector<rt::request> requests = {
        make("alice", {"dev"}, "GET", "/v1.41/containers/json"),
        make("alice", {"dev"}, "POST", "/v1.41/containers/create", R"({"Image":"busybox"})"),
        make("alice", {"dev"}, "POST", "/v1.41/containers/create", R"({"Image":"a","HostConfig":{"Privileged":true}})"),
        make("alice", {"admins"}, "POST", "/v1.41/containers/create",
             R"({"Image":"a","HostConfig":{"Binds":["/srv:/srv"]}})"),
        make("alice", {"dev"}, "POST", "/v1.41/containers/create",
             R"({"Image":"a","HostConfig":{"Mounts":[{"Type":"bind","Source":"/etc","Target":"/x"},{"Type":"volume","Source":"v","Target":"/y"}]}})"),
        make("alice", {"dev"}, "POST", "/v1.41/containers/create",
             R"({"Image":"a","HostConfig":{"CapAdd":["sys_admin"]}})"),
        make("carol", {"ops"}, "DELETE", "/v1.41/containers/web?force=1"),
        make("carol", {"admins"}, "DELETE", "/v1.41/containers/web?force=1"),
        make("bob", {}, "POST", "/v1.41/containers/create", R"({"Image":"busybox"})"),
        make("bob", {}, "POST", "/v1.41/containers/create", R"({"Image":"alpine"})"),
    };
    std::size_t allows = 0;
    for (const auto& r : requests) {
        std::optional<rt::input> bound;
        const auto d = rt::decide(*p, r, &bound);
        REQUIRE(bound);
        const auto line = audit_line(*p, r, d, bound);
        INFO(line);
        CHECK(line.find("\"facts_truncated\"") == std::string::npos);
        auto rep = cli::replay(*p, record_of(line));
        REQUIRE(rep.kind == cli::replay_result::decided);
        CHECK(rep.d.eff == d.eff);
        CHECK(rep.d.rule == d.rule);
        allows += d.eff == rt::effect::allow;
    }
    // The set exercises both outcomes and several rules.
    CHECK(allows == 3);
}

TEST_CASE("facts name slots as the policy spells them; absent is null; user, groups and host are the line's own") {
    auto p = compile_program(body_policy);
    auto r = make("carol", {"ops"}, "DELETE", "/v1.41/containers/web?force=1");
    std::optional<rt::input> bound;
    const auto d = rt::decide(*p, r, &bound);
    const auto line = audit_line(*p, r, d, bound);
    const auto facts = nlohmann::json::parse(line)["facts"];
    CHECK(facts["query.force"] == "1");
    CHECK(facts["host.labels.env"] == "dev");
    CHECK_FALSE(facts.contains("container.privileged"));   // not a create: absent by the schema, not recorded
    CHECK(facts["body.Image"].is_null());
    CHECK(facts["host_access"] == false);
    CHECK_FALSE(facts.contains("user"));
    CHECK_FALSE(facts.contains("group"));
    CHECK_FALSE(facts.contains("host"));
    // Record elements carry their sub-paths by name.
    auto c = make("alice", {"dev"}, "POST", "/v1.41/containers/create",
                  R"({"Image":"a","HostConfig":{"Mounts":[{"Type":"bind","Source":"/etc","Target":"/x"}]}})");
    bound.reset();
    const auto d2 = rt::decide(*p, c, &bound);
    const auto mounts = nlohmann::json::parse(audit_line(*p, c, d2, bound))["facts"]["body.HostConfig.Mounts"];
    REQUIRE(mounts.is_array());
    REQUIRE(mounts.size() == 1);
    CHECK(mounts[0]["Type"] == "bind");
    CHECK(mounts[0]["Source"] == "/etc");
}

TEST_CASE("a policy reading a field the line did not record: not replayable, naming the field") {
    auto live = compile_program("default allow\nrule r: deny if action == \"container_create\" and container.privileged\n");
    auto candidate = compile_program(
        "default allow\nrule r: deny if action == \"container_create\" and any h in container.host_paths: h == \"/etc\"\n");
    auto r = make("alice", {"dev"}, "POST", "/v1.41/containers/create", R"({"Image":"a"})");
    std::optional<rt::input> bound;
    const auto d = rt::decide(*live, r, &bound);
    const auto rec = record_of(audit_line(*live, r, d, bound));
    CHECK(cli::replay(*live, rec).kind == cli::replay_result::decided);
    auto rep = cli::replay(*candidate, rec);
    REQUIRE(rep.kind == cli::replay_result::not_replayable);
    REQUIRE(rep.reasons.size() == 1);
    CHECK(rep.reasons[0] == "container.host_paths (not recorded)");
    // A line without facts (an error before binding) replays on nothing.
    auto none = record_of(audit_line(*live, r, d, std::nullopt));
    CHECK(cli::replay(*live, none).kind == cli::replay_result::not_replayable);
    // Another sub-path of a recorded list: not recorded either.
    auto a = compile_program("default allow\nrule r: deny if any m in body.HostConfig.Mounts: m.Type == \"bind\"\n");
    auto b = compile_program("default allow\nrule r: deny if any m in body.HostConfig.Mounts: m.Source == \"/etc\"\n");
    auto m = make("alice", {}, "POST", "/v1.41/containers/create",
                  R"({"Image":"a","HostConfig":{"Mounts":[{"Type":"bind","Source":"/etc","Target":"/x"}]}})");
    bound.reset();
    const auto dm = rt::decide(*a, m, &bound);
    auto repm = cli::replay(*b, record_of(audit_line(*a, m, dm, bound)));
    REQUIRE(repm.kind == cli::replay_result::not_replayable);
    CHECK(repm.reasons[0] == "body.HostConfig.Mounts (element sub-path Source not recorded)");
}

TEST_CASE("bounds: a value too large is left out whole and the line says facts_truncated") {
    auto p = compile_program("default allow\nrule r: deny if action == \"container_exec\" and any c in exec.cmd: c == \"rm\"\n"
                          "rule s: deny if action == \"container_exec\" and exec.user == \"root\"\n");
    std::string big = "[";
    for (std::size_t i = 0; i < rt::limits::max_audit_fact_bytes / 8; ++i) big += "\"argument\",";
    big += "\"rm\"]";
    auto r = make("alice", {}, "POST", "/v1.41/containers/web/exec", R"({"User":"root","Cmd":)" + big + "}");
    std::optional<rt::input> bound;
    const auto d = rt::decide(*p, r, &bound);
    CHECK(d.rule == "r");
    const auto line = audit_line(*p, r, d, bound);
    const auto j = nlohmann::json::parse(line);
    CHECK(j.value("facts_truncated", false));
    CHECK_FALSE(j.at("facts").contains("exec.cmd"));
    CHECK(j.at("facts").value("exec.user", "") == "root");
    CHECK(line.size() < rt::limits::max_audit_facts_bytes);
    auto rep = cli::replay(*p, record_of(line));
    REQUIRE(rep.kind == cli::replay_result::not_replayable);
    CHECK(rep.reasons[0] == "exec.cmd (not recorded; the line's facts were truncated)");

    // Text that is not UTF-8 is left out too, never written as invalid JSON.
    auto q = compile_program("default allow\nrule r: deny if query.name == \"x\"\n");
    auto bad = make("alice", {}, "GET", "/v1.41/containers/json?name=%ff");
    bound.reset();
    const auto dq = rt::decide(*q, bad, &bound);
    const auto lq = audit_line(*q, bad, dq, bound);
    const auto jq = nlohmann::json::parse(lq);
    CHECK(jq.value("facts_truncated", false));
    CHECK(jq.at("facts").empty());
}

TEST_CASE("replay refuses what needs more than the facts: allow own, owner labels; checkpoints are skipped") {
    auto own = compile_program("default deny\nowner label \"dockpol.owner\"\n"
                            "rule mine: allow own if action == \"container_delete\"\n");
    auto r = make("alice", {}, "DELETE", "/v1.41/containers/web");
    r.resource_labels = {{"dockpol.owner", "alice"}};
    std::optional<rt::input> bound;
    const auto d = rt::decide(*own, r, &bound);
    CHECK(d.rule == "mine");
    auto rep = cli::replay(*own, record_of(audit_line(*own, r, d, bound)));
    REQUIRE(rep.kind == cli::replay_result::not_replayable);
    CHECK(rep.reasons[0].rfind("allow own rule mine", 0) == 0);

    CHECK(cli::parse_audit_line("a.log", 3, R"({"checkpoint":{"n":1},"prev":"ab"})").kind ==
          cli::parsed_line::skip_checkpoint);
    auto bad = cli::parse_audit_line("a.log", 4, R"({"user":"a","groups":["x"]})");
    CHECK(bad.kind == cli::parsed_line::error);
    CHECK(bad.error_message == "no \"host\"");
    CHECK(cli::parse_audit_line("a.log", 5, "{not json").kind == cli::parsed_line::error);
}

} // namespace recorded_facts_test
