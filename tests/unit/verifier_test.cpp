// The one verifier: one hand-made bad image per check, asserting the exact
// reason; every named limit is proven here too.
#include <catch2/catch.hpp>

#include "dockpol/rt/verifier.hpp"
#include "fixtures/backend/image_builder.hpp"

// Each test file is its own namespace: the test executables are unity builds.
namespace verifier_test {

using namespace dockpol;
using namespace dockpol::test_img;

namespace {

std::string why(const rt::program_image& im) {
    auto e = rt::verify(im);
    return e ? *e : std::string("ok");
}

const rt::slot_desc json_slot{rt::field_id::body, "X", {}};

// A valid image exercising most pools: rule "r" = X == "a" and any m in body.M: m.T in {"a","b"}.
image_spec rich() {
    image_spec sp;
    sp.strings = {"a", "b", "p*"};
    sp.sets = {{0, 1}};
    sp.globs = {2};
    sp.numbers = {1.5};
    sp.slots = {json_slot, {rt::field_id::body, "M", {"T"}}};
    sp.body = {op(opcode::str_eq, 0, 0), op(opcode::jump_if_false, 3), op(opcode::any, 0, 1)};
    sp.blocks = {{elem(opcode::str_in, 1, 0)}};
    return sp;
}

} // namespace

TEST_CASE("valid images pass") {
    CHECK(why(build({})) == "ok");
    CHECK(why(build(rich())) == "ok");
}

TEST_CASE("named limits") {
    using namespace rt::limits;
    auto im = build({});
    SECTION("strings") {
        im.strings.resize(max_strings + 1);
        CHECK(why(im) == "strings: 65537 exceeds the limit of 65536");
    }
    SECTION("string bytes") {
        im.strings.push_back(std::string(max_string_bytes + 1, 'x'));
        CHECK(why(im) == "string 3 bytes: 4097 exceeds the limit of 4096");
    }
    SECTION("sets") {
        im.sets.resize(max_sets + 1);
        CHECK(why(im) == "sets: 65537 exceeds the limit of 65536");
    }
    SECTION("set size") {
        im.sets.push_back(std::vector<std::uint32_t>(max_set_size + 1, 0));
        CHECK(why(im) == "set 1 members: 65537 exceeds the limit of 65536");
    }
    SECTION("globs") {
        im.globs.resize(max_globs + 1);
        CHECK(why(im) == "globs: 4097 exceeds the limit of 4096");
    }
    SECTION("numbers") {
        im.numbers.resize(max_numbers + 1);
        CHECK(why(im) == "numbers: 65537 exceeds the limit of 65536");
    }
    SECTION("rules") {
        im.rules.resize(max_rules + 1);
        CHECK(why(im) == "rules: 10001 exceeds the limit of 10000");
    }
    SECTION("code") {
        im.code.resize(max_code + 1);
        CHECK(why(im) == "instructions: 1048577 exceeds the limit of 1048576");
    }
    SECTION("slots") {
        im.slots.resize(max_slots + 1);
        CHECK(why(im) == "slots: 4097 exceeds the limit of 4096");
    }
    SECTION("sub-paths") {
        im.slots.push_back({rt::field_id::body, "M", std::vector<std::string>(max_subpaths + 1)});
        CHECK(why(im) == "slot 0 sub-paths: 257 exceeds the limit of 256");
    }
    SECTION("blocks") {
        im.blocks.resize(max_blocks + 1);
        CHECK(why(im) == "blocks: 65537 exceeds the limit of 65536");
    }
    SECTION("sources") {
        im.man.sources.resize(max_sources + 1);
        CHECK(why(im) == "manifest sources: 4097 exceeds the limit of 4096");
    }
    // Every limit is also checked on its own (compile() maps it to dp-limit).
    CHECK(rt::check_limits(im).has_value());
}

TEST_CASE("pools: interned strings, sorted sets, compilable globs, finite numbers") {
    auto sp = rich();
    SECTION("duplicate string") {
        sp.strings.push_back("a");
        CHECK(why(build(sp)) == "string 3 duplicates an earlier string (pool must be interned)");
    }
    SECTION("set member out of range") {
        sp.sets[0] = {0, 99};
        CHECK(why(build(sp)) == "set 0: member 1 is string 99, out of range");
    }
    SECTION("set not sorted") {
        sp.sets[0] = {1, 0};
        CHECK(why(build(sp)) == "set 0: members not sorted and unique at 1");
    }
    SECTION("set with a duplicate") {
        sp.sets[0] = {0, 0};
        CHECK(why(build(sp)) == "set 0: members not sorted and unique at 1");
    }
    SECTION("glob pattern out of range") {
        sp.globs = {77};
        CHECK(why(build(sp)) == "glob 0: pattern string 77 out of range");
    }
    SECTION("duplicate glob") {
        sp.globs = {2, 2};
        CHECK(why(build(sp)) == "glob 1 duplicates an earlier glob");
    }
    SECTION("glob that does not compile") {
        sp.strings[2] = "[a";
        CHECK_THAT(why(build(sp)), Catch::StartsWith("glob 0 \"[a\": "));
    }
    SECTION("non-finite number") {
        sp.numbers = {std::numeric_limits<double>::infinity()};
        CHECK(why(build(sp)) == "number 0 is not finite");
        sp.numbers = {std::nan("")};
        CHECK(why(build(sp)) == "number 0 is not finite");
    }
    SECTION("duplicate number") {
        sp.numbers = {1.5, 2, 1.5};
        CHECK(why(build(sp)) == "number 2 duplicates number 0");
    }
}

TEST_CASE("slots: valid fields, keyed iff keyed, unique, sub-paths only on JSON") {
    auto sp = rich();
    SECTION("field id out of range") {
        sp.slots[0].field = static_cast<rt::field_id>(999);
        CHECK(why(build(sp)) == "slot 0: field id 999 out of range");
    }
    SECTION("action is never a slot") {
        sp.slots.push_back({rt::field_id::action, "", {}});
        CHECK(why(build(sp)) == "slot 2: field 'action' is read by action_eq/action_in, never through a slot");
    }
    SECTION("keyed field without key") {
        sp.slots[0].key = "";
        CHECK(why(build(sp)) == "slot 0: keyed field 'body' has no key");
    }
    SECTION("plain field with a key") {
        sp.slots.push_back({rt::field_id::user, "x", {}});
        CHECK(why(build(sp)) == "slot 2: field 'user' takes no key but has 'x'");
    }
    SECTION("duplicate slot") {
        sp.slots.push_back(json_slot);
        CHECK(why(build(sp)) == "slot 2: duplicates an earlier slot for the same field and key");
    }
    SECTION("sub-paths on a non-JSON field") {
        sp.slots.push_back({rt::field_id::container_cap_add, "", {"A"}});
        CHECK(why(build(sp)) == "slot 2: element sub-paths on a non-JSON field 'container.cap_add'");
    }
    SECTION("empty or duplicate sub-path") {
        sp.slots[1].subpaths = {"T", "T"};
        CHECK(why(build(sp)) == "slot 1: empty or duplicate element sub-path 'T'");
    }
}

TEST_CASE("rules: names, effects, positions, builtin_ping last") {
    auto im = build(rich());
    SECTION("no rules") {
        im.rules.clear();
        CHECK(why(im) == "no rules (builtin_ping must be last)");
    }
    SECTION("positions not parallel") {
        im.rule_positions.pop_back();
        CHECK(why(im) == "rule_positions has 1 entries for 2 rules");
    }
    SECTION("name out of range") {
        im.rules[0].name = 1000;
        CHECK(why(im) == "rule 0: name string 1000 out of range");
    }
    SECTION("reserved names") {
        im.strings.push_back("default");
        im.rules[0].name = static_cast<std::uint32_t>(im.strings.size() - 1);
        CHECK(why(im) == "rule 0: reserved name 'default'");
    }
    SECTION("empty name") {
        im.strings.push_back("");
        im.rules[0].name = static_cast<std::uint32_t>(im.strings.size() - 1);
        CHECK(why(im) == "rule 0: empty name");
    }
    SECTION("duplicate name") {
        im.rules[0].name = im.rules[1].name;
        CHECK(why(im) == "rule 1: duplicate rule name 'builtin_ping'");
    }
    SECTION("effect out of range") {
        im.rules[0].eff = static_cast<rt::effect>(7);
        CHECK(why(im) == "rule 0 'r': effect out of range");
    }
    SECTION("bad source position") {
        im.rule_positions[0] = {5, 1, 1};
        CHECK(why(im) == "rule 0 'r': source position 5:1:1 is invalid");
    }
    SECTION("builtin_ping not last") {
        std::swap(im.rules[0], im.rules[1]);
        std::swap(im.rule_positions[0], im.rule_positions[1]);
        CHECK(why(im) == "last rule is 'r', not builtin_ping");
    }
    SECTION("builtin_ping must allow") {
        im.rules[1].eff = rt::effect::deny;
        CHECK(why(im) == "builtin_ping must be `allow` (not `own`) with no source position");
    }
    SECTION("default effect out of range") {
        im.default_effect = static_cast<rt::effect>(3);
        CHECK(why(im) == "default effect out of range");
    }
}

TEST_CASE("code ranges tile the code, non-empty, each ending in ret") {
    auto im = build(rich());  // rule r: [0,4), builtin [4,6), block 0: [6,8)
    SECTION("empty range") {
        im.blocks[0].code_end = im.blocks[0].code_begin;
        CHECK(why(im) == "block 0: empty code range [6, 6)");
    }
    SECTION("past the end") {
        im.blocks[0].code_end = 9;
        CHECK(why(im) == "block 0: code range [6, 9) exceeds code length 8");
    }
    SECTION("no ret at the end") {
        im.code[3] = op(opcode::load_true);
        CHECK(why(im) == "rule 0 'r': does not end with ret");
    }
    SECTION("overlap") {
        im.blocks[0].code_begin = 5;
        CHECK(why(im) == "block 0: code range overlaps another body at pc 5");
    }
    SECTION("gap") {
        im.code.insert(im.code.begin() + 6, op(opcode::ret));
        im.blocks[0] = {7, 9};
        CHECK(why(im) == "code at pc 6 belongs to no rule or block");
    }
    SECTION("trailing code") {
        im.code.push_back(op(opcode::ret));
        CHECK(why(im) == "code at pc 8 belongs to no rule or block");
    }
    SECTION("builtin_ping body is fixed") {
        im.code[4] = op(opcode::load_true);
        CHECK(why(im) == "builtin_ping must be exactly `action_eq \"system_ping\"; ret`");
    }
}

TEST_CASE("instructions: opcodes, operands, jumps, aux, reserved bytes") {
    auto sp = rich();
    auto with = [&](std::size_t pc, insn in) {
        auto im = build(sp);
        im.code[pc] = in;
        return why(im);
    };
    CHECK(with(0, op(static_cast<opcode>(200))) == "rule 0 'r': instruction at pc 0: unknown opcode 200");
    insn r = op(opcode::str_eq, 0, 0);
    r.reserved = 1;
    CHECK(with(0, r) == "rule 0 'r': str_eq at pc 0: reserved bytes are not zero");
    r = op(opcode::str_eq, 0, 0);
    r.reserved2 = 9;
    CHECK(with(0, r) == "rule 0 'r': str_eq at pc 0: reserved bytes are not zero");
    CHECK(with(0, op(opcode::str_eq, 0, 0, 0, static_cast<rt::operand_src>(2))) ==
          "rule 0 'r': str_eq at pc 0: operand source out of range");
    CHECK(with(0, op(opcode::ret)) == "rule 0 'r': ret at pc 0: ret before the end of the body");
    CHECK(with(0, op(opcode::load_true, 5)) == "rule 0 'r': load_true at pc 0: takes no argument but has 5");
    CHECK(with(1, op(opcode::jump_if_false, 0)) == "rule 0 'r': jump_if_false at pc 1: jump goes backwards to 0");
    CHECK(with(1, op(opcode::jump_if_false, 1)) == "rule 0 'r': jump_if_false at pc 1: jump goes backwards to 1");
    CHECK(with(1, op(opcode::jump_if_true, 4)) ==
          "rule 0 'r': jump_if_true at pc 1: jump to 4 leaves its body (ends at 4)");
    CHECK(with(0, op(opcode::str_eq, 50, 0)) == "rule 0 'r': str_eq at pc 0: string index 50 out of range (6)");
    CHECK(with(0, op(opcode::str_in, 2, 0)) == "rule 0 'r': str_in at pc 0: set index 2 out of range (2)");
    CHECK(with(0, op(opcode::str_glob, 1, 0)) == "rule 0 'r': str_glob at pc 0: glob index 1 out of range (1)");
    CHECK(with(0, op(opcode::num_cmp, 1, 0)) == "rule 0 'r': num_cmp at pc 0: number index 1 out of range (1)");
    CHECK(with(2, op(opcode::any, 1, 1)) == "rule 0 'r': any at pc 2: block index 1 out of range (1)");
    CHECK(with(0, op(opcode::num_cmp, 0, 0, 6)) == "rule 0 'r': num_cmp at pc 0: aux 6 out of range (max 5)");
    CHECK(with(0, op(opcode::bool_eq, 0, 0, 2)) == "rule 0 'r': bool_eq at pc 0: aux 2 out of range (max 1)");
    CHECK(with(0, op(opcode::is_true, 0, 0, 1)) == "rule 0 'r': is_true at pc 0: aux 1 out of range (max 0)");
    CHECK(with(0, op(opcode::load_true, 0, 1)) == "rule 0 'r': load_true at pc 0: takes no slot operand");
    CHECK(with(0, elem(opcode::str_eq, 0, 0)) ==
          "rule 0 'r': str_eq at pc 0: element operand outside an any/all block");
    CHECK(with(0, op(opcode::str_eq, 0, 7)) == "rule 0 'r': str_eq at pc 0: slot 7 out of range (2 slots)");
    CHECK(with(0, op(opcode::action_eq, 0)) == "rule 0 'r': action_eq at pc 0: unknown action 'a'");
    CHECK(with(0, op(opcode::action_in, 0)) == "rule 0 'r': action_in at pc 0: set 0 names unknown action 'a'");
    // In the block (pc 6): element operands only, sub-paths in range, no nesting.
    CHECK(with(6, op(opcode::str_in, 0, 0)) == "block 0: str_in at pc 6: an any/all block reads only its element");
    CHECK(with(6, elem(opcode::str_in, 2, 0)) == "block 0: str_in at pc 6: element sub-path 2 out of range (1 sub-paths)");
    CHECK(with(6, op(opcode::any, 0, 1)) == "block 0: any at pc 6: an any/all block reads only its element");
}

TEST_CASE("op/slot type sanity") {
    auto check = [](rt::field_id f, opcode o, std::uint32_t arg) {
        image_spec sp;
        sp.strings = {"x"};
        sp.sets = {{0}};
        sp.numbers = {1};
        sp.slots = {{f, rt::info(f).keyed ? "k" : "", {}}};
        sp.body = {op(o, arg, 0)};
        return why(build(sp));
    };
    CHECK(check(rt::field_id::user, opcode::str_eq, 0) == "ok");
    CHECK(check(rt::field_id::user, opcode::num_cmp, 0) == "rule 0 'r': num_cmp at pc 0: cannot apply to field 'user'");
    CHECK(check(rt::field_id::container_uid, opcode::num_cmp, 0) == "ok");
    CHECK(check(rt::field_id::container_uid, opcode::str_eq, 0) ==
          "rule 0 'r': str_eq at pc 0: cannot apply to field 'container.uid'");
    CHECK(check(rt::field_id::groups, opcode::list_meets, 0) == "ok");
    CHECK(check(rt::field_id::group, opcode::str_in, 0) == "rule 0 'r': str_in at pc 0: cannot apply to field 'group'");
    CHECK(check(rt::field_id::container_privileged, opcode::is_true, 0) == "ok");
    CHECK(check(rt::field_id::container_privileged, opcode::list_has, 0) ==
          "rule 0 'r': list_has at pc 0: cannot apply to field 'container.privileged'");
    CHECK(check(rt::field_id::body, opcode::num_cmp, 0) == "ok");
    CHECK(check(rt::field_id::body, opcode::list_has, 0) == "ok");
}

TEST_CASE("slot_eq / slot_ne: a second slot in range, of the same type, never inside a block") {
    auto check = [](rt::field_id a, rt::field_id b, std::uint32_t arg = 1) {
        image_spec sp;
        sp.slots = {{a, rt::info(a).keyed ? "k" : "", {}}, {b, rt::info(b).keyed ? "k" : "", {}}};
        sp.body = {op(opcode::slot_eq, arg, 0)};
        return why(build(sp));
    };
    CHECK(check(rt::field_id::user, rt::field_id::host_labels) == "ok");
    CHECK(check(rt::field_id::container_uid, rt::field_id::exec_uid) == "ok");
    CHECK(check(rt::field_id::user, rt::field_id::container_uid) ==
          "rule 0 'r': slot_eq at pc 0: compares field 'user' with field 'container.uid' of another type");
    CHECK(check(rt::field_id::groups, rt::field_id::group) == "rule 0 'r': slot_eq at pc 0: cannot apply to field 'groups'");
    CHECK(check(rt::field_id::user, rt::field_id::host, 2) == "rule 0 'r': slot_eq at pc 0: slot index 2 out of range (2)");
    auto sp = rich();
    sp.blocks = {{elem(opcode::slot_ne, 0, 0)}};
    CHECK(why(build(sp)) == "block 0: slot_ne at pc 6: an any/all block cannot compare input slots");
}

TEST_CASE("ownership: owner label, resource.owner and own rules") {
    image_spec sp;
    sp.slots = {{rt::field_id::resource_owner, "", {}}, {rt::field_id::user, "", {}}};
    sp.body = {op(opcode::slot_eq, 1, 0)};
    auto im = build(sp);
    CHECK(why(im) == "slot 0: reads resource.owner, but the bundle has no owner label");
    im.owner_label = "dockpol.owner";
    CHECK(why(im) == "ok");
    im.owner_label = "owner";
    CHECK(why(im) == "owner label 'owner': the owner label needs a namespace: a '.' in its name");
    im.owner_label = "dockpol.owner";
    im.rules[0].own = true;
    CHECK(why(im) == "ok");
    im.rules[0].eff = rt::effect::deny;
    CHECK(why(im) == "rule 0 'r': `own` on a deny rule");
    im.rules[0].eff = rt::effect::allow;
    im.owner_label.clear();
    CHECK(why(im) == "slot 0: reads resource.owner, but the bundle has no owner label");
    im.slots = {{rt::field_id::user, "", {}}, {rt::field_id::host, "", {}}};
    CHECK(why(im) == "rule 0 'r': `allow own` without an owner label");
}

TEST_CASE("blocks: referenced exactly once, never nested") {
    auto sp = rich();
    SECTION("unreferenced block") {
        auto im = build(sp);
        im.code[2] = op(opcode::load_true);
        CHECK(why(im) == "block 0 is referenced by 0 any/all instructions, not exactly one");
    }
    SECTION("block referenced twice") {
        sp.body = {op(opcode::any, 0, 1), op(opcode::jump_if_false, 3), op(opcode::all, 0, 1)};
        CHECK(why(build(sp)) == "block 0 is referenced by 2 any/all instructions, not exactly one");
    }
    SECTION("nested any") {
        sp.body = {op(opcode::any, 0, 1), op(opcode::jump_if_false, 3), op(opcode::any, 1, 1)};
        sp.blocks = {{elem(opcode::str_in, 1, 0)}, {elem(opcode::any, 0, 0)}};
        auto im = build(sp);
        // block 1 is referenced once (from the rule) but holds an any itself.
        CHECK(why(im) == "block 1: any at pc 8: any/all cannot nest");
    }
}

TEST_CASE("body_actions / resource_actions") {
    auto im = build({});
    SECTION("index out of range") {
        im.body_actions = 42;
        CHECK(why(im) == "body_actions: set index 42 out of range");
    }
    SECTION("unknown action name") {
        im.strings.push_back("not_an_action");
        im.sets.push_back({static_cast<std::uint32_t>(im.strings.size() - 1)});
        im.resource_actions = static_cast<std::uint32_t>(im.sets.size() - 1);
        CHECK(why(im) == "resource_actions: unknown action 'not_an_action'");
    }
}

} // namespace verifier_test
