// Ownership: the owner label spliced into create bodies (table over key
// spellings, checked against an nlohmann decode with Go's key matching),
// the keep check, the owner filter merge, the query rewrite, the objects a
// request names and the allow-own check; a differential run over every
// create body of the fuzz corpora and fixtures.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dockpol/rt/ownership.hpp"
#include "runtime_test_util.hpp"
#include "tests/support/owner_label_oracle.hpp"

// Each test file is its own namespace: the test executables are unity builds.
namespace ownership_test {

using namespace dockpol::rt;
using json = nlohmann::json;
using dockpol::test_support::expected_after_splice;
using runtime_test::read_file;

namespace {

std::uint16_t act(std::string_view name) {
    const auto a = find_action(name);
    REQUIRE(a);
    return *a;
}

constexpr std::string_view owner = "dockpol.owner";

} // namespace

// --- label splice ------------------------------------------------------------

struct splice_case {
    std::string_view name, action, body;
    owner_errc error;
    bool changed;
};

TEST_CASE("ownership: the owner label is spliced where dockerd reads it", "[ownership]") {
    const std::vector<splice_case> cases = {
        {"no Labels", "container_create", R"({"Image":"bb"})", owner_errc::none, true},
        {"empty body object", "volume_create", R"({})", owner_errc::none, true},
        {"empty body object with spaces", "network_create", "{ \n }", owner_errc::none, true},
        {"Labels", "container_create", R"({"Image":"bb","Labels":{"a":"b"}})", owner_errc::none, true},
        {"labels", "container_create", R"({"Image":"bb","labels":{"a":"b"}})", owner_errc::none, true},
        {"LABELS", "secret_create", R"({"Name":"s","LABELS":{"a":"b"},"Data":""})", owner_errc::none, true},
        {"ſ fold", "config_create", "{\"Name\":\"c\",\"LABEL\xC5\xBF\":{}}", owner_errc::none, true},
        {"empty Labels", "container_create", R"({"Labels":{}})", owner_errc::none, true},
        {"empty Labels with whitespace", "container_create", "{\"Labels\" :\n\t{ \r\n }\n}", owner_errc::none, true},
        {"null Labels", "container_create", R"({"Labels":null,"Image":"bb"})", owner_errc::none, true},
        {"escaped key", "container_create", R"({"\u004cabels":{"x":"y"}})", owner_errc::none, true},
        {"escaped key lower", "volume_create", R"({"\u006cabels":null})", owner_errc::none, true},
        {"same owner already", "volume_create", R"({"Labels":{"dockpol.owner":"alice"}})", owner_errc::none, false},
        {"same owner, escaped label key", "volume_create", R"({"Labels":{"dockpol.\u006fwner":"alice"}})",
         owner_errc::none, false},
        {"label key is exact: case differs", "volume_create", R"({"Labels":{"Dockpol.Owner":"bob"}})",
         owner_errc::none, true},
        {"other owner", "container_create", R"({"Labels":{"dockpol.owner":"bob"}})", owner_errc::conflict, false},
        {"null owner", "container_create", R"({"Labels":{"dockpol.owner":null}})", owner_errc::conflict, false},
        {"owner not a string", "container_create", R"({"Labels":{"dockpol.owner":1}})", owner_errc::bad_request, false},
        {"duplicate label key", "container_create", R"({"Labels":{"dockpol.owner":"alice","dockpol.owner":"bob"}})",
         owner_errc::bad_request, false},
        {"Labels and labels", "container_create", R"({"Labels":{},"labels":{}})", owner_errc::bad_request, false},
        {"Labels an array", "container_create", R"({"Labels":["a=b"]})", owner_errc::bad_request, false},
        {"Labels a string", "network_create", R"({"Labels":"a"})", owner_errc::bad_request, false},
        {"not an object", "container_create", R"(["Labels"])", owner_errc::bad_request, false},
        {"invalid JSON", "container_create", R"({"Labels":{},})", owner_errc::bad_request, false},
        {"top-level Mounts", "container_create", R"({"Mounts":[{"Type":"volume"}]})", owner_errc::bad_request, false},
        {"volume mount", "container_create",
         R"({"Image":"bb","HostConfig":{"Mounts":[{"Type":"volume","Source":"data","Target":"/d"}]}})",
         owner_errc::none, true},
        {"volume mount, lower-case keys", "container_create",
         R"({"hostconfig":{"mounts":[{"type":"volume","volumeoptions":{"labels":{"k":"v"}}}]}})", owner_errc::none, true},
        {"volume mount, null VolumeOptions", "container_create",
         R"({"HostConfig":{"Mounts":[{"Type":"volume","VolumeOptions":null}]}})", owner_errc::none, true},
        {"volume mount, VolumeOptions without Labels", "container_create",
         R"({"HostConfig":{"Mounts":[{"Type":"volume","VolumeOptions":{"NoCopy":true}}]}})", owner_errc::none, true},
        {"volume mount, foreign owner", "container_create",
         R"({"HostConfig":{"Mounts":[{"Type":"volume","VolumeOptions":{"Labels":{"dockpol.owner":"bob"}}}]}})",
         owner_errc::conflict, false},
        {"bind and tmpfs mounts untouched", "container_create",
         R"({"HostConfig":{"Mounts":[{"Type":"bind","Source":"/x","Target":"/x"},{"Type":"tmpfs","Target":"/t"},null]}})",
         owner_errc::none, true},
        {"mount Type is exact", "container_create", R"({"HostConfig":{"Mounts":[{"Type":"Volume"}]}})", owner_errc::none,
         true},
        {"Mounts not an array", "container_create", R"({"HostConfig":{"Mounts":{}}})", owner_errc::bad_request, false},
        {"HostConfig not an object", "container_create", R"({"HostConfig":"x"})", owner_errc::bad_request, false},
        {"null HostConfig", "container_create", R"({"HostConfig":null})", owner_errc::none, true},
        {"many volume mounts, newlines", "container_create",
         "{\n  \"HostConfig\": {\n    \"Mounts\": [\n      {\"Type\": \"volume\"},\n      {\"Type\": \"volume\", "
         "\"VolumeOptions\": {\"Labels\": {}}},\n      {\"Type\": \"volume\", \"VolumeOptions\": {\"Labels\": null}}\n    ]\n  }\n}\n",
         owner_errc::none, true},
        {"service", "service_create",
         R"({"Name":"s","TaskTemplate":{"ContainerSpec":{"Image":"bb","Labels":{"a":"b"},"Mounts":[{"Type":"volume","Source":"v"}]}}})",
         owner_errc::none, true},
        {"service without ContainerSpec", "service_create", R"({"Name":"s","TaskTemplate":{}})", owner_errc::none, true},
        {"service, nested foreign owner", "service_create",
         R"({"Labels":{"dockpol.owner":"alice"},"TaskTemplate":{"ContainerSpec":{"Labels":{"dockpol.owner":"bob"}}}})",
         owner_errc::conflict, false},
        {"service, lower-case nesting", "service_create",
         R"({"tasktemplate":{"containerspec":{"labels":null,"mounts":[{"type":"volume"}]}}})", owner_errc::none, true},
        {"service, TaskTemplate an array", "service_create", R"({"TaskTemplate":[]})", owner_errc::bad_request, false},
    };
    for (const auto& c : cases) {
        INFO(c.name << ": " << c.body);
        const auto r = splice_owner_label(act(c.action), c.body, owner, "alice");
        CHECK(r.error == c.error);
        if (c.error != owner_errc::none) CHECK_FALSE(r.reason.empty());
        CHECK(r.changed == c.changed);
        if (c.error != owner_errc::none) continue;
        const std::string& out = r.changed ? r.body : std::string(c.body);
        CHECK(r.rewrites.empty() == !r.changed);
        // The spliced body decodes to the original plus exactly the label in every place.
        const json got = json::parse(out);
        CHECK(got == expected_after_splice(json::parse(c.body), c.action, {owner, "alice"}));
        // Splicing again changes nothing: the label is where dockerd reads it.
        const auto again = splice_owner_label(act(c.action), out, owner, "alice");
        CHECK(again.error == owner_errc::none);
        CHECK_FALSE(again.changed);
    }
}

TEST_CASE("ownership: splice bytes and rewrite lines", "[ownership]") {
    const auto a = act("container_create");
    auto r = splice_owner_label(a, R"({"Image":"bb"})", owner, "alice");
    CHECK(r.body == R"({"Labels":{"dockpol.owner":"alice"},"Image":"bb"})");
    REQUIRE(r.rewrites.size() == 1);
    CHECK(r.rewrites[0] == "Labels: set label dockpol.owner=alice");
    r = splice_owner_label(a, R"({ "Labels" : null })", owner, "alice");
    CHECK(r.body == R"({ "Labels" : {"dockpol.owner":"alice"} })");
    r = splice_owner_label(a, R"({"Labels":{ "a":"b"}})", owner, "alice");
    CHECK(r.body == R"({"Labels":{"dockpol.owner":"alice", "a":"b"}})");
    r = splice_owner_label(a, R"({"HostConfig":{"Mounts":[{"Type":"volume"}]}})", owner, "alice");
    CHECK(r.body ==
          R"({"Labels":{"dockpol.owner":"alice"},"HostConfig":{"Mounts":[{"VolumeOptions":{"Labels":{"dockpol.owner":"alice"}},"Type":"volume"}]}})");
    REQUIRE(r.rewrites.size() == 2);
    CHECK(r.rewrites[1] == "HostConfig.Mounts[0].VolumeOptions.Labels: set label dockpol.owner=alice");
    // A user name with quotes and backslashes is escaped; non-ASCII stays as it is.
    r = splice_owner_label(a, "{}", owner, "a\"l\\ice\xC3\xA9");
    CHECK(r.body == "{\"Labels\":{\"dockpol.owner\":\"a\\\"l\\\\ice\xC3\xA9\"}}");
    CHECK(json::parse(r.body)["Labels"]["dockpol.owner"] == "a\"l\\ice\xC3\xA9");
    // Neither the user nor the label name can be anything.
    CHECK(splice_owner_label(a, "{}", owner, "").error == owner_errc::bad_request);
    CHECK(splice_owner_label(a, "{}", owner, "al\nice").error == owner_errc::bad_request);
    CHECK(splice_owner_label(a, "{}", owner, "al\xFF").error == owner_errc::bad_request);
    CHECK(splice_owner_label(a, "{}", "a=b", "alice").error == owner_errc::bad_request);
    // Only create actions have a body to label.
    CHECK(splice_owner_label(act("container_start"), "{}", owner, "alice").error == owner_errc::bad_request);
    CHECK(splice_owner_label(act("service_update"), "{}", owner, "alice").error == owner_errc::bad_request);
    // Another label name in the same thread rebuilds the plan.
    r = splice_owner_label(a, R"({"Labels":{"dockpol.owner":"bob"}})", "team.owner", "alice");
    CHECK(r.error == owner_errc::none);
    CHECK(json::parse(r.body)["Labels"] == json{{"dockpol.owner", "bob"}, {"team.owner", "alice"}});
}

TEST_CASE("ownership: updates keep the owner label", "[ownership]") {
    const auto su = act("service_update");
    CHECK(check_owner_label_kept(su, R"({"Labels":{"dockpol.owner":"alice"}})", owner, "alice").error == owner_errc::none);
    CHECK(check_owner_label_kept(su, R"({"labels":{"dockpol.owner":"alice"}})", owner, "alice").error == owner_errc::none);
    CHECK(check_owner_label_kept(su, R"({"Name":"x"})", owner, std::nullopt).error == owner_errc::none);
    CHECK(check_owner_label_kept(su, R"({"Labels":null})", owner, std::nullopt).error == owner_errc::none);
    auto e = check_owner_label_kept(act("secret_update"), R"({"Labels":{}})", owner, "alice");
    CHECK(e.error == owner_errc::conflict);
    CHECK(e.reason == "the update drops the owner label dockpol.owner");
    e = check_owner_label_kept(act("config_update"), R"({"Labels":{"dockpol.owner":"bob"}})", owner, "alice");
    CHECK(e.error == owner_errc::conflict);
    CHECK(e.reason == "the update changes the owner label dockpol.owner");
    CHECK(check_owner_label_kept(su, R"({"Labels":{"dockpol.owner":"bob"}})", owner, std::nullopt).error ==
          owner_errc::conflict);
    CHECK(check_owner_label_kept(su, R"({"Labels":{"dockpol.owner":"a","dockpol.owner":"a"}})", owner, "a").error ==
          owner_errc::bad_request);
    CHECK(check_owner_label_kept(su, R"({"Labels":[]})", owner, "a").error == owner_errc::bad_request);
    CHECK(check_owner_label_kept(su, R"({)", owner, "a").error == owner_errc::bad_request);
    CHECK(check_owner_label_kept(act("container_create"), "{}", owner, "a").error == owner_errc::bad_request);
    // A service's task containers and volumes may not be handed to someone else by an update.
    const auto spec_owner = [](std::string_view o) {
        return R"({"Labels":{"dockpol.owner":"alice"},"TaskTemplate":{"ContainerSpec":{"Labels":{"dockpol.owner":")" +
               std::string(o) + R"("}}}})";
    };
    CHECK(check_owner_label_kept(su, spec_owner("alice"), owner, "alice").error == owner_errc::none);
    e = check_owner_label_kept(su, spec_owner("bob"), owner, "alice");
    CHECK(e.error == owner_errc::conflict);
    CHECK(e.reason.starts_with("the update gives the owner label another value: TaskTemplate.ContainerSpec.Labels"));
    CHECK(check_owner_label_kept(su, R"({"Labels":{"dockpol.owner":"alice"},"TaskTemplate":{"ContainerSpec":{}}})", owner,
                                 "alice").error == owner_errc::none);
    CHECK(check_owner_label_kept(su, R"({"TaskTemplate":{"ContainerSpec":{"Mounts":[{"Type":"volume","VolumeOptions":
        {"Labels":{"dockpol.owner":"bob"}}}]}}})", owner, std::nullopt).error == owner_errc::conflict);
    CHECK(check_owner_label_kept(su, R"({"TaskTemplate":{"ContainerSpec":{"Mounts":[{"Type":"volume"}]}}})", owner,
                                 std::nullopt).error == owner_errc::none);
    // Secrets and configs have no nested places.
    CHECK(check_owner_label_kept(act("secret_update"), R"({"Labels":{"dockpol.owner":"alice"},"TaskTemplate":1})", owner,
                                 "alice").error == owner_errc::none);
}

