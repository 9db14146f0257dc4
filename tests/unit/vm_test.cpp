// VM semantics, one opcode at a time, including absent values; rule order,
// default, builtin_ping, and input-shape errors.
#include <catch2/catch.hpp>

#include "dockpol/rt/actions.hpp"
#include "dockpol/rt/vm.hpp"
#include "fixtures/backend/image_builder.hpp"

// Each test file is its own namespace: the test executables are unity builds.
namespace vm_test {

using namespace dockpol;
using namespace dockpol::test_img;
using rt::value;

namespace {

std::shared_ptr<const rt::program> load(image_spec sp) {
    auto r = rt::load_image(build(std::move(sp)));
    INFO(r.error);
    REQUIRE(r.prog);
    return r.prog;
}

// A JSON body slot accepts every slot opcode, so one slot tests them all.
const rt::slot_desc json_slot{rt::field_id::body, "X", {}};

// Runs rule "r" (one instruction over slot 0 holding `v`); true iff it matched.
bool run1(insn in, const value& v, image_spec sp = {}) {
    sp.slots = {json_slot};
    sp.body = {in};
    auto p = load(std::move(sp));
    rt::input input{rt::unknown_action_id, {v}};
    return rt::evaluate(*p, input).rule == "r";
}

std::uint16_t act(const char* name) { return *rt::find_action(name); }

value strs(std::initializer_list<const char*> xs) {
    std::vector<value> v;
    for (auto x : xs) v.push_back(value::string(x));
    return value::list(v);
}

} // namespace

TEST_CASE("constants, negate and ret") {
    CHECK(run1(op(opcode::load_true), value()));
    CHECK_FALSE(run1(op(opcode::load_false), value()));
    image_spec sp;
    sp.body = {op(opcode::load_false), op(opcode::negate)};
    auto p = load(sp);
    CHECK(rt::evaluate(*p, {0, {}}).rule == "r");
}

TEST_CASE("is_true, bool_eq, bool_ne; absent and non-booleans never match") {
    CHECK(run1(op(opcode::is_true), value::boolean(true)));
    CHECK_FALSE(run1(op(opcode::is_true), value::boolean(false)));
    CHECK_FALSE(run1(op(opcode::is_true), value()));
    CHECK_FALSE(run1(op(opcode::is_true), value::string("true")));
    CHECK(run1(op(opcode::bool_eq, 0, 0, 1), value::boolean(true)));
    CHECK(run1(op(opcode::bool_eq, 0, 0, 0), value::boolean(false)));
    CHECK_FALSE(run1(op(opcode::bool_eq, 0, 0, 0), value()));
    CHECK(run1(op(opcode::bool_ne, 0, 0, 1), value::boolean(false)));
    CHECK_FALSE(run1(op(opcode::bool_ne, 0, 0, 1), value::boolean(true)));
    CHECK_FALSE(run1(op(opcode::bool_ne, 0, 0, 1), value()));
    CHECK_FALSE(run1(op(opcode::bool_ne, 0, 0, 0), value::number(1)));
}

TEST_CASE("str_eq and str_ne; comparisons with absent are false") {
    image_spec sp;
    sp.strings = {"prod-1"};
    CHECK(run1(op(opcode::str_eq, 0), value::string("prod-1"), sp));
    CHECK_FALSE(run1(op(opcode::str_eq, 0), value::string("prod-2"), sp));
    CHECK_FALSE(run1(op(opcode::str_eq, 0), value(), sp));
    CHECK(run1(op(opcode::str_ne, 0), value::string("prod-2"), sp));
    CHECK_FALSE(run1(op(opcode::str_ne, 0), value::string("prod-1"), sp));
    CHECK_FALSE(run1(op(opcode::str_ne, 0), value(), sp));
    CHECK_FALSE(run1(op(opcode::str_ne, 0), value::number(3), sp));
}

TEST_CASE("str_in binary-searches the sorted set") {
    image_spec sp;
    sp.strings = {"a", "b", "c", "d"};
    sp.sets = {{0, 2, 3}};
    for (auto [s, want] : {std::pair{"a", true}, {"b", false}, {"c", true}, {"d", true}, {"", false}})
        CHECK(run1(op(opcode::str_in, 0), value::string(s), sp) == want);
    CHECK_FALSE(run1(op(opcode::str_in, 0), value(), sp));
    CHECK_FALSE(run1(op(opcode::str_in, 0), strs({"a"}), sp));
}

TEST_CASE("str_glob") {
    image_spec sp;
    sp.strings = {"prod*"};
    sp.globs = {0};
    CHECK(run1(op(opcode::str_glob, 0), value::string("prod-web-1"), sp));
    CHECK_FALSE(run1(op(opcode::str_glob, 0), value::string("staging"), sp));
    CHECK_FALSE(run1(op(opcode::str_glob, 0), value(), sp));
}

TEST_CASE("num_cmp: all six comparisons, absent and strings are false") {
    image_spec sp;
    sp.numbers = {10};
    using rt::cmp_op;
    struct row { cmp_op op; double v; bool want; };
    for (auto r : {row{cmp_op::eq, 10, true}, row{cmp_op::eq, 9, false}, row{cmp_op::ne, 9, true},
                   row{cmp_op::ne, 10, false}, row{cmp_op::lt, 9, true}, row{cmp_op::lt, 10, false},
                   row{cmp_op::le, 10, true}, row{cmp_op::le, 11, false}, row{cmp_op::gt, 11, true},
                   row{cmp_op::gt, 10, false}, row{cmp_op::ge, 10, true}, row{cmp_op::ge, 9, false}}) {
        INFO(static_cast<int>(r.op) << " " << r.v);
        CHECK(run1(op(opcode::num_cmp, 0, 0, static_cast<std::uint8_t>(r.op)), value::number(r.v), sp) == r.want);
        CHECK_FALSE(run1(op(opcode::num_cmp, 0, 0, static_cast<std::uint8_t>(r.op)), value(), sp));
        CHECK_FALSE(run1(op(opcode::num_cmp, 0, 0, static_cast<std::uint8_t>(r.op)), value::string("10"), sp));
    }
}

TEST_CASE("list_has and list_meets over lists of strings") {
    image_spec sp;
    sp.strings = {"dev", "ops", "admins"};
    sp.sets = {{2, 0}};  // "admins" < "dev"
    CHECK(run1(op(opcode::list_has, 0), strs({"ops", "dev"}), sp));
    CHECK_FALSE(run1(op(opcode::list_has, 0), strs({"ops"}), sp));
    CHECK_FALSE(run1(op(opcode::list_has, 0), strs({}), sp));
    CHECK_FALSE(run1(op(opcode::list_has, 0), value(), sp));
    CHECK_FALSE(run1(op(opcode::list_has, 0), value::string("dev"), sp));
    CHECK(run1(op(opcode::list_meets, 0), strs({"ops", "admins"}), sp));
    CHECK_FALSE(run1(op(opcode::list_meets, 0), strs({"ops"}), sp));
    CHECK_FALSE(run1(op(opcode::list_meets, 0), value(), sp));
    CHECK_FALSE(run1(op(opcode::list_meets, 0), value::list({value::number(1)}), sp));
}

TEST_CASE("covers and covered_by are segment-wise after cleaning") {
    image_spec sp;
    sp.strings = {"/var/run/docker.sock", "/var"};
    CHECK(run1(op(opcode::covers, 0), value::string("/var/run"), sp));
    CHECK(run1(op(opcode::covers, 0), value::string("/"), sp));
    CHECK(run1(op(opcode::covers, 0), value::string("/var//run/../run/"), sp));
    CHECK_FALSE(run1(op(opcode::covers, 0), value::string("/var/r"), sp));
    CHECK_FALSE(run1(op(opcode::covers, 0), value(), sp));
    CHECK(run1(op(opcode::covered_by, 1), value::string("/var/lib/x"), sp));
    CHECK_FALSE(run1(op(opcode::covered_by, 1), value::string("/variable"), sp));
    CHECK_FALSE(run1(op(opcode::covered_by, 1), value(), sp));
}

TEST_CASE("action_eq and action_in read the input's action id") {
    image_spec sp;
    sp.strings = {"container_list", "image_list", "container_create"};
    sp.sets = {{0, 1}};
    sp.body = {op(opcode::action_eq, 2)};
    auto p = load(sp);
    CHECK(rt::evaluate(*p, {act("container_create"), {}}).rule == "r");
    CHECK(rt::evaluate(*p, {act("container_list"), {}}).rule == "default");
    sp.body = {op(opcode::action_in, 0)};
    p = load(sp);
    CHECK(rt::evaluate(*p, {act("container_list"), {}}).rule == "r");
    CHECK(rt::evaluate(*p, {act("image_list"), {}}).rule == "r");
    CHECK(rt::evaluate(*p, {act("container_create"), {}}).rule == "default");
    // An out-of-range action id is in no set and equals no action.
    CHECK(rt::evaluate(*p, {0xfff0, {}}).rule == "default");
}

TEST_CASE("jumps short-circuit: and / or") {
    image_spec sp;
    sp.strings = {"a", "b"};
    sp.slots = {json_slot, {rt::field_id::body, "Y", {}}};
    // X == "a" and Y == "b"
    sp.body = {op(opcode::str_eq, 0, 0), op(opcode::jump_if_false, 3), op(opcode::str_eq, 1, 1)};
    auto p = load(sp);
    CHECK(rt::evaluate(*p, {0, {value::string("a"), value::string("b")}}).rule == "r");
    CHECK(rt::evaluate(*p, {0, {value::string("a"), value::string("x")}}).rule == "default");
    CHECK(rt::evaluate(*p, {0, {value::string("x"), value::string("b")}}).rule == "default");
    // X == "a" or Y == "b"
    sp.body = {op(opcode::str_eq, 0, 0), op(opcode::jump_if_true, 3), op(opcode::str_eq, 1, 1)};
    p = load(sp);
    CHECK(rt::evaluate(*p, {0, {value::string("a"), value()}}).rule == "r");
    CHECK(rt::evaluate(*p, {0, {value(), value::string("b")}}).rule == "r");
    CHECK(rt::evaluate(*p, {0, {value(), value()}}).rule == "default");
}

TEST_CASE("any / all over element sub-paths") {
    image_spec sp;
    sp.strings = {"bind", "/"};
    sp.slots = {{rt::field_id::body, "HostConfig.Mounts", {"Type", "Source"}}};
    // any m: m.Type == "bind" and m.Source covers "/"  → here: "/" covers m.Source
    sp.blocks = {{elem(opcode::str_eq, 1, 0), op(opcode::jump_if_false, 3), elem(opcode::covered_by, 2, 1)}};
    // Records as fill_facts builds them: items[0] the element's scalar value (absent for an object), then the sub-paths.
    auto rec = [](const char* t, const char* s) { return value::record({value(), value::string(t), value::string(s)}); };
    for (auto kind : {opcode::any, opcode::all}) {
        sp.body = {op(kind, 0, 0)};
        auto p = load(sp);
        auto eval = [&](value v) { return rt::evaluate(*p, {0, {std::move(v)}}).rule; };
        const bool is_any = kind == opcode::any;
        CHECK(eval(value()) == "default");                       // absent: false for both
        CHECK(eval(value::string("x")) == "default");            // not a list: false
        CHECK(eval(value::list({})) == (is_any ? "default" : "r"));  // empty: any false, all true
        CHECK(eval(value::list({rec("bind", "/etc")})) == "r");
        CHECK(eval(value::list({rec("volume", "/etc"), rec("bind", "/x")})) == (is_any ? "r" : "default"));
        CHECK(eval(value::list({rec("volume", "/etc")})) == "default");
        // Sub-paths of a non-record element are absent.
        CHECK(eval(value::list({value::string("bind")})) == "default");
        // A record missing trailing sub-fields reads them as absent.
        CHECK(eval(value::list({value::record({value(), value::string("bind")})})) == "default");
    }
}

TEST_CASE("any over a plain string list reads the element itself") {
    image_spec sp;
    sp.strings = {"/var/run/docker.sock"};
    sp.slots = {{rt::field_id::container_host_paths, "", {}}};
    sp.body = {op(opcode::any, 0, 0)};
    sp.blocks = {{elem(opcode::covers, 0, 0)}};
    auto p = load(sp);
    CHECK(rt::evaluate(*p, {0, {strs({"/tmp", "/var/run"})}}).rule == "r");
    CHECK(rt::evaluate(*p, {0, {strs({"/tmp"})}}).rule == "default");
}

TEST_CASE("first matching rule decides; else builtin_ping; else default") {
    image_spec sp;
    sp.body = {op(opcode::load_false)};
    sp.def = rt::effect::allow;
    auto p = load(sp);
    auto d = rt::evaluate(*p, {act("system_ping"), {}});
    CHECK(d.rule == "builtin_ping");
    CHECK(d.eff == rt::effect::allow);
    CHECK(d.rule_index == 1);
    d = rt::evaluate(*p, {act("container_list"), {}});
    CHECK(d.rule == "default");
    CHECK(d.eff == rt::effect::allow);
    CHECK(d.rule_index == -1);

    sp.body = {op(opcode::load_true)};
    sp.eff = rt::effect::deny;
    p = load(sp);
    d = rt::evaluate(*p, {act("system_ping"), {}});
    CHECK(d.rule == "r");  // a policy rule before builtin_ping can deny ping
    CHECK(d.eff == rt::effect::deny);
    CHECK(d.rule_index == 0);
}

TEST_CASE("an input of the wrong shape is an error decision, never a read past the slots") {
    image_spec sp;
    sp.slots = {json_slot};
    sp.body = {op(opcode::is_true, 0, 0)};
    auto p = load(sp);
    auto d = rt::evaluate(*p, {0, {}});
    CHECK(d.rule == "error");
    CHECK(d.eff == rt::effect::deny);
    CHECK(d.reason == "input has 0 slots, program expects 1");
}

TEST_CASE("derived tables: needs_body / needs_resource from the action sets") {
    auto im = build({});
    im.strings.push_back("container_create");
    im.strings.push_back("container_inspect");
    im.sets.push_back({static_cast<std::uint32_t>(im.strings.size() - 2)});
    im.body_actions = static_cast<std::uint32_t>(im.sets.size() - 1);
    im.sets.push_back({static_cast<std::uint32_t>(im.strings.size() - 1)});
    im.resource_actions = static_cast<std::uint32_t>(im.sets.size() - 1);
    auto r = rt::load_image(im);
    REQUIRE(r.prog);
    CHECK(rt::needs_body(*r.prog, act("container_create")));
    CHECK_FALSE(rt::needs_body(*r.prog, act("container_inspect")));
    CHECK(rt::needs_resource(*r.prog, act("container_inspect")));
    CHECK_FALSE(rt::needs_resource(*r.prog, act("container_create")));
    CHECK_FALSE(rt::needs_body(*r.prog, 0xffff));
    CHECK(rt::image_of(*r.prog) == im);
}

TEST_CASE("rules guarded by an action test are skipped for other actions, never wrongly") {
    image_spec sp;
    sp.strings = {"container_create", "a"};
    sp.slots = {json_slot};
    auto eval = [&](const char* action, value v) {
        auto p = load(sp);
        return rt::evaluate(*p, {act(action), {std::move(v)}}).rule;
    };
    // action == "container_create" and X == "a": a guard.
    sp.body = {op(opcode::action_eq, 0), op(opcode::jump_if_false, 3), op(opcode::str_eq, 1, 0)};
    CHECK(eval("container_create", value::string("a")) == "r");
    CHECK(eval("container_create", value::string("b")) == "default");
    CHECK(eval("container_list", value::string("a")) == "default");
    // action == "container_create" or X == "a": not a guard.
    sp.body = {op(opcode::action_eq, 0), op(opcode::jump_if_true, 3), op(opcode::str_eq, 1, 0)};
    CHECK(eval("container_list", value::string("a")) == "r");
    CHECK(eval("container_create", value()) == "r");
    CHECK(eval("container_list", value()) == "default");
    // action == "container_create" alone.
    sp.body = {op(opcode::action_eq, 0)};
    CHECK(eval("container_create", value()) == "r");
    CHECK(eval("container_list", value()) == "default");
    // not action == "container_create": negate follows, so no guard.
    sp.body = {op(opcode::action_eq, 0), op(opcode::negate)};
    CHECK(eval("container_list", value()) == "r");
    CHECK(eval("container_create", value()) == "default");
}

TEST_CASE("slot_eq / slot_ne: same-kind scalars compare; absent or lists on either side are false for both") {
    auto run2 = [](opcode o, const value& a, const value& b) {
        image_spec sp;
        sp.slots = {json_slot, {rt::field_id::body, "Y", {}}};
        sp.body = {op(o, 1, 0)};
        auto p = load(std::move(sp));
        return rt::evaluate(*p, {rt::unknown_action_id, {a, b}}).rule == "r";
    };
    CHECK(run2(opcode::slot_eq, value::string("bruce"), value::string("bruce")));
    CHECK_FALSE(run2(opcode::slot_eq, value::string("bruce"), value::string("alice")));
    CHECK(run2(opcode::slot_ne, value::string("bruce"), value::string("alice")));
    CHECK_FALSE(run2(opcode::slot_ne, value::string("bruce"), value::string("bruce")));
    CHECK(run2(opcode::slot_eq, value::number(3), value::number(3)));
    CHECK(run2(opcode::slot_ne, value::boolean(true), value::boolean(false)));
    for (auto o : {opcode::slot_eq, opcode::slot_ne}) {
        CHECK_FALSE(run2(o, value(), value::string("bruce")));
        CHECK_FALSE(run2(o, value::string("bruce"), value()));
        CHECK_FALSE(run2(o, value(), value()));
        CHECK_FALSE(run2(o, value::string("3"), value::number(3)));
        CHECK_FALSE(run2(o, strs({"a"}), strs({"a"})));
    }
}

TEST_CASE("evaluate from a given rule; decision::own comes from the deciding rule") {
    image_spec sp;
    sp.body = {op(opcode::load_true)};
    auto im = build(sp);
    im.owner_label = "dockpol.owner";
    im.rules[0].own = true;
    auto r = rt::load_image(im);
    REQUIRE(r.prog);
    const auto& p = *r.prog;
    auto d = rt::evaluate(p, {act("system_ping"), {}});
    CHECK(d.rule == "r");
    CHECK(d.own);
    // The caller's ownership check failed: try the next rule.
    d = rt::evaluate(p, {act("system_ping"), {}}, static_cast<std::uint32_t>(d.rule_index + 1));
    CHECK(d.rule == "builtin_ping");
    CHECK_FALSE(d.own);
    d = rt::evaluate(p, {act("container_list"), {}}, 1);
    CHECK(d.rule == "default");
    CHECK_FALSE(d.own);
    // Past the last rule: the default decides.
    CHECK(rt::evaluate(p, {act("system_ping"), {}}, 99).rule == "default");
}

} // namespace vm_test
