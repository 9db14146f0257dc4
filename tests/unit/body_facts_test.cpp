// Body facts: derived facts as dockerd would interpret the body (bypass
// spellings included), raw body paths, action gating, errors that deny.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "dockpol/rt/body_facts.hpp"
#include "dockpol/rt/image_ref.hpp"
#include "runtime_test_util.hpp"

// Each test file is its own namespace: the test executables are unity builds.
namespace body_facts_test {

using namespace dockpol::rt;
using runtime_test::body_fixture;

namespace {

slot_desc slot(std::string_view field, std::string key = "", std::vector<std::string> subpaths = {}) {
    const auto id = find_field(field);
    REQUIRE(id);
    return slot_desc{*id, std::move(key), std::move(subpaths)};
}

request req_for(std::string action, std::optional<std::string> body) {
    request r;
    r.method = "POST";
    r.action = std::move(action);
    r.body = std::move(body);
    r.objects_known = true;   // named objects looked up: none exists unless a test adds it
    return r;
}

// Runs fill_facts; the values by slot, or the error.
struct facts {
    std::vector<value> values;
    std::optional<std::string> error;
    const value& operator[](std::size_t i) const { return values.at(i); }
};

facts fill(const request& req, const std::vector<slot_desc>& slots) {
    facts f;
    f.values.assign(slots.size(), value::string("untouched"));
    const auto id = find_action(req.action);
    program_image img;
    if (auto e = fill_facts(img, req, id ? *id : unknown_action_id, slots, f.values)) f.error = e->reason;
    return f;
}

value str(std::string s) { return value::string(std::move(s)); }
value strs(std::vector<std::string> items) {
    std::vector<value> v;
    for (auto& s : items) v.push_back(value::string(std::move(s)));
    return value::list(std::move(v));
}

// Every container fact, in one fixed order (labels read `owner`).
const std::vector<std::string> container_fields = {
    "container.privileged", "container.host_paths", "container.volumes", "container.host_namespaces",
    "container.joins_container", "container.cap_add", "container.devices", "container.security_opt",
    "container.user", "container.uid", "container.image", "container.image_registry"};

std::vector<slot_desc> container_slots() {
    std::vector<slot_desc> s;
    for (const auto& f : container_fields) s.push_back(slot(f));
    s.push_back(slot("container.labels", "owner"));
    return s;
}

// Positions in container_slots().
namespace ci {
enum : std::size_t { privileged, host_paths, volumes, host_namespaces, joins, cap_add, devices, security_opt, user,
                     uid, image, image_registry, label_owner };
}

facts create_facts(const std::string& file) {
    return fill(req_for("container_create", body_fixture(file)), container_slots());
}

} // namespace

TEST_CASE("body facts: the benchmark create body", "[body_facts]") {
    const auto f = create_facts("container_create.json");
    REQUIRE_FALSE(f.error);
    CHECK(f[ci::privileged] == value::boolean(false));
    CHECK(f[ci::host_paths] == strs({"/home/dave/src", "/tmp/cache"}));
    CHECK(f[ci::volumes] == strs({}));
    CHECK(f[ci::host_namespaces] == strs({}));
    CHECK(f[ci::joins] == value::boolean(false));
    CHECK(f[ci::cap_add] == strs({}));
    CHECK(f[ci::devices] == strs({}));
    CHECK(f[ci::security_opt] == strs({}));
    CHECK(f[ci::user] == str(""));
    CHECK(f[ci::uid].is_absent());
    CHECK(f[ci::image] == str("registry.example.com/team/web:2.7.1"));
    CHECK(f[ci::image_registry] == str("registry.example.com"));
    CHECK(f[ci::label_owner] == str("dave"));
}

TEST_CASE("body facts: host paths through Binds, Mounts and local bind volumes", "[body_facts]") {
    const auto f = create_facts("create_host_paths.json");
    REQUIRE_FALSE(f.error);
    // Binds (cleaned, once), a bind mount (cleaned), a local rbind volume of `/`,
    // a driverless (local) bind volume with a relative device, a local volume
    // whose device is a path even without `bind`; not the plugin-driver
    // volume, not the anonymous Binds entry.
    CHECK(f[ci::host_paths] == strs({"/var/run/docker.sock", "/etc/ssl", "/", "/var/lib", "/srv"}));
    CHECK(f[ci::volumes] == strs({"named-vol", "cache"}));
}

TEST_CASE("body facts: privileges however they are spelled", "[body_facts]") {
    const auto f = create_facts("create_privileges.json");
    REQUIRE_FALSE(f.error);
    CHECK(f[ci::privileged] == value::boolean(true));
    // dockerd upper-cases with Go's strings.ToUpper (ſ→S, ı→I) and adds CAP_;
    // the Kelvin sign stays what it is (dockerd then rejects it).
    CHECK(f[ci::cap_add] == strs({"CAP_SYS_ADMIN", "CAP_NET_ADMIN", "ALL", "CAP_SYS_MODULE", "CAP_SYS_IPC_LOCK",
                              "CAP_\xE2\x84\xAAILL"}));
    CHECK(f[ci::security_opt] == strs({"seccomp=unconfined", "apparmor:unconfined"}));
    CHECK(f[ci::host_namespaces] == strs({"pid", "ipc", "uts", "userns", "cgroup"}));
    CHECK(f[ci::joins] == value::boolean(true));
    CHECK(f[ci::devices] == strs({"/dev/sda", "/dev/fuse", "gpu"}));
    CHECK(f[ci::user] == str("0000:5"));
    CHECK(f[ci::uid] == value::number(0));
    CHECK(f[ci::image_registry] == str("localhost:5000"));
    CHECK(f[ci::label_owner] == str("bruce"));

    const auto labels = fill(req_for("container_create", body_fixture("create_privileges.json")),
                             {slot("container.labels", "Owner"), slot("container.labels", "com.example.team"),
                              slot("container.labels", "empty"), slot("container.labels", "missing")});
    REQUIRE_FALSE(labels.error);
    CHECK(labels[0] == str("mallory"));
    CHECK(labels[1] == str("core"));
    CHECK(labels[2] == str(""));   // Go stores "" for a null map value
    CHECK(labels[3].is_absent());
}

TEST_CASE("body facts: defaults when the body says nothing", "[body_facts]") {
    const auto f = create_facts("create_minimal.json");
    REQUIRE_FALSE(f.error);
    CHECK(f[ci::privileged] == value::boolean(false));
    CHECK(f[ci::joins] == value::boolean(false));
    for (const auto i : {ci::host_paths, ci::volumes, ci::host_namespaces, ci::cap_add, ci::devices, ci::security_opt})
        CHECK(f[i] == strs({}));
    CHECK(f[ci::user].is_absent());
    CHECK(f[ci::uid].is_absent());
    CHECK(f[ci::image] == str("nginx"));
    CHECK(f[ci::image_registry] == str("docker.io"));
    CHECK(f[ci::label_owner].is_absent());
}

TEST_CASE("body facts: StrSlice CapAdd, modes that only look like host, names", "[body_facts]") {
    const auto f = create_facts("create_strslice.json");
    REQUIRE_FALSE(f.error);
    CHECK(f[ci::cap_add] == strs({"CAP_NET_RAW"}));
    CHECK(f[ci::host_namespaces] == strs({}));   // "HOST" is not host for dockerd
    CHECK(f[ci::joins] == value::boolean(true));  // VolumesFrom
    CHECK(f[ci::user] == str("daemon"));
    CHECK(f[ci::uid].is_absent());
}

TEST_CASE("body facts: folded and escaped keys are what dockerd reads", "[body_facts]") {
    const auto f = create_facts("create_fold_keys.json");
    REQUIRE_FALSE(f.error);
    CHECK(f[ci::privileged] == value::boolean(true));
    CHECK(f[ci::host_paths] == strs({"/"}));
    CHECK(f[ci::host_namespaces] == strs({"pid", "network"}));
    CHECK(f[ci::security_opt] == strs({"seccomp=unconfined"}));
    CHECK(f[ci::user] == str("+0"));
    CHECK(f[ci::uid] == value::number(0));
    CHECK(f[ci::image_registry] == str("evil.example"));

    const auto e = create_facts("create_escaped_keys.json");
    REQUIRE_FALSE(e.error);
    CHECK(e[ci::privileged] == value::boolean(true));
    CHECK(e[ci::host_paths] == strs({"/etc"}));
}

TEST_CASE("body facts: top-level HostConfig fields are refused as a bad request", "[body_facts]") {
    // dockerd before 27.0 reads them from the top level (all when "HostConfig" is absent, some even when
    // present): no client sends them there, so any spelling is refused.
    for (const auto* body : {R"({"Image":"bb","Privileged":true})", R"({"Image":"bb","privileged":false})",
                             R"({"Image":"bb","HostConfig":{},"Memory":1})", R"({"Image":"bb","BINDS":null})",
                             R"({"Image":"bb","Capabilities":["SYS_ADMIN"]})"}) {
        INFO(body);
        const auto f = fill(req_for("container_create", std::string(body)), container_slots());
        REQUIRE(f.error);
        CHECK(f.error->find("at the top level of a create body") != std::string::npos);
    }
    for (const auto* fixture_name : {"create_top_level_hostconfig.json", "create_inner_hostconfig_wins.json"}) {
        INFO(fixture_name);
        CHECK(create_facts(fixture_name).error);
    }
    // Config's own fields at the top are what every client sends.
    const auto ok = fill(req_for("container_create", std::string(R"({"Image":"bb","User":"1","Labels":{}})")),
                         container_slots());
    CHECK_FALSE(ok.error);
    // Errors name where the value was read.
    const auto bad =
        fill(req_for("container_create", std::string(R"({"HostConfig":{"Privileged":1}})")), container_slots());
    REQUIRE(bad.error);
    CHECK(bad.error->find("HostConfig.Privileged: expected a boolean, got number") != std::string::npos);
}

TEST_CASE("body facts: ambiguous and undecodable bodies deny", "[body_facts]") {
    for (const std::string file : {"create_dup_case.json", "create_dup_exact.json", "create_dup_fold.json",
                                   "create_dup_hostconfig.json", "create_dup_label.json"}) {
        INFO(file);
        const auto f = create_facts(file);
        REQUIRE(f.error);
        CHECK(f.error->find("ambiguous key") != std::string::npos);
    }
    CHECK_FALSE(create_facts("create_dup_unwanted.json").error);

    // What dockerd's decoder refuses, named by path.
    const std::vector<std::pair<std::string, std::string>> wrong = {
        {"create_wrong_privileged.json", "HostConfig.Privileged: expected a boolean, got string"},
        {"create_wrong_hostconfig.json", "HostConfig.Privileged: expected an object on the way, got array"},
        {"create_wrong_binds.json", "HostConfig.Binds: expected an array, got string"},
        {"create_wrong_mount.json", "HostConfig.Mounts[].Source: expected a string, got number"},
        {"create_not_object.json", "expected a JSON object, got array"},
        {"create_bad_utf8.json", "invalid UTF-8 at byte 33"},
    };
    for (const auto& [file, reason] : wrong) {
        INFO(file);
        const auto f = create_facts(file);
        REQUIRE(f.error);
        CHECK(f.error->find(reason) != std::string::npos);
    }
}

TEST_CASE("body facts: structural limits reach fill_facts as denials", "[body_facts]") {
    std::string deep = "{\"Image\":\"a\",\"Env\":" + std::string(json_max_depth, '[') + std::string(json_max_depth, ']') + "}";
    const auto d = fill(req_for("container_create", deep), container_slots());
    REQUIRE(d.error);
    CHECK(d.error->find("nesting too deep") != std::string::npos);

    std::string binds = "{\"HostConfig\":{\"Binds\":[";
    for (std::size_t i = 0; i <= json_max_list_elements; ++i) binds += i ? ",\"v:/d\"" : "\"/:/host\"";
    binds += "]}}";
    const auto b = fill(req_for("container_create", binds), container_slots());
    REQUIRE(b.error);
    CHECK(b.error->find("too many array elements") != std::string::npos);

    // Every proper prefix of a valid body is refused.
    const std::string body = body_fixture("create_privileges.json");
    for (std::size_t n = 1; n + 1 < body.size(); n += 7) {
        INFO(n);
        CHECK(fill(req_for("container_create", body.substr(0, n)), container_slots()).error);
    }
}

TEST_CASE("body facts: a body is required for body facts of the action", "[body_facts]") {
    for (const auto& [action, field] : std::vector<std::pair<std::string, std::string>>{
             {"container_create", "container.privileged"},
             {"container_exec", "exec.user"},
             {"volume_create", "volume.driver"}}) {
        INFO(action);
        for (const auto& body : {std::optional<std::string>{}, std::optional<std::string>{""}}) {
            const auto f = fill(req_for(action, body), {slot(field)});
            REQUIRE(f.error);
            CHECK(*f.error == "request body required");
        }
    }
    // Raw body paths on a missing body are absent, not an error.
    const auto raw = fill(req_for("container_create", std::nullopt), {slot("body", "HostConfig.Privileged")});
    REQUIRE_FALSE(raw.error);
    CHECK(raw[0].is_absent());
}

TEST_CASE("body facts: facts of other actions stay absent; other slots are untouched", "[body_facts]") {
    const auto f = fill(req_for("container_exec", body_fixture("exec_root.json")),
                        {slot("container.privileged"), slot("volume.driver"), slot("image.ref"), slot("user"),
                         slot("exec.privileged")});
    REQUIRE_FALSE(f.error);
    CHECK(f[0].is_absent());
    CHECK(f[1].is_absent());
    CHECK(f[2].is_absent());
    CHECK(f[3] == str("untouched"));
    CHECK(f[4] == value::boolean(true));
    // Inapplicable facts need no body at all.
    const auto none = fill(req_for("container_list", std::nullopt), container_slots());
    REQUIRE_FALSE(none.error);
    for (const auto& v : none.values) CHECK(v.is_absent());
}

TEST_CASE("body facts: exec", "[body_facts]") {
    const std::vector<slot_desc> slots = {slot("exec.privileged"), slot("exec.user"), slot("exec.uid"),
                                          slot("exec.cmd")};
    const auto root = fill(req_for("container_exec", body_fixture("exec_root.json")), slots);
    REQUIRE_FALSE(root.error);
    CHECK(root[0] == value::boolean(true));
    CHECK(root[1] == str("+0:0"));
    CHECK(root[2] == value::number(0));
    CHECK(root[3] == strs({"sh", "-c", "id"}));

    const auto dflt = fill(req_for("container_exec", body_fixture("exec_default.json")), slots);
    REQUIRE_FALSE(dflt.error);
    CHECK(dflt[0] == value::boolean(false));
    CHECK(dflt[1] == str(""));   // the container's own user
    CHECK(dflt[2].is_absent());
    CHECK(dflt[3] == strs({"ls"}));

    const auto named = fill(req_for("container_exec", body_fixture("exec_named.json")), slots);
    REQUIRE_FALSE(named.error);
    CHECK(named[1] == str("postgres"));
    CHECK(named[2].is_absent());

    // ExecConfig.Cmd is a plain []string: a string is refused by dockerd.
    const auto cmd = fill(req_for("container_exec", body_fixture("exec_cmd_string.json")), slots);
    REQUIRE(cmd.error);
    CHECK(cmd.error->find("Cmd: expected an array, got string") != std::string::npos);
}

TEST_CASE("body facts: volume_create", "[body_facts]") {
    const std::vector<slot_desc> slots = {slot("volume.driver"), slot("volume.host_path")};
    const auto bind = fill(req_for("volume_create", body_fixture("volume_bind.json")), slots);
    REQUIRE_FALSE(bind.error);
    CHECK(bind[0] == str("local"));
    CHECK(bind[1] == str("/etc"));
    const auto plain = fill(req_for("volume_create", body_fixture("volume_plain.json")), slots);
    REQUIRE_FALSE(plain.error);
    CHECK(plain[0] == str("rexray"));
    CHECK(plain[1].is_absent());
}

TEST_CASE("body facts: image_create and image_push references", "[body_facts]") {
    const std::vector<slot_desc> slots = {slot("image.ref"), slot("image.registry")};
    struct expected { std::string action; string_pairs query; std::string resource; value ref, registry; };
    const std::vector<expected> cases = {
        {"image_create", {{"fromImage", "registry.example.com/team/app"}, {"tag", "1.2"}}, "",
         str("registry.example.com/team/app:1.2"), str("registry.example.com")},
        {"image_create", {{"fromImage", "alpine"}, {"tag", "sha256:abcd"}}, "", str("alpine@sha256:abcd"),
         str("docker.io")},
        {"image_create", {{"fromImage", "alpine:3"}, {"tag", "latest"}}, "", str("alpine:latest"), str("docker.io")},
        {"image_create", {{"fromImage", "localhost:5000/x:"}}, "", str("localhost:5000/x"), str("localhost:5000")},
        {"image_create", {{"fromImage", "EVIL.example/x"}, {"fromImage", "alpine"}}, "", str("EVIL.example/x"),
         str("evil.example")},
        {"image_create", {{"fromSrc", "-"}, {"repo", "localhost/imported"}, {"tag", "t"}}, "",
         str("localhost/imported:t"), str("localhost")},
        {"image_create", {{"fromSrc", "-"}}, "", value::absent(), value::absent()},
        {"image_create", {}, "", value::absent(), value::absent()},
        {"image_push", {{"tag", "v1"}}, "Quay.IO/ns/img", str("Quay.IO/ns/img:v1"), str("quay.io")},
        {"image_push", {}, "team/img", str("team/img"), str("docker.io")},
    };
    for (const auto& c : cases) {
        request r = req_for(c.action, std::nullopt);
        r.query = c.query;
        r.resource_id = c.resource;
        const auto f = fill(r, slots);
        INFO(c.action << " " << (c.query.empty() ? "" : c.query[0].second));
        REQUIRE_FALSE(f.error);
        CHECK(f[0] == c.ref);
        CHECK(f[1] == c.registry);
    }
}

TEST_CASE("body facts: raw body paths", "[body_facts]") {
    const std::vector<slot_desc> slots = {
        slot("body", "Image"),
        slot("body", "StopTimeout"),
        slot("body", "Env"),
        slot("body", "HostConfig.Mounts", {"Type", "Source", "VolumeOptions.Labels.com.x"}),
        slot("body", "HostConfig.Sysctls.net.ipv4.ip_forward"),
        slot("body", "NetworkingConfig"),
        slot("body", "HostConfig"),
        slot("body", "Missing.Deeper"),
        slot("body", "image"),
    };
    const auto f = fill(req_for("container_create", body_fixture("raw_paths.json")), slots);
    REQUIRE_FALSE(f.error);
    CHECK(f[0] == str("alpine"));
    CHECK(f[1] == value::number(10));
    CHECK(f[2] == strs({"A=1", "B=2"}));
    CHECK(f[3] == value::list({value::record({value::absent(), str("bind"), str("/a"), value::absent()}),
                               value::record({value::absent(), str("volume"), str("v"), str("y")}),
                               value::record({str("not-an-object"), value::absent(), value::absent(),
                                              value::absent()})}));
    CHECK(f[4] == str("1"));
    CHECK(f[5].is_absent());
    CHECK(f[6].is_absent());
    CHECK(f[7].is_absent());
    CHECK(f[8] == str("alpine"));
}

TEST_CASE("body facts: raw paths and facts share one scan and one plan", "[body_facts]") {
    // Facts and raw paths together, then the same request with other label
    // keys: the per-thread plan must follow the slots, never go stale.
    const request r = req_for("container_create", body_fixture("create_privileges.json"));
    auto slots = container_slots();
    slots.push_back(slot("body", "HostConfig.CapAdd"));
    const auto a = fill(r, slots);
    REQUIRE_FALSE(a.error);
    CHECK(a[ci::label_owner] == str("bruce"));
    CHECK(a.values.back().items.size() == 6);
    slots[ci::label_owner].key = "Owner";
    const auto b = fill(r, slots);
    REQUIRE_FALSE(b.error);
    CHECK(b[ci::label_owner] == str("mallory"));
    CHECK(b[ci::cap_add] == a[ci::cap_add]);
    // Without own paths the shared template is used: same facts.
    const auto c = fill(r, std::vector<slot_desc>(slots.begin(), slots.begin() + ci::label_owner));
    REQUIRE_FALSE(c.error);
    for (std::size_t i = 0; i < ci::label_owner; ++i) CHECK(c[i] == a[i]);
}

TEST_CASE("body facts: a policy reading too many body paths is refused", "[body_facts]") {
    std::vector<slot_desc> slots;
    for (std::size_t i = 0; i < json_max_nodes; ++i) slots.push_back(slot("body", "k" + std::to_string(i)));
    const auto f = fill(req_for("container_create", std::string("{}")), slots);
    REQUIRE(f.error);
    CHECK(*f.error == "policy reads too many body paths");
}

TEST_CASE("image_registry: Docker's reference rule", "[body_facts][image_ref]") {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"alpine", "docker.io"},
        {"alpine:3.19", "docker.io"},
        {"library/alpine", "docker.io"},
        {"team/app/sub:1", "docker.io"},
        {"docker.io/library/alpine", "docker.io"},
        {"index.docker.io/library/alpine", "docker.io"},
        {"localhost/app", "localhost"},
        {"localhost:5000/app", "localhost:5000"},
        {"registry.example.com/team/web:2.7.1", "registry.example.com"},
        {"my-registry:443/app", "my-registry:443"},
        {"Registry.Example.COM/x", "registry.example.com"},
        {"Upper/app", "upper"},
        {"localhostx/app", "docker.io"},
        {"alpine@sha256:abcd", "docker.io"},
        {"", "docker.io"},
    };
    for (const auto& [ref, registry] : cases) {
        INFO(ref);
        CHECK(image_registry(ref) == registry);
    }
    CHECK(image_ref_with_tag("alpine", "") == "alpine");
    CHECK(image_ref_with_tag("alpine", "3") == "alpine:3");
    CHECK(image_ref_with_tag("alpine", "sha256:ab") == "alpine@sha256:ab");
}