// --- filters -------------------------------------------------------------------

TEST_CASE("ownership: the owner filter replaces the caller's on the label", "[ownership]") {
    struct filter_case {
        std::string_view name;
        std::optional<std::string_view> given;
        std::string_view expect;   // "" for an error
    };
    const std::vector<filter_case> cases = {
        {"absent", std::nullopt, R"({"label":{"dockpol.owner=alice":true}})"},
        {"empty value", "", R"({"label":{"dockpol.owner=alice":true}})"},
        {"null", "null", R"({"label":{"dockpol.owner=alice":true}})"},
        {"empty object", "{}", R"({"label":{"dockpol.owner=alice":true}})"},
        {"map form", R"({"status":{"running":true},"label":{"app=web":true}})",
         R"({"label":{"app=web":true,"dockpol.owner=alice":true},"status":{"running":true}})"},
        {"legacy form", R"({"label":["app=web","tier"],"name":["x"]})",
         R"({"label":{"app=web":true,"dockpol.owner=alice":true,"tier":true},"name":{"x":true}})"},
        {"owner filters removed", R"({"label":{"dockpol.owner=bob":true,"dockpol.owner":true,"dockpol.owner.x=1":true}})",
         R"({"label":{"dockpol.owner.x=1":true,"dockpol.owner=alice":true}})"},
        {"legacy owner filter removed", R"({"label":["dockpol.owner=bob"]})", R"({"label":{"dockpol.owner=alice":true}})"},
        {"false values count as given", R"({"label":{"a":false}})", R"({"label":{"a":true,"dockpol.owner=alice":true}})"},
        {"null values", R"({"label":null,"name":null})", R"({"label":{"dockpol.owner=alice":true},"name":{}})"},
        {"escapes decoded and re-encoded", R"({"na\u006de":["a\"b","\u00e9"]})",
         "{\"label\":{\"dockpol.owner=alice\":true},\"name\":{\"a\\\"b\":true,\"\xC3\xA9\":true}}"},
        {"keys are exact", R"({"Label":{"dockpol.owner=bob":true}})",
         R"({"Label":{"dockpol.owner=bob":true},"label":{"dockpol.owner=alice":true}})"},
        {"whitespace", " { \"label\" : [ \"a\" ] } ", R"({"label":{"a":true,"dockpol.owner=alice":true}})"},
        {"invalid JSON", R"({"label":)", ""},
        {"an array", R"(["label"])", ""},
        {"a string value", R"({"label":"a"})", ""},
        {"a number in a list", R"({"label":[1]})", ""},
        {"a string in a set", R"({"label":{"a":"yes"}})", ""},
        {"mixed forms", R"({"label":["a"],"name":{"x":true}})", ""},
        {"repeated key", R"({"label":["a"],"label":["b"]})", ""},
        {"nested deeper", R"({"label":{"a":{"b":true}}})", ""},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        const auto r = merge_owner_filter(owner_form::list, c.given, owner, "alice");
        if (c.expect.empty()) {
            CHECK(r.error == owner_errc::bad_request);
            CHECK(r.reason.starts_with("filters: "));
        } else {
            CHECK(r.error == owner_errc::none);
            CHECK(r.filters == c.expect);
            CHECK_FALSE(r.rewrite.empty());
        }
    }
}

