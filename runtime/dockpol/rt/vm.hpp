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
#include <optional>
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
    std::vector<std::vector<std::string_view>> set_members;    // per set, shortlex-sorted views into image.strings
    std::vector<action_set> set_actions;                       // per set: the members that name actions
    std::vector<std::uint16_t> string_action;                  // per string: its action id, or no_action
    action_set body_actions, resource_actions;
    std::vector<std::string> rule_names;

    // Per action, the rules that can match it, in rule order (CSR layout: the
    // entries of action a are [first[a], first[a+1]); row action_count holds
    // the rules for an out-of-range id). A rule that opens with an action test
    // guarding the whole body (`action_eq X; jump_if_false →ret` or
    // `action_eq X; ret`) is listed only under its actions, and entered after
    // the guard with acc = true — exactly what running the guard would do.
    struct candidate { std::uint32_t rule; std::uint32_t pc; bool acc; };
    std::vector<std::uint32_t> first;
    std::vector<candidate> candidates;

    static constexpr std::uint16_t no_action = 0xffff;

    program() = default;
    // Views point into `image`: a program lives behind a shared_ptr and is never copied.
    program(const program&) = delete;
    program& operator=(const program&) = delete;
};

struct rewrite {
    std::string kind;     // "body", "query", "path"
    std::string detail;   // what changed, for people and the audit line
    friend bool operator==(const rewrite&, const rewrite&) = default;
};

struct decision {
    decision() = default;
    decision(effect e, std::string r, std::string why, std::int32_t index)
        : eff(e), rule(std::move(r)), reason(std::move(why)), rule_index(index) {}

    effect eff = effect::deny;
    std::string rule;              // rule name, "default", or "error"
    std::string reason;            // set for "error"
    std::int32_t rule_index = -1;  // index into rules; -1 for default/error
    // The deciding rule is `allow own`: the caller must still check ownership
    // (and rewrite the request), and on failure evaluate again from rule_index + 1.
    bool own = false;
    bool bad_request = false;      // rule "error" because the request is malformed (dockpold: 400)
    // Rule "error" only because these named objects ("volume:NAME",
    // "container:NAME") were not looked up: dockpold looks them up, sets
    // request::objects_known and decides again.
    std::vector<std::string> lookups;
    // What an allow changes in the request before it is forwarded (ownership:
    // the owner label set in a create body, the caller's label filter on a
    // list); rt::decide fills these. `kind` is "body", "query" or "path".
    std::vector<rewrite> rewrites;
    std::optional<std::string> forward_body;     // the body bytes to forward instead of the request's
    std::optional<std::string> forward_filters;  // the `filters` query value to forward
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

namespace detail::vm_impl {
// Run-time set order: by length, then bytes, so most probes compare two
// integers and never call memcmp.
inline bool shortlex_less(std::string_view a, std::string_view b) {
    return a.size() != b.size() ? a.size() < b.size() : a < b;
}

inline bool set_has(const std::vector<std::string_view>& set, std::string_view s) {
    return std::binary_search(set.begin(), set.end(), s, shortlex_less);
}

// Builds program::first / candidates (see there) from the verified code.
inline void index_rules(program& p) {
    const auto& im = p.image;
    std::vector<action_set> guard(im.rules.size());
    std::vector<bool> guarded(im.rules.size(), false);
    for (std::size_t r = 0; r < im.rules.size(); ++r) {
        const auto b = im.rules[r].code_begin;
        const insn& g = im.code[b];
        const insn& next = im.code[b + 1 < im.rules[r].code_end ? b + 1 : b];
        const bool test = g.op == opcode::action_eq || g.op == opcode::action_in;
        const bool whole = next.op == opcode::ret ||
                           (next.op == opcode::jump_if_false && im.code[next.arg].op == opcode::ret);
        if (!test || b + 1 >= im.rules[r].code_end || !whole) continue;
        guarded[r] = true;
        if (g.op == opcode::action_in) guard[r] = p.set_actions[g.arg];
        else if (p.string_action[g.arg] != program::no_action) guard[r].set(p.string_action[g.arg]);
    }
    for (std::size_t a = 0; a <= action_count; ++a) {
        p.first.push_back(static_cast<std::uint32_t>(p.candidates.size()));
        for (std::size_t r = 0; r < im.rules.size(); ++r) {
            const auto b = im.rules[r].code_begin;
            if (!guarded[r]) {
                p.candidates.push_back({static_cast<std::uint32_t>(r), b, false});
            } else if (a < action_count && guard[r].test(a)) {
                // Past the guard: at its ret (body `test; ret`), or after its jump_if_false.
                const bool short_body = im.code[b + 1].op == opcode::ret;
                p.candidates.push_back({static_cast<std::uint32_t>(r), short_body ? b + 1 : b + 2, true});
            }
        }
    }
    p.first.push_back(static_cast<std::uint32_t>(p.candidates.size()));
}

} // namespace detail::vm_impl

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
        std::sort(p->set_members[s].begin(), p->set_members[s].end(), detail::vm_impl::shortlex_less);
    }
    p->body_actions = p->set_actions[im.body_actions];
    p->resource_actions = p->set_actions[im.resource_actions];
    for (const auto& r : im.rules) p->rule_names.push_back(im.strings[r.name]);
    detail::vm_impl::index_rules(*p);
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