TEST_CASE("body facts: numeric uid as runc reads it", "[body_facts]") {
    using detail::numeric_uid;
    CHECK(numeric_uid("0") == 0.0);
    CHECK(numeric_uid("0000:5") == 0.0);
    CHECK(numeric_uid("+0") == 0.0);
    CHECK(numeric_uid("-0") == 0.0);
    CHECK(numeric_uid("1000:1000") == 1000.0);
    CHECK(numeric_uid("9223372036854775807") == 9223372036854775807.0);
    CHECK(numeric_uid("-9223372036854775808") == -9223372036854775808.0);
    CHECK_FALSE(numeric_uid("9223372036854775808"));
    CHECK_FALSE(numeric_uid("root"));
    CHECK_FALSE(numeric_uid("root:0"));
    CHECK_FALSE(numeric_uid(":0"));
    CHECK_FALSE(numeric_uid(""));
    CHECK_FALSE(numeric_uid("+"));
    CHECK_FALSE(numeric_uid(" 0"));
    CHECK_FALSE(numeric_uid("0x0"));
    CHECK_FALSE(numeric_uid("1_000"));
}

TEST_CASE("body facts: capability normalisation", "[body_facts]") {
    using detail::normalize_capability;
    CHECK(normalize_capability("sys_admin") == "CAP_SYS_ADMIN");
    CHECK(normalize_capability("CAP_SYS_ADMIN") == "CAP_SYS_ADMIN");
    CHECK(normalize_capability("cap_sys_admin") == "CAP_SYS_ADMIN");
    CHECK(normalize_capability("all") == "ALL");
    CHECK(normalize_capability("\xC5\xBFys_admin") == "CAP_SYS_ADMIN");
    CHECK(normalize_capability("") == "CAP_");
}

} // namespace body_facts_test