TEST_CASE("ownership: swarm lists refuse the caller's label filter", "[ownership]") {
    auto r = merge_owner_filter(owner_form::swarm_list, R"({"name":["web"]})", owner, "alice");
    CHECK(r.error == owner_errc::none);
    CHECK(r.filters == R"({"label":{"dockpol.owner=alice":true},"name":{"web":true}})");
    r = merge_owner_filter(owner_form::swarm_list, std::nullopt, owner, "alice");
    CHECK(r.filters == R"({"label":{"dockpol.owner=alice":true}})");
    for (const std::string_view given : {R"({"label":["x"]})", R"({"label":{}})", R"({"label":null})"}) {
        r = merge_owner_filter(owner_form::swarm_list, given, owner, "alice");
        CHECK(r.error == owner_errc::bad_request);
        CHECK(r.reason == "a label filter is not allowed here: dockerd keeps one value per key");
    }
    CHECK(merge_owner_filter(owner_form::target, std::nullopt, owner, "alice").error == owner_errc::bad_request);
    CHECK(merge_owner_filter(owner_form::list, std::nullopt, owner, "").error == owner_errc::bad_request);
}

TEST_CASE("ownership: replace_query_param keeps every other byte", "[ownership]") {
    const std::string v = R"({"label":{"o=a":true}})";
    const std::string enc = "%7B%22label%22%3A%7B%22o%3Da%22%3Atrue%7D%7D";
    CHECK(replace_query_param("/containers/json", "filters", v) == "/containers/json?filters=" + enc);
    CHECK(replace_query_param("/containers/json?", "filters", v) == "/containers/json?filters=" + enc);
    CHECK(replace_query_param("/v1.43/containers/json?all=1&size=0", "filters", v) ==
          "/v1.43/containers/json?all=1&size=0&filters=" + enc);
    CHECK(replace_query_param("/containers/json?all=1&", "filters", v) == "/containers/json?all=1&filters=" + enc);
    CHECK(replace_query_param("/containers/json?a=%41+b&filters=%7B%7D&z=%zz", "filters", v) ==
          "/containers/json?a=%41+b&filters=" + enc + "&z=%zz");
    // The key compared decoded, its spelling kept.
    CHECK(replace_query_param("/events?fil%74ers=x&since=1", "filters", v) == "/events?fil%74ers=" + enc + "&since=1");
    // Later repeats dropped; empty pieces elsewhere kept.
    CHECK(replace_query_param("/x?filters=1&&b=2&filters=3", "filters", "v") == "/x?filters=v&&b=2");
    CHECK(replace_query_param("/x?filtersx=1&xfilters=2&filters", "filters", "a b+é") ==
          "/x?filtersx=1&xfilters=2&filters=a%20b%2B%C3%A9");
    // Round trip through the decoder dockerd's reading follows.
    string_pairs q;
    CHECK(detail::parse_query("a=1&filters=" + enc, 10, q).empty());
    CHECK(q[1].second == v);
}

