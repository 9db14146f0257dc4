// Checker: the checked policy's normal forms (names inlined, fields resolved,
// action globs expanded), every error code with its location and help, --data
// constants, diagnostics order and cap, the lints, and the inlining limit.
#include <catch2/catch.hpp>

#include <algorithm>

#include "dsl_test_util.hpp"

// Each test file is its own namespace: the test executables are unity builds.
namespace check_test {

using namespace dockpol::dsl;
using dockpol::rt::field_id;
using dsl_test::analyze_text;
using dsl_test::with_code;

namespace {

checked_policy check_ok(const std::vector<source_file>& files, const front_options& o = {}) {
    auto r = analyze(files, o);
    INFO(render_text(r.diagnostics, r.ast.files));
    REQUIRE(dsl_test::error_count(r.diagnostics) == 0);
    REQUIRE(r.checked);
    return *r.checked;
}

const checked_rule& rule_named(const checked_policy& p, const std::string& name) {
    auto it = std::find_if(p.rules.begin(), p.rules.end(), [&](const checked_rule& r) { return r.name == name; });
    REQUIRE(it != p.rules.end());
    return *it;
}

bool set_has(const expr& set, const std::string& s) {
    return std::any_of(set.items.begin(), set.items.end(), [&](const expr& e) { return e.str == s; });
}

// The single diagnostic with `code`; its location and help.
struct expected { std::string code; std::uint32_t line, column; std::string help; };

void expect_only(const std::string& text, const expected& e, const front_options& o = {}) {
    const auto r = analyze_text(text, o);
    INFO(text << "\n" << render_text(r.diagnostics, r.ast.files));
    std::vector<diagnostic> errs;
    for (const auto& d : r.diagnostics)
        if (d.sev != severity::note) errs.push_back(d);
    REQUIRE(errs.size() == 1);
    CHECK(code_name(errs[0].code) == e.code);
    CHECK(errs[0].sp.line == e.line);
    CHECK(errs[0].sp.column == e.column);
    CHECK(errs[0].help == e.help);
}

} // namespace

TEST_CASE("check: the language reference example checks clean and inlines names") {
    const auto p = check_ok({dsl_test::fixture("design.dpol")});
    CHECK(p.default_effect == dockpol::rt::effect::deny);
    REQUIRE(p.rules.size() == 5);
    const auto& np = rule_named(p, "no_privileged");
    CHECK(np.pos.line == 7);
    CHECK(np.pos.column == 1);
    REQUIRE(np.cond->kind == expr_kind::and_);
    CHECK(np.cond->items[0].items[0].id == field_id::action);
    CHECK(np.cond->items[1].kind == expr_kind::field);
    CHECK(np.cond->items[1].id == field_id::container_privileged);

    const auto& devs = rule_named(p, "devs_prod_readonly");
    const expr& ro = devs.cond->items[1];
    CHECK(ro.op == compare_op::in);
    REQUIRE(ro.items[1].kind == expr_kind::set_lit);
    CHECK(ro.items[1].items.size() == 7);
    CHECK(ro.items[1].items[0].sp.line == 4);   // the let's element, not the use site
    CHECK(devs.cond->items[0].items[0].id == field_id::group);

    const auto& tr = rule_named(p, "trusted_registry");
    REQUIRE(tr.cond->items[1].kind == expr_kind::not_);
    CHECK(tr.cond->items[1].items[0].items[0].id == field_id::image_registry);

    const auto& sock = rule_named(p, "no_host_root_or_socket");
    const expr& q = sock.cond->items[1];
    REQUIRE(q.kind == expr_kind::any);
    CHECK(q.items[0].id == field_id::container_host_paths);
    CHECK(q.items[1].items[0].items[0].kind == expr_kind::loop_var);
    CHECK(q.items[1].items[0].items[0].key.empty());
}

TEST_CASE("check: normal forms of comparisons and keyed fields") {
    const auto p = check_ok({dsl_test::fixture("normal_forms.dpol")});
    const expr& sw = *rule_named(p, "swapped").cond;
    CHECK(sw.items[0].items[0].id == field_id::user);        // field moved left
    CHECK(sw.items[0].items[1].str == "root");
    CHECK(sw.items[1].op == compare_op::gt);                  // 3 < uid  →  uid > 3
    CHECK(sw.items[1].items[0].id == field_id::container_uid);

    const expr& k = *rule_named(p, "keyed").cond;
    CHECK(k.items[0].items[0].id == field_id::host_labels);
    CHECK(k.items[0].items[0].key == "env");
    CHECK(k.items[1].items[0].id == field_id::body);
    CHECK(k.items[1].items[0].key == "HostConfig.Privileged");
    CHECK(k.items[2].items[0].id == field_id::query);
    CHECK(k.items[2].items[0].key == "fromImage");
    CHECK(k.items[2].op == compare_op::matches);

    const expr& res = *rule_named(p, "resource").cond;
    CHECK(res.items[0].items[0].id == field_id::resource_labels);
    CHECK(res.items[0].items[0].key == "owner");
    CHECK(res.items[1].items[0].id == field_id::container_labels);
    CHECK(res.items[1].items[0].key == "team");

    const expr& l = *rule_named(p, "lists").cond;
    CHECK(l.items[0].items[0].kind == expr_kind::string_lit);  // "ALL" in LIST keeps the literal left
    CHECK(l.items[0].items[1].id == field_id::container_cap_add);
    CHECK(l.items[1].items[0].id == field_id::container_devices);

    const expr& loop = rule_named(p, "loop").cond->items[1];
    REQUIRE(loop.kind == expr_kind::any);
    CHECK(loop.items[0].key == "HostConfig.Mounts");
    CHECK(loop.items[1].items[0].items[0].kind == expr_kind::loop_var);
    CHECK(loop.items[1].items[0].items[0].key == "Type");
    CHECK(loop.items[1].items[1].items[0].key == "Source");

    const expr& g = *rule_named(p, "globbed").cond;
    REQUIRE(g.items[0].op == compare_op::in);
    CHECK(set_has(g.items[0].items[1], "container_list"));
    CHECK(set_has(g.items[0].items[1], "container_exec"));
    CHECK_FALSE(set_has(g.items[0].items[1], "image_list"));
    const expr& neg = g.items[1].items[0];
    CHECK(neg.op == compare_op::in);
    REQUIRE(neg.items[1].items.size() == 1);
    CHECK(neg.items[1].items[0].str == "container_exec");

    const expr& cv = *rule_named(p, "covers_both").cond;
    CHECK(cv.items[0].items[0].kind == expr_kind::string_lit);   // covers keeps its sides
    CHECK(cv.items[0].items[1].id == field_id::container_image);
    CHECK(cv.items[1].items[0].id == field_id::path);
}

const std::string_view own_action_help =
    "`own` works on creates (the owner label is set), actions on one container, volume, network, service, secret or "
    "config (it must be the caller's), and lists, events and prunes (filtered to the caller's); restrict the rule "
    "with `action in {...}` to such actions";

TEST_CASE("check: errors with their location and help") {
    struct row { const char* text; expected e; };
    const row rows[] = {
        {"default deny\nrule r: allow if action == \"contianer_list\"\n",
         {"dp-unknown-action", 2, 28, "did you mean \"container_list\"?"}},
        {"default deny\nrule r: allow if action in {\"image_list\", \"docker_ping\"}\n",
         {"dp-unknown-action", 2, 43, "did you mean \"system_ping\"?"}},
        {"default deny\nrule r: allow if action matches \"contianer_*\"\n",
         {"dp-unknown-action", 2, 33, "did you mean \"container_*\"?"}},
        {"default deny\nrule r: allow if usr == \"a\"\n", {"dp-undefined-name", 2, 18, "did you mean `user`?"}},
        {"default deny\nrule r: allow if container.privilged\n",
         {"dp-unknown-field", 2, 18, "did you mean `container.privileged`?"}},
        {"default deny\nrule r: allow if host.label.env == \"x\"\n",
         {"dp-unknown-field", 2, 18, "did you mean `host.labels.env`?"}},
        {"default deny\nrule r: allow if host.labels == \"x\"\n", {"dp-unknown-field", 2, 18, ""}},
        {"default deny\nrule r: allow if user < 3\n", {"dp-type", 2, 18, ""}},
        {"default deny\nrule r: allow if group < 3\n", {"dp-type", 2, 18, ""}},
        {"default deny\nrule r: allow if container.uid matches \"1*\"\n", {"dp-type", 2, 18, ""}},
        {"default deny\nrule r: allow if container.host_paths covers \"/\"\n",
         {"dp-type", 2, 18, "use `any p in container.host_paths: p covers ...`"}},
        {"default deny\nrule r: allow if any x in user: x == \"a\"\n", {"dp-type", 2, 27, ""}},
        {"default deny\nrule r: allow if user\n", {"dp-type", 2, 18, "compare it, e.g. `user == \"...\"`"}},
        {"default deny\nrule r: allow if user < host\n", {"dp-type", 2, 18, "only `==` and `!=` compare two fields"}},
        // Field-to-field `==`/`!=`: one scalar type on both sides.
        {"default deny\nrule r: allow if user == container.uid\n",
         {"dp-type", 2, 18, "two fields compare only when they have the same type"}},
        {"default deny\nrule r: allow if user == group\n",
         {"dp-type", 2, 26, "`group` is the set of the user's groups; compare it with a constant (`group == \"dev\"`) or use `in`"}},
        {"default deny\nrule r: allow if container.cap_add != user\n",
         {"dp-type", 2, 18, "test its elements with `any x in container.cap_add: ...` against constants"}},
        {"default deny\nrule r: allow if body.Image == user\n",
         {"dp-type", 2, 18, "two fields compare only when both are strings, numbers or bools"}},
        {"default deny\nrule r: allow if action == user\n",
         {"dp-type", 2, 18, "compare `action` with an action name or a set of them"}},
        // Ownership.
        {"default deny\nrule r: allow if action == \"container_inspect\" and resource.owner == user\n",
         {"dp-no-owner-label", 2, 52, "declare the label that records owners, e.g. `owner label \"dockpol.owner\"`"}},
        {"default deny\nrule r: allow own if action == \"container_list\"\n",
         {"dp-no-owner-label", 2, 15, "declare the label that records owners, e.g. `owner label \"dockpol.owner\"`"}},
        {"default deny\nowner label \"owner\"\n",
         {"dp-owner-label", 2, 13, "use a namespaced Docker label key, e.g. \"dockpol.owner\" or \"com.example.owner\""}},
        {"default deny\nowner label \"Dockpol.Owner\"\n",
         {"dp-owner-label", 2, 13, "use a namespaced Docker label key, e.g. \"dockpol.owner\" or \"com.example.owner\""}},
        {"default deny\nowner label \"com.docker.owner\"\n",
         {"dp-owner-label", 2, 13, "use a namespaced Docker label key, e.g. \"dockpol.owner\" or \"com.example.owner\""}},
        {"default deny\nowner label \"dockpol.owner\"\nowner label \"dockpol.owner\"\n",
         {"dp-duplicate-owner-label", 3, 1, "the first is at t.dpol:2:1"}},
        {"default deny\nowner label \"dockpol.owner\"\nrule bad: allow own if action == \"system_info\"\n",
         {"dp-own-action", 3, 17, std::string(own_action_help)}},
        {"default deny\nowner label \"dockpol.owner\"\nrule bad: allow own if group == \"dev\"\n",
         {"dp-own-action", 3, 17, std::string(own_action_help)}},
        {"default deny\nowner label \"dockpol.owner\"\nrule r: allow if action == \"system_info\" and resource.owner == user\n",
         {"dp-fact-action", 3, 46, "resource.owner exists only for checkpoint_list, checkpoint_create, checkpoint_delete, container_archive_info and 42 more"}},
        {"default deny\nrule r: deny own if user == \"x\"\n", {"dp-parse", 2, 14, "write `deny` alone"}},
        {"default deny\nrule r: allow if user in \"a\"\n", {"dp-type", 2, 18, "use `==` to compare with one value"}},
        {"default deny\nrule r: allow if container.uid in {\"1\"}\n", {"dp-type", 2, 18, ""}},
        {"default deny\nrule r: allow if any p in container.host_paths: user == \"a\"\n",
         {"dp-type", 2, 49, "move the test on `user` before the `any`/`all`, joined with `and`"}},
        {"default deny\nrule r: allow if any p in container.host_paths: p.x == \"a\"\n",
         {"dp-type", 2, 49, "use `p` itself"}},
        {"default deny\nrule r: allow if body.Foo < 3 and body.Bar matches \"x\" and body.Baz and \"a\" in body.L\n",
         {"dp-no-error", 0, 0, ""}},
        {"default deny\nrule r: allow if host matches \"web-[ab\"\n", {"dp-bad-glob", 2, 31, ""}},
        {"default deny\nrule r: allow if user == \"a\"\nrule r: deny if user == \"b\"\n", {"dp-duplicate-rule", 3, 6, "the first definition is at t.dpol:2:6"}},
        {"default deny\nrule r: allow if user == nobody\n", {"dp-undefined-name", 2, 26, ""}},
        {"default deny\nlet a = b\nlet b = a\n", {"dp-undefined-name", 3, 9, ""}},
        {"default deny\nlet a = 1\nlet a = 2\n", {"dp-duplicate-let", 3, 5, "the first definition is at t.dpol:2:5"}},
        {"default deny\nlet user = \"x\"\n", {"dp-duplicate-let", 2, 5, ""}},
        {"default deny\nlet x = container.privileged\n", {"dp-type", 2, 9, "use the field directly in rule conditions"}},
        {"default deny\ndefault allow\n", {"dp-duplicate-default", 2, 1, "the first is at t.dpol:1:1"}},
    };
    for (const auto& r : rows) {
        if (r.e.code == "dp-no-error") {
            INFO(r.text);
            CHECK(dsl_test::error_count(analyze_text(r.text).diagnostics) == 0);   // body.* is dynamic
            continue;
        }
        expect_only(r.text, r.e);
    }
}

TEST_CASE("check: all errors are reported in one run, sorted by file, line and column") {
    const auto r = analyze({source_file{"b.dpol", "rule x: allow if usr == \"a\"\nrule y: allow if action == \"nope\"\n"},
                            source_file{"a.dpol", "default deny\nrule z: allow if user < 1\n"}});
    REQUIRE(r.diagnostics.size() == 3);
    CHECK(r.diagnostics[0].file == "b.dpol");
    CHECK(r.diagnostics[0].sp.line == 1);
    CHECK(r.diagnostics[1].file == "b.dpol");
    CHECK(r.diagnostics[1].sp.line == 2);
    CHECK(r.diagnostics[2].file == "a.dpol");
    CHECK_FALSE(r.checked);
}

TEST_CASE("check: lets and rule names are global across files") {
    const auto p = check_ok({source_file{"a.dpol", "let admins = {\"ops\"}\nrule a: allow if group in admins\n"},
                             source_file{"b.dpol", "default deny\nrule b: allow if group in admins and user == \"x\"\n"}});
    REQUIRE(p.rules.size() == 2);
    CHECK(p.rules[1].pos.file == 1);
    const auto r = analyze({source_file{"a.dpol", "rule a: allow\n"}, source_file{"b.dpol", "default deny\nrule a: deny\n"}});
    REQUIRE(with_code(r.diagnostics, "dp-duplicate-rule").size() == 1);
    CHECK(with_code(r.diagnostics, "dp-duplicate-rule")[0].file == "b.dpol");
}

TEST_CASE("check: a missing default is a note and means deny") {
    const auto r = analyze_text("rule a: allow if user == \"x\"\n");
    const auto notes = with_code(r.diagnostics, "dp-no-default");
    REQUIRE(notes.size() == 1);
    CHECK(notes[0].sev == severity::note);
    REQUIRE(r.checked);
    CHECK(r.checked->default_effect == dockpol::rt::effect::deny);
}

TEST_CASE("check: no dp-no-default after an error that left part of the policy unread") {
    // Each policy lacks a `default`, but the error comes first: the statement it hides may be the default.
    std::string many;
    for (std::size_t i = 0; i <= max_rules; ++i)
        many += "rule r" + std::to_string(i) + ": allow if user == \"u" + std::to_string(i) + "\"\n";
    const std::string deep = "rule d: allow if " + std::string(max_nesting_depth + 1, '(') + "user == \"x\"" +
                             std::string(max_nesting_depth + 1, ')') + "\n";
    const std::string big = "rule b: allow if user == \"x\"\n#" + std::string(max_file_bytes, 'x') + "\n";
    const std::string typo = "defualt deny\nrule r: allow if user == \"x\"\n";
    for (const auto& [text, code] : {std::pair{many, "dp-limit"}, std::pair{deep, "dp-limit"},
                                     std::pair{big, "dp-limit"}, std::pair{typo, "dp-parse"}}) {
        const auto r = analyze_text(text);
        INFO(text.substr(0, 80));
        CHECK(with_code(r.diagnostics, code).size() == 1);
        CHECK(with_code(r.diagnostics, "dp-no-default").empty());
    }
}

TEST_CASE("check: body paths the Engine API types as bool or number") {
    const std::string create = "default deny\nrule r: deny if action == \"container_create\" and ";
    // Column 50: where the comparison starts, after the action test.
    expect_only(create + "body.HostConfig.Privileged == \"true\"\n",
                {"dp-type", 2, 50, "drop the quotes: `body.HostConfig.Privileged == true`"});
    expect_only(create + "body.HostConfig.Memory != \"0\"\n",
                {"dp-type", 2, 50, "drop the quotes: `body.HostConfig.Memory != 0`"});
    expect_only(create + "body.Tty == \"false\"\n", {"dp-type", 2, 50, "drop the quotes: `body.Tty == false`"});
    // A bool path with a number and a number path with a bool (no quotes to drop).
    expect_only(create + "body.HostConfig.Privileged == 1\n", {"dp-type", 2, 50, ""});
    expect_only(create + "body.HostConfig.Memory == true\n", {"dp-type", 2, 50, ""});
    expect_only(create + "body.HostConfig.Privileged < 1\n", {"dp-type", 2, 50, ""});
    expect_only(create + "body.HostConfig.Memory in {\"1\"}\n", {"dp-type", 2, 50, ""});
    // dockerd matches JSON keys case-insensitively, and so does the table.
    expect_only(create + "body.hostconfig.PRIVILEGED == \"true\"\n",
                {"dp-type", 2, 50, "drop the quotes: `body.hostconfig.PRIVILEGED == true`"});
    const auto msg = analyze_text(create + "body.HostConfig.Privileged == \"true\"\n").diagnostics;
    REQUIRE(with_code(msg, "dp-type").size() == 1);
    CHECK(with_code(msg, "dp-type")[0].message ==
          "cannot compare `body.HostConfig.Privileged` (a bool in the Engine API) with \"true\" (a string)");
    // Every action of the rule types the path alike: still an error.
    expect_only("default deny\nrule r: deny if action in {\"container_create\", \"container_exec\"} and body.Tty == \"1\"\n",
                {"dp-type", 2, 70, ""});
    // One of them does not (volume_create has no Tty; dockerd ignores the key): only the warning.
    expect_only("default deny\nrule r: deny if action in {\"container_create\", \"volume_create\"} and body.Tty == \"true\"\n",
                {"dp-quoted-literal", 2, 81, "if the API sends a boolean, drop the quotes: `body.Tty == true`"});
    expect_only("default deny\nrule r: deny if body.HostConfig.Privileged == \"true\"\n",
                {"dp-quoted-literal", 2, 47, "if the API sends a boolean, drop the quotes: `body.HostConfig.Privileged == true`"});
    // Paths the table does not type (strings, maps) compare with strings as before.
    check_ok({source_file{"t.dpol", create + "body.HostConfig.Privileged == true and body.HostConfig.Memory > 1000 "
                                             "and body.HostConfig.NetworkMode == \"host\" and body.Labels.x == \"1\"\n"}});
    // The table itself: generated rows for the paths the docs name.
    const dockpol::rt::action_mask creates = dockpol::rt::action_mask{}.set(*dockpol::rt::find_action("container_create"));
    CHECK(body_path_type("HostConfig.Privileged", creates) == body_type::boolean);
    CHECK(body_path_type("HostConfig.Memory", creates) == body_type::number);
    CHECK(body_path_type("Tty", creates) == body_type::boolean);
    CHECK_FALSE(body_path_type("Image", creates).has_value());
    CHECK_FALSE(body_path_type("HostConfig.Privileged", std::nullopt).has_value());
}

TEST_CASE("check: --data constants") {
    front_options o;
    o.data.push_back({"groups.json", dsl_test::read_text(dsl_test::fixture_path("data_groups.json"))});
    const auto p = check_ok({source_file{"t.dpol",
                                         "default deny\nrule r: allow if group in ldap_admins and host matches prod_pattern "
                                         "and container.uid < max_uid and container.privileged == strict\n"}},
                            o);
    const expr& c = *p.rules[0].cond;
    REQUIRE(c.items[0].items[1].kind == expr_kind::set_lit);
    CHECK(c.items[0].items[1].items.size() == 2);
    CHECK(c.items[0].items[1].sp.line == 2);          // data values take the use site's span
    CHECK(c.items[1].items[1].str == "prod-*");
    CHECK(c.items[2].items[1].num == 1000);
    CHECK(c.items[3].items[1].boolean == true);
}

TEST_CASE("check: bad --data files") {
    auto data_diags = [](const std::string& json, const std::string& policy = "default deny\n") {
        front_options o;
        o.data.push_back({"d.json", json});
        return with_code(analyze_text(policy, o).diagnostics, "dp-data");
    };
    auto d = data_diags("{\n  \"a\": [1,\n");
    REQUIRE(d.size() == 1);
    CHECK(d[0].file == "d.json");
    CHECK(d[0].sp.line == 3);
    CHECK(data_diags("[\"a\"]").size() == 1);
    const auto located = data_diags("{\n  \"ok\": \"x\",\n  \"bad\": null\n}");
    REQUIRE(located.size() == 1);
    CHECK(located[0].sp.line == 3);
    CHECK(located[0].sp.column == 3);
    CHECK(located[0].message == "key \"bad\": must be a string, number, bool or array of strings");
    CHECK(data_diags("{\"a\": [1, 2]}")[0].message == "key \"a\": arrays must hold strings only (they become sets)");
    CHECK(data_diags("{\"a\": {\"b\": 1}}").size() == 1);
    CHECK(data_diags("{\"not\": \"x\"}").size() == 1);
    CHECK(data_diags("{\"user\": \"x\"}").size() == 1);
    const auto clash = data_diags("{\"admins\": [\"x\"]}", "default deny\nlet admins = {\"y\"}\n");
    REQUIRE(clash.size() == 1);
    CHECK(clash[0].file == "t.dpol");
    CHECK(clash[0].sp.line == 2);
    CHECK(clash[0].sp.column == 5);
}

TEST_CASE("check: no undefined names for what a bad --data file would have defined") {
    auto diags = [](const std::string& json, const std::string& policy) {
        front_options o;
        o.data.push_back({"d.json", json});
        return analyze_text(policy, o).diagnostics;
    };
    const std::string uses = "default deny\nrule r: allow if group in ldap_admins and host == prod_host\n";
    // The file could not be read: any unknown name may be one of its keys.
    for (const std::string& json : {std::string("{\"ldap_admins\": [\"a\"],"), std::string("[\"a\"]"),
                                   "{\"x\": \"" + std::string(max_data_bytes, 'x') + "\"}"}) {
        const auto ds = diags(json, uses);
        INFO(json.substr(0, 40));
        CHECK(with_code(ds, "dp-data").size() == 1);
        CHECK(with_code(ds, "dp-undefined-name").empty());
        CHECK(ds.size() == 1);
    }
    // A key whose value is bad is still known; the other, good key is used as usual.
    const auto bad_key = diags("{\"ldap_admins\": [1], \"prod_host\": \"p\"}", uses);
    CHECK(with_code(bad_key, "dp-data").size() == 1);
    CHECK(with_code(bad_key, "dp-undefined-name").empty());
    CHECK(bad_key.size() == 1);
    // A `let` of a bad key reads quietly too.
    CHECK(diags("{\"a\": null}", "default deny\nlet b = a\nrule r: allow if user == b\n").size() == 1);
    // A name no data file could define is still undefined.
    const auto read = diags("{\"ldap_admins\": [\"a\"]}", uses);
    REQUIRE(with_code(read, "dp-undefined-name").size() == 1);
    CHECK(with_code(read, "dp-undefined-name")[0].message == "undefined name `prod_host`");
}

TEST_CASE("check: diagnostics are capped with a note") {
    std::string text = "default deny\n";
    for (int i = 0; i < 150; ++i) text += "rule r" + std::to_string(i) + ": allow if usr" + std::to_string(i) + "\n";
    const auto r = analyze_text(text);
    REQUIRE(r.diagnostics.size() == max_diagnostics + 1);
    CHECK(r.diagnostics.back().code == diag_code::truncated);
    CHECK(r.diagnostics.back().sev == severity::note);
    CHECK(r.diagnostics.back().message == "50 more diagnostics not shown (at most 100 are reported)");
}

TEST_CASE("limit: size after inlining names") {
    std::string set = "let big = {";
    for (std::size_t i = 0; i < max_set_elements; ++i) set += (i ? ", \"" : "\"") + std::to_string(i) + "\"";
    set += "}\n";
    auto policy = [&](std::size_t uses) {
        std::string t = "default deny\n" + set;
        for (std::size_t i = 0; i < uses; ++i) t += "rule r" + std::to_string(i) + ": allow if user in big and host == \"h" + std::to_string(i) + "\"\n";
        return t;
    };
    CHECK(with_code(analyze_text(policy(10)).diagnostics, "dp-limit").empty());
    const auto ds = with_code(analyze_text(policy(300)).diagnostics, "dp-limit");
    REQUIRE(ds.size() == 1);
    CHECK(ds[0].message == "the policy is larger than 1048576 nodes once `let` names are inlined");
}

TEST_CASE("lint: unreachable and shadowed rules") {
    const auto r = analyze_text(
        "default deny\n"
        "rule a: allow if group in {\"ops\"} and host matches \"prod*\"\n"
        "rule b: deny if host matches \"prod*\" and group in {\"ops\"} and user == \"x\"\n"   // shadowed by a
        "rule c: deny if group in {\"ops\"}\n"                                                // not shadowed
        "rule d: deny if group in {\"ops\", \"dev\"} and host matches \"prod*\"\n"            // unsure: silent
        "rule e: allow\n"
        "rule f: deny if user == \"x\"\n");                                                 // unreachable
    const auto sh = with_code(r.diagnostics, "dp-shadowed-rule");
    REQUIRE(sh.size() == 1);
    CHECK(sh[0].sp.line == 3);
    CHECK(sh[0].sev == severity::warning);
    const auto un = with_code(r.diagnostics, "dp-unreachable-rule");
    REQUIRE(un.size() == 1);
    CHECK(un[0].sp.line == 7);
    CHECK(r.checked);   // warnings do not block
}

TEST_CASE("lint: exec and attach denials") {
    const auto deny_hijack = analyze_text("default allow\nrule no_exec: deny if action == \"exec_start\" and user == \"x\"\n");
    const auto w = with_code(deny_hijack.diagnostics, "dp-exec-attach");
    REQUIRE(w.size() == 1);
    CHECK(w[0].help == "deny `container_exec` instead, so the user sees the rule's name");

    const auto missing_start = analyze_text("default deny\nrule devs: allow if action == \"container_exec\"\n");
    const auto m = with_code(missing_start.diagnostics, "dp-exec-attach");
    REQUIRE(m.size() == 1);
    CHECK(m[0].sp.line == 2);
    CHECK(m[0].help == "allow `exec_start` under the same condition");

    CHECK(with_code(analyze_text("default deny\nrule devs: allow if action in {\"container_exec\", \"exec_start\"}\n").diagnostics,
                    "dp-exec-attach")
              .empty());
    CHECK(with_code(analyze_text("default deny\nrule devs: allow if action == \"container_exec\"\nrule ops: allow if group in {\"ops\"}\n")
                        .diagnostics,
                    "dp-exec-attach")
              .empty());
}

TEST_CASE("lint: `not` over a field that can be absent") {
    const auto r = analyze_text("default deny\nrule r: deny if not body.HostConfig.Privileged == false\n");
    const auto w = with_code(r.diagnostics, "dp-absent-not");
    REQUIRE(w.size() == 1);
    CHECK(w[0].sp.line == 2);
    CHECK(w[0].sp.column == 17);
    CHECK(w[0].help == "a comparison with an absent value is false, so this `not` is true when "
                       "`body.HostConfig.Privileged` is absent; `body.HostConfig.Privileged != ...` is false when it is absent");
    CHECK(with_code(analyze_text("default deny\nrule r: allow if not group in {\"x\"}\n").diagnostics, "dp-absent-not").empty());
    CHECK(with_code(analyze_text("default deny\nrule r: deny if action == \"container_create\" and not container.image_registry in {\"r\"}\n")
                        .diagnostics,
                    "dp-absent-not")
              .empty());
    CHECK(with_code(analyze_text("default deny\nrule r: deny if not host.labels.env == \"prod\"\n").diagnostics, "dp-absent-not").size() == 1);
}

TEST_CASE("limit: --data file size") {
    front_options o;
    std::string big = "{\"a\": \"";
    big += std::string(max_data_bytes, 'x');
    big += "\"}";
    o.data.push_back({"big.json", big});
    const auto ds = with_code(analyze_text("default deny\n", o).diagnostics, "dp-data");
    REQUIRE(ds.size() == 1);
    CHECK(ds[0].message == "data file is " + std::to_string(big.size()) + " bytes; the limit is 4194304");
    CHECK(ds[0].file == "big.json");
    front_options small;
    small.data.push_back({"small.json", "{\"a\": \"x\"}"});
    CHECK(with_code(analyze_text("default deny\n", small).diagnostics, "dp-data").empty());
}

} // namespace check_test