namespace detail::vm_impl {

inline const value& absent_value() {
    static const value v;
    return v;
}

// Element operand k of a list element. A record element (a list slot with
// sub-paths) holds the element's own scalar value at items[0] and sub-path
// k-1 at items[k], so operand k is items[k]; a plain element is operand 0.
inline const value& element_operand(const value& elem, std::uint16_t k) {
    if (elem.kind == value_kind::record) return k < elem.items.size() ? elem.items[k] : absent_value();
    return k == 0 ? elem : absent_value();
}

// Field-to-field `==`/`!=`: only scalars of the same kind compare; absent
// (or a list) on either side is false for both operators.
inline bool scalars_comparable(const value& a, const value& b) {
    return a.kind == b.kind &&
           (a.kind == value_kind::string || a.kind == value_kind::number || a.kind == value_kind::boolean);
}
inline bool scalars_equal(const value& a, const value& b) {
    switch (a.kind) {
    case value_kind::string: return a.s == b.s;
    case value_kind::number: return a.n == b.n;
    case value_kind::boolean: return a.b == b.b;
    default: return false;
    }
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



// Runs one verified body from `pc` to its `ret`. In a rule body operands come
// from the input slots; in an any/all block (Element) from `elem`.
template <bool Element>
inline bool run(const program& p, std::uint32_t pc, const value* slots, const value* elem, std::uint16_t action,
                bool acc = false) {
    const insn* code = p.image.code.data();
    const std::string* strings = p.image.strings.data();
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
        case opcode::slot_eq: acc = scalars_comparable(*v, slots[in.arg]) && scalars_equal(*v, slots[in.arg]); break;
        case opcode::slot_ne: acc = scalars_comparable(*v, slots[in.arg]) && !scalars_equal(*v, slots[in.arg]); break;
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

} // namespace detail::vm_impl

// Runs the rules from `first_rule` on (0: all of them). A caller whose `allow
// own` rule failed its ownership check tries the next rule with
// first_rule = decision::rule_index + 1.
inline decision evaluate(const program& p, const input& in, std::uint32_t first_rule = 0) {
    const auto& rules = p.image.rules;
    if (in.slots.size() != p.image.slots.size())
        return error_decision("input has " + std::to_string(in.slots.size()) + " slots, program expects " +
                              std::to_string(p.image.slots.size()));
    const value* slots = in.slots.data();
    const std::size_t row = in.action_id < action_count ? in.action_id : action_count;
    const auto* c = p.candidates.data() + p.first[row];
    const auto* end = p.candidates.data() + p.first[row + 1];
    // Candidates are in rule order: skip those before first_rule.
    c = std::lower_bound(c, end, first_rule,
                         [](const program::candidate& k, std::uint32_t r) { return k.rule < r; });
    for (; c != end; ++c)
        if (detail::vm_impl::run<false>(p, c->pc, slots, nullptr, in.action_id, c->acc)) {
            decision d{rules[c->rule].eff, p.rule_names[c->rule], {}, static_cast<std::int32_t>(c->rule)};
            d.own = rules[c->rule].own;
            return d;
        }
    return decision{p.image.default_effect, "default", {}, -1};
}

} // namespace dockpol::rt