// --- named objects and the allow-own check -----------------------------------------

namespace {

request make_request(std::string_view action, std::string user = "alice") {
    request r;
    r.user = std::move(user);
    r.action = std::string(action);
    return r;
}

std::string container_inspect(std::string_view owner_value) {
    return R"({"Id":"c1","Config":{"Labels":{"dockpol.owner":")" + std::string(owner_value) + R"("}}})";
}
std::string labels_inspect(std::string_view owner_value) {
    return R"({"Name":"n","Labels":{"dockpol.owner":")" + std::string(owner_value) + R"("}})";
}
std::string spec_inspect(std::string_view owner_value) {
    return R"({"ID":"s1","Spec":{"Labels":{"dockpol.owner":")" + std::string(owner_value) + R"("}}})";
}

} // namespace

TEST_CASE("ownership: objects a request names", "[ownership]") {
    auto r = make_request("container_create");
    r.body = R"({"Image":"bb","HostConfig":{"Binds":["data:/d","/host:/h"],"Mounts":[{"Type":"volume","Source":"v2"},
        {"Type":"volume"},{"Type":"bind","Source":"/x"}],"VolumesFrom":["c1:ro"],"PidMode":"container:c2",
        "IpcMode":"host","NetworkMode":"net1"},"NetworkingConfig":{"EndpointsConfig":{"net1":{},"net2":{"Aliases":["a"]},
        "bridge":{},"default":null}}})";
    auto n = owned_objects_named(act("container_create"), r);
    CHECK(n.error == owner_errc::none);
    std::sort(n.keys.begin(), n.keys.end());
    CHECK(n.keys == std::vector<std::string>{"container:c1", "container:c2", "network:net1", "network:net2",
                                             "volume:data", "volume:v2"});
    r.body = R"({"HostConfig":{"NetworkMode":"bridge"},"NetworkingConfig":{"EndpointsConfig":{"host":{}}}})";
    CHECK(owned_objects_named(act("container_create"), r).keys.empty());
    r.body = R"({"HostConfig":{"Links":["db:database","/cache:/web/cache","plain"]}})";
    n = owned_objects_named(act("container_create"), r);
    CHECK(n.keys == std::vector<std::string>{"container:db", "container:cache", "container:plain"});
    r.body = R"({"HostConfig":{"Links":"db"}})";
    CHECK(owned_objects_named(act("container_create"), r).error == owner_errc::bad_request);
    r.body = R"({"HostConfig":{"NetworkMode":"container:web"}})";
    CHECK(owned_objects_named(act("container_create"), r).keys == std::vector<std::string>{"container:web"});
    r.body = R"({"Binds":["data:/d"]})";
    CHECK(owned_objects_named(act("container_create"), r).error == owner_errc::bad_request);
    r.body = R"({"NetworkingConfig":{"EndpointsConfig":[]}})";
    CHECK(owned_objects_named(act("container_create"), r).error == owner_errc::bad_request);

    auto s = make_request("service_create");
    s.body = R"({"Name":"s","TaskTemplate":{"ContainerSpec":{"Image":"bb","Secrets":[{"SecretID":"sec1","SecretName":"x"}],
        "Configs":[{"ConfigID":"cfg1"}],"Mounts":[{"Type":"volume","Source":"vol1"},{"Type":"bind","Source":"/h"}]},
        "Networks":[{"Target":"overlay1"},{"Target":"host"}]},"Networks":[{"Target":"old1"}]})";
    n = owned_objects_named(act("service_update"), s);
    std::sort(n.keys.begin(), n.keys.end());
    CHECK(n.keys == std::vector<std::string>{"config:cfg1", "network:old1", "network:overlay1", "secret:sec1",
                                             "volume:vol1"});
    s.body = R"({"TaskTemplate":{"ContainerSpec":{"Secrets":{}}}})";
    CHECK(owned_objects_named(act("service_create"), s).error == owner_errc::bad_request);

    auto c = make_request("network_connect");
    c.body = R"({"container":"web","EndpointConfig":{}})";
    CHECK(owned_objects_named(act("network_connect"), c).keys == std::vector<std::string>{"container:web"});
    c.body = R"({"Container":1})";
    CHECK(owned_objects_named(act("network_disconnect"), c).error == owner_errc::bad_request);

    auto i = make_request("image_commit");
    i.query = {{"repo", "x"}, {"container", "web"}, {"container", "other"}};
    CHECK(owned_objects_named(act("image_commit"), i).keys == std::vector<std::string>{"container:web"});
    CHECK(owned_objects_named(act("volume_create"), i).keys.empty());
}

