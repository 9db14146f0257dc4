// Lowering and compile(): constant interning, slot allocation, the shape of
// the code for each condition form, blocks for any/all, the body/resource
// action sets, builtin_ping, positions, manifest and revision, and the
// dp-limit / dp-internal paths.
#include <catch2/catch.hpp>

#include "dockpol/dsl.hpp"
#include "fixtures/backend/ast_builder.hpp"

// Each test file is its own namespace: the test executables are unity builds.
namespace lower_test {

using namespace dockpol;
using namespace dockpol::test_ast;
using rt::opcode;

namespace {

rt::program_image compile_text(const std::string& text, std::string revision = "r1") {
    auto res = dsl::compile({dsl::source_file{"p.dpol", text}}, {}, std::move(revision));
    std::string diags;
    for (const auto& d : res.diagnostics) diags += std::string(dockpol::dsl::code_name(d.code)) + " " + d.message + "\n";
    INFO(diags);
    REQUIRE(res.image);
    return *res.image;
}

// The opcodes of rule `i`'s body, without its final ret.
std::vector<opcode> ops(const rt::program_image& im, std::size_t i) {
    std::vector<opcode> out;
    for (auto pc = im.rules[i].code_begin; pc + 1 < im.rules[i].code_end; ++pc) out.push_back(im.code[pc].op);
    return out;
}

const rt::insn& at(const rt::program_image& im, std::size_t rule, std::size_t k) {
    return im.code[im.rules[rule].code_begin + k];
}

std::vector<std::string> set_names(const rt::program_image& im, std::uint32_t s) {
    std::vector<std::string> out;
    for (auto id : im.sets[s]) out.push_back(im.strings[id]);
    return out;
}

std::string slot_text(const rt::program_image& im, std::uint16_t s) {
    return std::string(rt::info(im.slots[s].field).name) + (im.slots[s].key.empty() ? "" : "." + im.slots[s].key);
}

} // namespace

TEST_CASE("interning: strings, sets, numbers and globs are deduplicated") {
    auto im = compile_text("default deny\n"
                           "rule a: allow if host matches \"p*\" and user in {\"x\", \"y\"} and container.uid == 1\n"
                           "rule b: allow if user in {\"y\", \"x\"} and host matches \"p*\" and container.uid > 1\n");
    CHECK(im.globs.size() == 1);
    CHECK(im.numbers == std::vector<double>{1});
    // {"x","y"} once, plus body_actions and resource_actions sets.
    CHECK(std::count(im.sets.begin(), im.sets.end(), im.sets[at(im, 0, 2).arg]) == 1);
    CHECK(at(im, 0, 2).arg == at(im, 1, 0).arg);
    std::set<std::string> uniq(im.strings.begin(), im.strings.end());
    CHECK(uniq.size() == im.strings.size());
    CHECK(rt::verify(im) == std::nullopt);
}

TEST_CASE("slots: one per distinct field and key") {
    auto im = compile_text("rule a: allow if host.labels.env == \"prod\" and host.labels.zone == \"a\"\n"
                           "rule b: deny if host.labels.env == \"dev\" or user == \"x\"\n");
    REQUIRE(im.slots.size() == 3);
    CHECK(slot_text(im, 0) == "host.labels.env");
    CHECK(slot_text(im, 1) == "host.labels.zone");
    CHECK(slot_text(im, 2) == "user");
    CHECK(at(im, 1, 0).slot == 0);
}

TEST_CASE("condition forms lower to the documented opcodes") {
    auto im = compile_text(
        "rule r0: allow if group in {\"dev\"}\n"
        "rule r1: allow if group == \"dev\"\n"
        "rule r2: allow if group != \"dev\"\n"
        "rule r3: allow if \"dev\" in groups\n"
        "rule r4: allow if user in {\"a\"}\n"
        "rule r5: allow if action == \"container_list\"\n"
        "rule r6: allow if action in {\"container_list\", \"image_list\"}\n"
        "rule r7: allow if container.privileged\n"
        "rule r8: allow if container.privileged == true\n"
        "rule r9: allow if container.uid >= 1000\n"
        "rule r10: allow if container.image covers \"/a\"\n"
        "rule r11: allow if \"/a\" covers container.image\n"
        "rule r12: allow if host matches \"prod*\"\n"
        "rule r13: allow if not user == \"a\"\n"
        "rule r14: allow if user != \"a\"\n"
        "rule r15: allow if action != \"container_list\"\n"
        "rule r16: allow\n");
    using V = std::vector<opcode>;
    CHECK(ops(im, 0) == V{opcode::list_meets});
    CHECK(ops(im, 1) == V{opcode::list_has});
    CHECK(ops(im, 2) == V{opcode::list_has, opcode::negate});
    CHECK(ops(im, 3) == V{opcode::list_has});
    CHECK(ops(im, 4) == V{opcode::str_in});
    CHECK(ops(im, 5) == V{opcode::action_eq});
    CHECK(ops(im, 6) == V{opcode::action_in});
    CHECK(set_names(im, at(im, 6, 0).arg) == std::vector<std::string>{"container_list", "image_list"});
    CHECK(ops(im, 7) == V{opcode::is_true});
    CHECK(ops(im, 8) == V{opcode::bool_eq});
    CHECK(at(im, 8, 0).aux == 1);
    CHECK(ops(im, 9) == V{opcode::num_cmp});
    CHECK(at(im, 9, 0).aux == static_cast<std::uint8_t>(rt::cmp_op::ge));
    CHECK(im.numbers[at(im, 9, 0).arg] == 1000);
    CHECK(ops(im, 10) == V{opcode::covers});
    CHECK(ops(im, 11) == V{opcode::covered_by});
    CHECK(ops(im, 12) == V{opcode::str_glob});
    CHECK(ops(im, 13) == V{opcode::str_eq, opcode::negate});
    CHECK(ops(im, 14) == V{opcode::str_ne});
    CHECK(ops(im, 15) == V{opcode::action_eq, opcode::negate});
    CHECK(ops(im, 16) == V{opcode::load_true});
    CHECK(im.strings[im.rules.back().name] == "builtin_ping");
    CHECK(im.rules.size() == 18);
}

TEST_CASE("literal on the left is mirrored") {
    auto pol = policy({rule("r", rt::effect::allow, cmp(compare_op::lt, num(5), field(rt::field_id::container_uid)))});
    auto im = dsl::lower(pol, test_manifest());
    CHECK(at(im, 0, 0).op == opcode::num_cmp);
    CHECK(at(im, 0, 0).aux == static_cast<std::uint8_t>(rt::cmp_op::gt));
}

TEST_CASE("and / or become forward jumps to the end of the operand list") {
    auto im = compile_text("rule r: allow if (user == \"a\" or user == \"b\") and not host == \"h\"\n");
    using V = std::vector<opcode>;
    REQUIRE(ops(im, 0) == V{opcode::str_eq, opcode::jump_if_true, opcode::str_eq, opcode::jump_if_false,
                            opcode::str_eq, opcode::negate});
    const auto b = im.rules[0].code_begin;
    CHECK(at(im, 0, 1).arg == b + 3);  // or: past its last operand, onto the and's test
    CHECK(at(im, 0, 3).arg == b + 6);  // and: onto ret
    CHECK(im.code[b + 6].op == opcode::ret);
}

TEST_CASE("any / all become blocks of element code with sub-paths on the list slot") {
    auto im = compile_text(
        "rule r: deny if any m in body.HostConfig.Mounts: m.Type == \"bind\" and m.Source covers \"/etc\"\n"
        "rule s: deny if all p in container.host_paths: p covers \"/data\"\n");
    REQUIRE(im.blocks.size() == 2);
    const auto& any = at(im, 0, 0);
    CHECK(any.op == opcode::any);
    CHECK(slot_text(im, any.slot) == "body.HostConfig.Mounts");
    CHECK(im.slots[any.slot].subpaths == std::vector<std::string>{"Type", "Source"});
    const auto& blk = im.blocks[any.arg];
    CHECK(im.code[blk.code_begin].op == opcode::str_eq);
    CHECK(im.code[blk.code_begin].src == rt::operand_src::element);
    CHECK(im.code[blk.code_begin].slot == 1);
    CHECK(im.code[blk.code_begin + 2].op == opcode::covers);
    CHECK(im.code[blk.code_begin + 2].slot == 2);
    const auto& all = at(im, 1, 0);
    CHECK(all.op == opcode::all);
    CHECK(im.code[im.blocks[all.arg].code_begin].slot == 0);  // the element itself
    // Blocks follow all rule code.
    CHECK(blk.code_begin >= im.rules.back().code_end);
}

TEST_CASE("body_actions and resource_actions") {
    auto names = [](const rt::program_image& im, std::uint32_t s) { return set_names(im, s); };
    SECTION("a fact rule guarded by its action") {
        auto im = compile_text("rule r: deny if action == \"container_create\" and container.privileged\n");
        CHECK(names(im, im.body_actions) == std::vector<std::string>{"container_create"});
        CHECK(names(im, im.resource_actions).empty());
    }
    SECTION("an unguarded fact rule still only needs the fact's actions") {
        auto im = compile_text("rule r: deny if container.privileged or exec.privileged\n");
        // container.* facts also come from a service's ContainerSpec (facts.def scope fact_container).
        CHECK(names(im, im.body_actions) ==
              std::vector<std::string>{"container_create", "container_exec", "service_create", "service_update"});
    }
    SECTION("image facts need no body") {
        auto im = compile_text("rule r: deny if image.registry == \"docker.io\"\n");
        CHECK(names(im, im.body_actions).empty());
    }
    SECTION("raw body paths: the guarded actions with a JSON body") {
        auto im = compile_text("rule r: deny if action in {\"container_create\", \"container_list\"} and body.Tty == true\n");
        CHECK(names(im, im.body_actions) == std::vector<std::string>{"container_create"});
        auto all = compile_text("rule r: deny if body.Tty == true\n");
        auto want = std::vector<std::string>{};
        for (const auto& a : rt::all_actions())
            if (a.json_body) want.emplace_back(a.name);
        std::sort(want.begin(), want.end());
        CHECK(names(all, all.body_actions) == want);
    }
    SECTION("an action guard inside parenthesised `and`s still guards (rule_actions.hpp flattens them)") {
        auto im = compile_text("rule r: deny if (user == \"x\" and action == \"container_create\") and container.privileged\n");
        CHECK(names(im, im.body_actions) == std::vector<std::string>{"container_create"});
    }
    SECTION("resource fields: guarded actions that name an inspectable target") {
        auto im = compile_text("rule r: allow if action in {\"container_list\", \"container_logs\"} and resource.name == \"web\"\n");
        CHECK(names(im, im.resource_actions) == std::vector<std::string>{"container_logs"});
    }
}

TEST_CASE("field-to-field comparisons lower to slot_eq / slot_ne on two slots") {
    auto im = compile_text("owner label \"dockpol.owner\"\n"
                           "rule a: allow if action == \"container_inspect\" and resource.labels.team == host.labels.team\n"
                           "rule b: deny if user != resource.owner and action == \"container_stop\"\n"
                           "rule c: deny if container.uid == container.uid and action == \"container_create\"\n");
    REQUIRE(ops(im, 0) == std::vector<opcode>{opcode::action_eq, opcode::jump_if_false, opcode::slot_eq});
    const auto& a = at(im, 0, 2);
    CHECK(slot_text(im, a.slot) == "resource.labels.team");
    CHECK(slot_text(im, static_cast<std::uint16_t>(a.arg)) == "host.labels.team");
    REQUIRE(ops(im, 1) == std::vector<opcode>{opcode::slot_ne, opcode::jump_if_false, opcode::action_eq});
    const auto& b = at(im, 1, 0);
    CHECK(slot_text(im, b.slot) == "user");   // source order is kept
    CHECK(slot_text(im, static_cast<std::uint16_t>(b.arg)) == "resource.owner");
    CHECK(ops(im, 2)[0] == opcode::slot_eq);
}

TEST_CASE("ownership: owner label, own rules and what dockpold must fetch") {
    auto names = [](const rt::program_image& im, std::uint32_t s) { return set_names(im, s); };
    auto creates_and_updates = std::vector<std::string>{"config_create", "config_update", "container_create",
                                                        "network_create", "secret_create", "secret_update",
                                                        "service_create", "service_update", "volume_create"};
    SECTION("no owner label: nothing changes") {
        auto im = compile_text("rule r: allow if user == \"x\"\n");
        CHECK(im.owner_label.empty());
        CHECK(names(im, im.body_actions).empty());
        CHECK_FALSE(im.rules[0].own);
    }
    auto updates = std::vector<std::string>{"config_update", "secret_update", "service_update"};
    SECTION("an owner label: every create and keep action's body is read, an update's target looked up") {
        auto im = compile_text("owner label \"dockpol.owner\"\nrule r: allow if user == \"x\"\n");
        CHECK(im.owner_label == "dockpol.owner");
        CHECK(names(im, im.body_actions) == creates_and_updates);
        // An update must keep the target's owner label: dockpold needs the target's.
        CHECK(names(im, im.resource_actions) == updates);
    }
    SECTION("allow own: targets are inspected, bodies read, per its actions") {
        auto im = compile_text("owner label \"dockpol.owner\"\n"
                               "rule r: allow own if action in {\"container_list\", \"container_stop\", \"service_update\"}\n"
                               "rule s: allow if group == \"admins\"\n");
        CHECK(im.rules[0].own);
        CHECK_FALSE(im.rules[1].own);
        CHECK_FALSE(im.rules.back().own);   // builtin_ping
        CHECK(names(im, im.resource_actions) ==
              std::vector<std::string>{"config_update", "container_stop", "secret_update", "service_update"});
        CHECK(names(im, im.body_actions) == creates_and_updates);
    }
    SECTION("resource.owner: the actions that have it are inspected") {
        auto im = compile_text("owner label \"dockpol.owner\"\n"
                               "rule r: allow if action in {\"container_list\", \"volume_delete\", \"exec_start\"} and resource.owner == user\n");
        CHECK(names(im, im.resource_actions) == std::vector<std::string>{"config_update", "exec_start", "secret_update",
                                                                         "service_update", "volume_delete"});
        REQUIRE(im.slots.size() == 2);
        CHECK(im.slots[0].field == rt::field_id::resource_owner);
        CHECK(im.slots[0].key.empty());
    }
}

TEST_CASE("positions, default, manifest and revision") {
    const std::string text = "default allow\n\nrule a: deny if user == \"x\"\nrule b:\n    deny\n";
    auto res = dsl::compile({dsl::source_file{"p.dpol", text}}, {});
    REQUIRE(res.image);
    const auto& im = *res.image;
    CHECK(im.default_effect == rt::effect::allow);
    CHECK(im.rule_positions[0] == rt::source_pos{0, 3, 1});
    CHECK(im.rule_positions[1] == rt::source_pos{0, 4, 1});
    CHECK(im.rule_positions[2] == rt::source_pos{});
    CHECK(im.man.compiler_version == dsl::compiler_version);
    REQUIRE(im.man.sources.size() == 1);
    CHECK(im.man.sources[0].file == "p.dpol");
    CHECK(im.man.sources[0].sha256_hex == rt::sha256_hex(text));
    // Default revision: 12 hex digits of the digest over names and source digests.
    CHECK(res.revision.size() == 12);
    CHECK(res.revision == rt::sha256_hex("p.dpol" + std::string(1, '\0') + rt::sha256_hex(text) + "\n").substr(0, 12));
    CHECK(im.man.revision == res.revision);
    auto other = dsl::compile({dsl::source_file{"p.dpol", text + "\n"}}, {});
    CHECK(other.revision != res.revision);
    auto named = dsl::compile({dsl::source_file{"p.dpol", text}}, {}, "v42");
    CHECK(named.image->man.revision == "v42");
}

TEST_CASE("front-end errors pass through; no image") {
    auto res = dsl::compile({dsl::source_file{"p.dpol", "rule a: allow if action == \"contianer_list\"\n"}}, {});
    CHECK_FALSE(res.image);
    REQUIRE_FALSE(res.diagnostics.empty());
    CHECK(std::any_of(res.diagnostics.begin(), res.diagnostics.end(),
                      [](const dsl::diagnostic& d) { return d.code == dsl::diag_code::unknown_action; }));
}

TEST_CASE("limits exceeded by the compiled image are dp-limit") {
    std::vector<dsl::checked_rule> rules;
    for (std::size_t i = 0; i < rt::limits::max_rules; ++i)
        rules.push_back(rule("r" + std::to_string(i), rt::effect::deny));
    auto res = dsl::compile_checked(policy(std::move(rules)), "x");
    CHECK_FALSE(res.image);
    REQUIRE(res.diagnostics.size() == 1);
    CHECK(res.diagnostics[0].code == dsl::diag_code::limit);
    CHECK(res.diagnostics[0].message == "compiled policy too large: rules: 10001 exceeds the limit of 10000");
}

TEST_CASE("ASTs the checker must reject are dp-internal, never a bad image") {
    auto two_fields = policy({rule("r", rt::effect::allow,
                                   cmp(compare_op::lt, field(rt::field_id::user), field(rt::field_id::host)))});
    auto res = dsl::compile_checked(two_fields, "x");
    CHECK_FALSE(res.image);
    REQUIRE(res.diagnostics.size() == 1);
    CHECK(res.diagnostics[0].code == dsl::diag_code::internal);
    CHECK(res.diagnostics[0].message == "lowering failed: two fields compare only with == or !=");

    // Two fields of different types: lowered, then refused by the verifier.
    auto mixed = policy({rule("r", rt::effect::allow,
                              cmp(compare_op::eq, field(rt::field_id::user), field(rt::field_id::container_uid)))});
    res = dsl::compile_checked(mixed, "x");
    REQUIRE(res.diagnostics.size() == 1);
    CHECK(res.diagnostics[0].message ==
          "the verifier rejected the compiled policy: rule 0 'r': slot_eq at pc 0: compares field 'user' with field "
          "'container.uid' of another type");

    // `allow own` without an owner label.
    auto own = policy({rule("r", rt::effect::allow, cmp(compare_op::eq, field(rt::field_id::action), lit("container_list")))});
    own.rules[0].own = true;
    res = dsl::compile_checked(own, "x");
    REQUIRE(res.diagnostics.size() == 1);
    CHECK(res.diagnostics[0].message ==
          "the verifier rejected the compiled policy: rule 0 'r': `allow own` without an owner label");

    // Lowering succeeds but the verifier refuses (`matches` on a number field).
    auto bad_type = policy({rule("r", rt::effect::allow,
                                 cmp(compare_op::matches, field(rt::field_id::container_uid), lit("1*")))});
    res = dsl::compile_checked(bad_type, "x");
    REQUIRE(res.diagnostics.size() == 1);
    CHECK(res.diagnostics[0].code == dsl::diag_code::internal);
    CHECK_THAT(res.diagnostics[0].message,
               Catch::StartsWith("the verifier rejected the compiled policy: rule 0 'r': str_glob at pc 0: cannot apply"));
}

} // namespace lower_test
