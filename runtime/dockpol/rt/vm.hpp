// The policy VM. A `program` is a verified program_image plus tables derived
// once at load (compiled globs, sorted set views, action bitsets), immutable
// and shared between requests. `evaluate` runs the rules in order over one
// bound input: the first rule whose body leaves `acc` true decides; when none
// does, the default decides (rule "default").
#pragma once
#include <algorithm>
#include <bitset>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "dockpol/rt/actions.hpp"
#include "dockpol/rt/glob.hpp"
#include "dockpol/rt/path_clean.hpp"
#include "dockpol/rt/program.hpp"
#include "dockpol/rt/value.hpp"
#include "dockpol/rt/verifier.hpp"

namespace dockpol::rt {

using action_set = std::bitset<action_count>;

struct program {
    program_image image;
    std::vector<glob> globs;                                   // parallel to image.globs
    std::vector<std::vector<std::string_view>> set_members;    // per set, sorted (views into image.strings)
    std::vector<action_set> set_actions;                       // per set: the members that name actions
    std::vector<std::uint16_t> string_action;                  // per string: its action id, or no_action
    action_set body_actions, resource_actions;
    std::vector<std::string> rule_names;

    static constexpr std::uint16_t no_action = 0xffff;

    program() = default;
    // Views point into `image`: a program lives behind a shared_ptr and is never copied.
    program(const program&) = delete;
    program& operator=(const program&) = delete;
};

struct decision {
    effect eff = effect::deny;
    std::string rule;              // rule name, "default", or "error"
    std::string reason;            // set for "error"
    std::int32_t rule_index = -1;  // index into rules; -1 for default/error
};

struct input {
    std::uint16_t action_id = 0;
    std::vector<value> slots;
};

struct load_result {
    std::shared_ptr<const program> prog;
    std::string error;
};

inline decision error_decision(std::string reason) { return decision{effect::deny, "error", std::move(reason), -1}; }

// Verifies the image, then derives the run-time tables. Never half-loads.
inline load_result load_image(program_image img) {
    if (auto e = verify(img)) return {nullptr, "bundle rejected by the verifier: " + *e};
    auto p = std::make_shared<program>();
    p->image = std::move(img);
    const auto& im = p->image;
    for (auto id : im.globs) {
        auto g = compile_glob(im.strings[id]);
        // The verifier compiled every glob already; this branch cannot fire.
        if (g.index() != 0) return {nullptr, "glob failed to compile after verification"};
        p->globs.push_back(std::get<0>(std::move(g)));
    }
    p->string_action.resize(im.strings.size(), program::no_action);
    for (std::size_t i = 0; i < im.strings.size(); ++i)
        if (auto a = find_action(im.strings[i])) p->string_action[i] = *a;
    p->set_members.resize(im.sets.size());
    p->set_actions.resize(im.sets.size());
    for (std::size_t s = 0; s < im.sets.size(); ++s) {
        for (auto id : im.sets[s]) {
            p->set_members[s].push_back(im.strings[id]);
            if (p->string_action[id] != program::no_action) p->set_actions[s].set(p->string_action[id]);
        }
    }
    p->body_actions = p->set_actions[im.body_actions];
    p->resource_actions = p->set_actions[im.resource_actions];
    for (const auto& r : im.rules) p->rule_names.push_back(im.strings[r.name]);
    return {std::move(p), {}};
}

inline const program_image& image_of(const program& p) { return p.image; }

// Whether dockpold must read (bounded) the JSON body for this action before deciding.
inline bool needs_body(const program& p, std::uint16_t action_id) {
    return action_id < action_count && p.body_actions.test(action_id);
}

// Whether dockpold must inspect the target (resource.name/labels) for this action.
inline bool needs_resource(const program& p, std::uint16_t action_id) {
    return action_id < action_count && p.resource_actions.test(action_id);
}

namespace detail {

inline const value& absent_value() {
    static const value v;
    return v;
}

// Element operand k: 0 is the element itself, k ≥ 1 is sub-path k-1 of a record element.
inline const value& element_operand(const value& elem, std::uint16_t k) {
    if (k == 0) return elem;
    if (elem.kind != value_kind::record || k > elem.items.size()) return absent_value();
    return elem.items[k - 1u];
}

inline bool compare_number(double a, std::uint8_t op, double b) {
    switch (static_cast<cmp_op>(op)) {
    case cmp_op::eq: return a == b;
    case cmp_op::ne: return a != b;
    case cmp_op::lt: return a < b;
    case cmp_op::le: return a <= b;
    case cmp_op::gt: return a > b;
    case cmp_op::ge: return a >= b;
    }
    return false;
}

inline bool set_has(const std::vector<std::string_view>& set, std::string_view s) {
    return std::binary_search(set.begin(), set.end(), s);
}

// Runs one verified body from `pc` to its `ret`. In a rule body operands come
// from the input slots; in an any/all block (Element) from `elem`.
template <bool Element>
inline bool run(const program& p, std::uint32_t pc, const value* slots, const value* elem, std::uint16_t action) {
    const insn* code = p.image.code.data();
    const std::string* strings = p.image.strings.data();
    bool acc = false;
    for (;;) {
        const insn& in = code[pc++];
        // Only slot-using opcodes dereference this; `slots + 0` stays valid even with no slots.
        const value* v = Element ? &element_operand(*elem, in.slot) : slots + in.slot;
        switch (in.op) {
        case opcode::load_true: acc = true; break;
        case opcode::load_false: acc = false; break;
        case opcode::negate: acc = !acc; break;
        case opcode::jump_if_false: if (!acc) pc = in.arg; break;
        case opcode::jump_if_true: if (acc) pc = in.arg; break;
        case opcode::ret: return acc;
        case opcode::is_true: acc = v->kind == value_kind::boolean && v->b; break;
        case opcode::bool_eq: acc = v->kind == value_kind::boolean && v->b == (in.aux != 0); break;
        case opcode::bool_ne: acc = v->kind == value_kind::boolean && v->b != (in.aux != 0); break;
        case opcode::str_eq: acc = v->kind == value_kind::string && v->s == strings[in.arg]; break;
        case opcode::str_ne: acc = v->kind == value_kind::string && v->s != strings[in.arg]; break;
        case opcode::str_in: acc = v->kind == value_kind::string && set_has(p.set_members[in.arg], v->s); break;
        case opcode::str_glob: acc = v->kind == value_kind::string && glob_match(p.globs[in.arg], v->s); break;
        case opcode::num_cmp:
            acc = v->kind == value_kind::number && compare_number(v->n, in.aux, p.image.numbers[in.arg]);
            break;
        case opcode::list_has:
            acc = false;
            if (v->kind == value_kind::list)
                for (const auto& it : v->items)
                    if (it.kind == value_kind::string && it.s == strings[in.arg]) { acc = true; break; }
            break;
        case opcode::list_meets:
            acc = false;
            if (v->kind == value_kind::list)
                for (const auto& it : v->items)
                    if (it.kind == value_kind::string && set_has(p.set_members[in.arg], it.s)) { acc = true; break; }
            break;
        case opcode::covers: acc = v->kind == value_kind::string && covers(v->s, strings[in.arg]); break;
        case opcode::covered_by: acc = v->kind == value_kind::string && covers(strings[in.arg], v->s); break;
        case opcode::action_eq: acc = p.string_action[in.arg] == action; break;
        case opcode::action_in: acc = action < action_count && p.set_actions[in.arg].test(action); break;
        case opcode::any:
            acc = false;
            if constexpr (!Element) {
                if (v->kind == value_kind::list)
                    for (const auto& it : v->items)
                        if (run<true>(p, p.image.blocks[in.arg].code_begin, slots, &it, action)) { acc = true; break; }
            }
            break;
        case opcode::all:
            acc = false;
            if constexpr (!Element) {
                // `all` over an absent value is false (like every comparison with absent); over [] it is true.
                if (v->kind == value_kind::list) {
                    acc = true;
                    for (const auto& it : v->items)
                        if (!run<true>(p, p.image.blocks[in.arg].code_begin, slots, &it, action)) { acc = false; break; }
                }
            }
            break;
        }
    }
}

} // namespace detail

inline decision evaluate(const program& p, const input& in) {
    const auto& rules = p.image.rules;
    if (in.slots.size() != p.image.slots.size())
        return error_decision("input has " + std::to_string(in.slots.size()) + " slots, program expects " +
                              std::to_string(p.image.slots.size()));
    const value* slots = in.slots.data();
    for (std::size_t r = 0; r < rules.size(); ++r)
        if (detail::run<false>(p, rules[r].code_begin, slots, nullptr, in.action_id))
            return decision{rules[r].eff, p.rule_names[r], {}, static_cast<std::int32_t>(r)};
    return decision{p.image.default_effect, "default", {}, -1};
}

} // namespace dockpol::rt