TEST_CASE("ownership: allow own per owner form", "[ownership]") {
    // none
    auto r = make_request("system_info");
    CHECK(check_ownership(act("system_info"), r, owner).verdict == ownership::not_owned);
    // list forms: the filter rewrite restricts them
    CHECK(check_ownership(act("container_list"), make_request("container_list"), owner).verdict == ownership::owned);
    CHECK(check_ownership(act("secret_list"), make_request("secret_list"), owner).verdict == ownership::owned);
    // target: the container's labels (for an exec, its container's)
    for (const std::string_view a : {"container_start", "exec_start", "volume_delete", "secret_inspect"}) {
        INFO(a);
        auto t = make_request(a);
        t.resource_labels = {{"dockpol.owner", "alice"}};
        CHECK(check_ownership(act(a), t, owner).verdict == ownership::owned);
        t.resource_labels = {{"dockpol.owner", "bob"}};
        CHECK(check_ownership(act(a), t, owner).verdict == ownership::not_owned);
        t.resource_labels = {{"other", "alice"}};
        const auto res = check_ownership(act(a), t, owner);
        CHECK(res.verdict == ownership::not_owned);
        CHECK(res.reason == "the target has no owner label dockpol.owner");
    }
    // An empty user owns nothing, not even objects with an empty owner label.
    auto empty_user = make_request("container_start", "");
    empty_user.resource_labels = {{"dockpol.owner", ""}};
    CHECK(check_ownership(act("container_start"), empty_user, owner).verdict == ownership::error);
    // keep: the target, and the objects the new spec names
    auto u = make_request("service_update");
    u.resource_labels = {{"dockpol.owner", "alice"}};
    u.body = R"({"TaskTemplate":{"ContainerSpec":{"Secrets":[{"SecretID":"s1"}]}}})";
    auto res = check_ownership(act("service_update"), u, owner);
    CHECK(res.verdict == ownership::need_lookups);
    CHECK(res.lookups == std::vector<std::string>{"secret:s1"});
    u.objects = {{"secret:s1", spec_inspect("alice")}};
    CHECK(check_ownership(act("service_update"), u, owner).verdict == ownership::owned);
    u.objects = {{"secret:s1", spec_inspect("bob")}};
    CHECK(check_ownership(act("service_update"), u, owner).verdict == ownership::not_owned);
    u.resource_labels = {};
    CHECK(check_ownership(act("service_update"), u, owner).verdict == ownership::not_owned);
}

TEST_CASE("ownership: allow own on creates follows every named object", "[ownership]") {
    const auto cc = act("container_create");
    auto r = make_request("container_create");
    r.body = R"({"Image":"bb","HostConfig":{"Binds":["data:/d"],"VolumesFrom":["c1"],"NetworkMode":"net1"}})";
    auto res = check_ownership(cc, r, owner);
    REQUIRE(res.verdict == ownership::need_lookups);
    std::sort(res.lookups.begin(), res.lookups.end());
    CHECK(res.lookups == std::vector<std::string>{"container:c1", "network:net1", "volume:data"});
    // Partly looked up: only what is missing is asked for.
    r.objects = {{"volume:data", labels_inspect("alice")}};
    res = check_ownership(cc, r, owner);
    CHECK(res.verdict == ownership::need_lookups);
    CHECK(res.lookups.size() == 2);
    r.objects_known = true;
    r.objects = {{"volume:data", labels_inspect("alice")}, {"container:c1", container_inspect("alice")},
                 {"network:net1", labels_inspect("alice")}};
    CHECK(check_ownership(cc, r, owner).verdict == ownership::owned);
    // A volume dockerd does not have is created fresh: the caller's.
    r.objects = {{"container:c1", container_inspect("alice")}, {"network:net1", labels_inspect("alice")}};
    CHECK(check_ownership(cc, r, owner).verdict == ownership::owned);
    // A missing container or network is not.
    r.objects = {{"network:net1", labels_inspect("alice")}};
    res = check_ownership(cc, r, owner);
    CHECK(res.verdict == ownership::not_owned);
    CHECK(res.reason == "container:c1 does not exist");
    // Foreign or unlabelled objects are not.
    r.objects = {{"container:c1", container_inspect("bob")}, {"network:net1", labels_inspect("alice")}};
    res = check_ownership(cc, r, owner);
    CHECK(res.verdict == ownership::not_owned);
    CHECK(res.reason == "container:c1 belongs to another user");
    r.objects = {{"container:c1", R"({"Config":{"Labels":null}})"}, {"network:net1", labels_inspect("alice")}};
    CHECK(check_ownership(cc, r, owner).verdict == ownership::not_owned);
    // The label is read where each kind keeps it: a container's top-level Labels are not its labels.
    r.objects = {{"container:c1", labels_inspect("alice")}, {"network:net1", labels_inspect("alice")}};
    CHECK(check_ownership(cc, r, owner).verdict == ownership::not_owned);
    // A broken inspect answer cannot be decided.
    r.objects = {{"container:c1", "{"}, {"network:net1", labels_inspect("alice")}};
    res = check_ownership(cc, r, owner);
    CHECK(res.verdict == ownership::error);
    CHECK_FALSE(res.bad_request);
    // A body dockerd would not decode is a bad request.
    r.body = R"({"HostConfig":{"Binds":"x"}})";
    res = check_ownership(cc, r, owner);
    CHECK(res.verdict == ownership::error);
    CHECK(res.bad_request);
    // No named object: owned (the label splice makes the container the caller's).
    r.body = R"({"Image":"bb"})";
    CHECK(check_ownership(cc, r, owner).verdict == ownership::owned);
    CHECK(check_ownership(act("volume_create"), r, owner).verdict == ownership::owned);
}

TEST_CASE("ownership: named form and network_connect", "[ownership]") {
    auto i = make_request("image_commit");
    CHECK(check_ownership(act("image_commit"), i, owner).verdict == ownership::not_owned);
    i.query = {{"container", "web"}};
    CHECK(check_ownership(act("image_commit"), i, owner).verdict == ownership::need_lookups);
    i.objects_known = true;
    CHECK(check_ownership(act("image_commit"), i, owner).verdict == ownership::not_owned);
    i.objects = {{"container:web", container_inspect("alice")}};
    CHECK(check_ownership(act("image_commit"), i, owner).verdict == ownership::owned);

    auto c = make_request("network_connect");
    c.resource_labels = {{"dockpol.owner", "alice"}};
    c.body = R"({"Container":"web"})";
    c.objects_known = true;
    c.objects = {{"container:web", container_inspect("bob")}};
    CHECK(check_ownership(act("network_connect"), c, owner).verdict == ownership::not_owned);
    c.objects = {{"container:web", container_inspect("alice")}};
    CHECK(check_ownership(act("network_connect"), c, owner).verdict == ownership::owned);
}

// --- differential -----------------------------------------------------------------

TEST_CASE("ownership: spliced corpus bodies decode to the original plus the label", "[ownership][differential]") {
    namespace fs = std::filesystem;
    const fs::path root(DOCKPOL_SOURCE_ROOT);
    std::vector<std::string> bodies;
    const auto take = [&](std::string text) {
        // dockerd-decodable JSON objects only (nlohmann refuses numbers beyond double range: skipped).
        const json j = json::parse(text, nullptr, false);
        if (!j.is_discarded() && j.is_object()) bodies.push_back(std::move(text));
    };
    std::vector<fs::path> files;
    for (const auto& dir : fs::directory_iterator(root / "fuzz/corpus"))
        for (const auto& f : fs::directory_iterator(dir.path())) files.push_back(f.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
        if (bodies.size() >= 1000) break;
        std::string text = read_file(f);
        // body_facts_fuzz inputs start with a selector byte.
        if (!text.empty() && text[0] != '{' && text[0] != ' ') text.erase(0, 1);
        take(std::move(text));
    }
    for (const auto& f : fs::directory_iterator(root / "tests/unit/fixtures/facts")) {
        const json cases = json::parse(read_file(f.path()));
        for (const auto& c : cases)
            if (c.contains("body") && c["body"].is_object() && bodies.size() < 1000) take(c["body"].dump());
    }
    REQUIRE(bodies.size() >= 100);
    std::size_t spliced = 0, refused = 0;
    for (const auto& body : bodies) {
        for (const std::string_view action : {"container_create", "service_create"}) {
            const auto r = splice_owner_label(act(action), body, owner, "alice");
            if (r.error != owner_errc::none) {
                ++refused;
                continue;
            }
            INFO(action << ": " << body);
            const std::string& out = r.changed ? r.body : body;
            const json got = json::parse(out, nullptr, false);
            REQUIRE_FALSE(got.is_discarded());
            CHECK(got == expected_after_splice(json::parse(body), action, {owner, "alice"}));
            ++spliced;
        }
    }
    CHECK(spliced > refused);
}

} // namespace ownership_test
