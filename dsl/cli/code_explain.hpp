// `eval BUNDLE --explain`: a bundle carries no source text, but the compiler
// emits a condition's code in the condition's own shape (dsl/lower.hpp: an
// and/or chain is its operands separated by jumps to the chain's end, `not`
// is a trailing negate, a comparison is one instruction). So the condition is
// rebuilt from the rule's code, printed in the policy language and its
// top-level conjuncts explained like the ones of a source rule.
#pragma once
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dockpol/dsl/detail/text.hpp"
#include "dockpol/rt/program.hpp"
#include "dockpol/rt/value.hpp"
#include "dockpol/rt/vm.hpp"

namespace dockpol::dsl::cli::detail {

// A condition rebuilt from code: a test instruction, or not/and/or over others.
struct code_expr {
    enum class kind { test, not_, and_, or_ };
    kind k = kind::test;
    std::uint32_t pc = 0;            // test: the instruction
    std::vector<code_expr> items;    // not: one; and/or: two or more
};

// Deeper nesting than this is not rebuilt (the checker's own depth limit is far below).
inline constexpr int max_rebuild_depth = 256;

// The expression the code [b, e) was emitted from (e: the pc after it), or
// nullopt for code of another shape. The first jump to `e` opens the
// top-level chain: operands before the last one jump to their own end, so
// every jump to `e` of that kind separates the chain's operands, and a jump
// to `e` of the other kind belongs to a chain inside the last operand.
inline std::optional<code_expr> rebuild(const std::vector<rt::insn>& code, std::uint32_t b, std::uint32_t e,
                                        int depth = 0) {
    if (b >= e || e > code.size() || depth > max_rebuild_depth) return std::nullopt;
    std::vector<std::uint32_t> seps;
    std::optional<rt::opcode> chain;
    for (std::uint32_t pc = b; pc < e; ++pc) {
        const rt::insn& in = code[pc];
        if ((in.op != rt::opcode::jump_if_false && in.op != rt::opcode::jump_if_true) || in.arg != e) continue;
        if (!chain) chain = in.op;
        if (in.op != *chain) break;
        seps.push_back(pc);
    }
    if (!seps.empty()) {
        code_expr out;
        out.k = *chain == rt::opcode::jump_if_false ? code_expr::kind::and_ : code_expr::kind::or_;
        std::uint32_t from = b;
        seps.push_back(e);
        for (std::uint32_t s : seps) {
            auto item = rebuild(code, from, s, depth + 1);
            if (!item) return std::nullopt;
            out.items.push_back(std::move(*item));
            from = s + 1;
        }
        return out;
    }
    if (code[e - 1].op == rt::opcode::negate) {
        auto inner = rebuild(code, b, e - 1, depth + 1);
        if (!inner) return std::nullopt;
        code_expr out;
        out.k = code_expr::kind::not_;
        out.items.push_back(std::move(*inner));
        return out;
    }
    if (e - b != 1) return std::nullopt;
    switch (code[b].op) {
    case rt::opcode::jump_if_false:
    case rt::opcode::jump_if_true:
    case rt::opcode::ret:
    case rt::opcode::negate: return std::nullopt;
    default: break;
    }
    code_expr out;
    out.pc = b;
    return out;
}

// Reads a program's code for explanations: instruction text and truth for one bound input.
class code_reader {
public:
    code_reader(const rt::program& p, const rt::input& in, std::string action)
        : p_(p), im_(rt::image_of(p)), in_(in), action_(std::move(action)) {}

    // The condition of rule `r`, or nullopt when its code has another shape.
    std::optional<code_expr> condition(std::size_t r) const {
        const auto& rule = im_.rules[r];
        if (rule.code_end <= rule.code_begin) return std::nullopt;
        return rebuild(im_.code, rule.code_begin, rule.code_end - 1);
    }

    // `x` in the policy language; `parens` when it is an operand of and/or/not.
    std::string text(const code_expr& x, bool parens = false, long list_slot = -1) const {
        std::string s;
        switch (x.k) {
        case code_expr::kind::test: return test_text(im_.code[x.pc], list_slot);
        case code_expr::kind::not_: {
            // `action != "a"` and `group != "g"` compile to their `==` test and a negate.
            const code_expr& inner = x.items[0];
            const std::string t = text(inner, true, list_slot);
            const auto eq = t.find(" == ");
            if (inner.k == code_expr::kind::test && eq != std::string::npos &&
                (im_.code[inner.pc].op == rt::opcode::action_eq || im_.code[inner.pc].op == rt::opcode::list_has))
                return t.substr(0, eq) + " != " + t.substr(eq + 4);
            return "not " + t;
        }
        case code_expr::kind::and_:
        case code_expr::kind::or_:
            for (const auto& it : x.items)
                s += (s.empty() ? "" : x.k == code_expr::kind::and_ ? " and " : " or ") + text(it, true, list_slot);
            return parens ? "(" + s + ")" : s;
        }
        return s;
    }

    bool holds(const code_expr& x) const {
        switch (x.k) {
        case code_expr::kind::test: return test_holds(im_.code[x.pc]);
        case code_expr::kind::not_: return !holds(x.items[0]);
        case code_expr::kind::and_:
            for (const auto& it : x.items)
                if (!holds(it)) return false;
            return true;
        case code_expr::kind::or_:
            for (const auto& it : x.items)
                if (holds(it)) return true;
            return false;
        }
        return false;
    }

    // The fields `x` reads directly (an any/all: its list), once each, in order, with their values.
    void values(const code_expr& x, std::vector<std::pair<std::string, rt::value>>& out) const {
        if (x.k != code_expr::kind::test) {
            for (const auto& it : x.items) values(it, out);
            return;
        }
        const rt::insn& in = im_.code[x.pc];
        auto add = [&](std::string name, rt::value v) {
            for (const auto& [n, _] : out)
                if (n == name) return;
            out.emplace_back(std::move(name), std::move(v));
        };
        if (in.op == rt::opcode::action_eq || in.op == rt::opcode::action_in)
            add("action", rt::value::string(action_));
        else if (rt::opcode_table[static_cast<std::size_t>(in.op)].uses_slot)
            add(slot_name(in.slot), slot_value(in.slot));
        if (in.op == rt::opcode::slot_eq || in.op == rt::opcode::slot_ne) add(slot_name(in.arg), slot_value(in.arg));
    }

    const rt::program& program() const { return p_; }

    // A number literal as a condition writes it.
    static std::string number_text(double d) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.15g", d);
        return buf;
    }

private:
    rt::value slot_value(std::uint32_t s) const { return s < in_.slots.size() ? in_.slots[s] : rt::value{}; }

    std::string slot_name(std::uint32_t i) const {
        if (i >= im_.slots.size()) return "?";
        const auto& s = im_.slots[i];
        const std::string n(rt::info(s.field).name);
        return s.key.empty() ? n : n + "." + s.key;
    }

    std::string str(std::uint32_t id) const { return dsl::detail::quote_string(im_.strings[id]); }

    std::string set(std::uint32_t id) const {
        std::string s;
        for (auto m : im_.sets[id]) s += (s.empty() ? "" : ", ") + str(m);
        return "{" + s + "}";
    }

    // The operand an instruction reads: an input field, or the any/all variable `x` (`x.A.B`).
    std::string operand(const rt::insn& in, long list_slot) const {
        if (in.src == rt::operand_src::input) return slot_name(in.slot);
        if (in.slot == 0 || list_slot < 0) return "x";
        const auto& sub = im_.slots[static_cast<std::size_t>(list_slot)].subpaths;
        return in.slot <= sub.size() ? "x." + sub[in.slot - 1] : "x";
    }

    std::string test_text(const rt::insn& in, long list_slot) const {
        static constexpr const char* cmp[] = {"==", "!=", "<", "<=", ">", ">="};
        const std::string v = operand(in, list_slot);
        // `group == "x"` is how the docs spell a group test; other lists read `"x" in L`.
        const bool group = in.src == rt::operand_src::input && in.slot < im_.slots.size() &&
                           im_.slots[in.slot].field == rt::field_id::group;
        switch (in.op) {
        case rt::opcode::load_true: return "true";
        case rt::opcode::load_false: return "false";
        case rt::opcode::is_true: return v;
        case rt::opcode::bool_eq: return v + " == " + (in.aux ? "true" : "false");
        case rt::opcode::bool_ne: return v + " != " + (in.aux ? "true" : "false");
        case rt::opcode::str_eq: return v + " == " + str(in.arg);
        case rt::opcode::str_ne: return v + " != " + str(in.arg);
        case rt::opcode::str_in:
        case rt::opcode::list_meets: return v + " in " + set(in.arg);
        case rt::opcode::str_glob: return v + " matches " + str(im_.globs[in.arg]);
        case rt::opcode::num_cmp:
            return v + " " + (in.aux < 6 ? cmp[in.aux] : "?") + " " + number_text(im_.numbers[in.arg]);
        case rt::opcode::list_has: return group ? v + " == " + str(in.arg) : str(in.arg) + " in " + v;
        case rt::opcode::covers: return v + " covers " + str(in.arg);
        case rt::opcode::covered_by: return str(in.arg) + " covers " + v;
        case rt::opcode::slot_eq: return v + " == " + slot_name(in.arg);
        case rt::opcode::slot_ne: return v + " != " + slot_name(in.arg);
        case rt::opcode::action_eq: return "action == " + str(in.arg);
        case rt::opcode::action_in: return "action in " + set(in.arg);
        case rt::opcode::any:
        case rt::opcode::all: {
            const auto& blk = im_.blocks[in.arg];
            auto body = blk.code_end > blk.code_begin ? rebuild(im_.code, blk.code_begin, blk.code_end - 1)
                                                      : std::nullopt;
            return std::string(in.op == rt::opcode::any ? "any" : "all") + " x in " + v + ": " +
                   (body ? text(*body, false, in.slot) : "…");
        }
        default: return "?";
        }
    }

    // One test instruction in a rule body, with the VM's semantics (vm.hpp run()).
    bool test_holds(const rt::insn& in) const {
        namespace vm = rt::detail::vm_impl;
        if (in.op == rt::opcode::load_true) return true;
        if (in.op == rt::opcode::load_false) return false;
        if (in.op == rt::opcode::action_eq) return p_.string_action[in.arg] == in_.action_id;
        if (in.op == rt::opcode::action_in)
            return in_.action_id < rt::action_count && p_.set_actions[in.arg].test(in_.action_id);
        if (in.slot >= in_.slots.size()) return false;
        const rt::value& v = in_.slots[in.slot];
        const std::string& s = im_.strings[in.arg < im_.strings.size() ? in.arg : 0];
        const bool is_str = v.kind == rt::value_kind::string;
        const bool is_list = v.kind == rt::value_kind::list;
        auto list_any = [&](auto pred) {
            if (is_list)
                for (const auto& it : v.items)
                    if (it.kind == rt::value_kind::string && pred(it.s)) return true;
            return false;
        };
        switch (in.op) {
        case rt::opcode::is_true: return v.kind == rt::value_kind::boolean && v.b;
        case rt::opcode::bool_eq: return v.kind == rt::value_kind::boolean && v.b == (in.aux != 0);
        case rt::opcode::bool_ne: return v.kind == rt::value_kind::boolean && v.b != (in.aux != 0);
        case rt::opcode::str_eq: return is_str && v.s == s;
        case rt::opcode::str_ne: return is_str && v.s != s;
        case rt::opcode::str_in: return is_str && vm::set_has(p_.set_members[in.arg], v.s);
        case rt::opcode::str_glob: return is_str && rt::glob_match(p_.globs[in.arg], v.s);
        case rt::opcode::num_cmp:
            return v.kind == rt::value_kind::number && vm::compare_number(v.n, in.aux, im_.numbers[in.arg]);
        case rt::opcode::list_has: return list_any([&](const std::string& x) { return x == s; });
        case rt::opcode::list_meets:
            return list_any([&](const std::string& x) { return vm::set_has(p_.set_members[in.arg], x); });
        case rt::opcode::covers: return is_str && rt::covers(v.s, s);
        case rt::opcode::covered_by: return is_str && rt::covers(s, v.s);
        case rt::opcode::slot_eq:
        case rt::opcode::slot_ne: {
            const rt::value w = slot_value(in.arg);
            if (!vm::scalars_comparable(v, w)) return false;
            return vm::scalars_equal(v, w) == (in.op == rt::opcode::slot_eq);
        }
        case rt::opcode::any:
        case rt::opcode::all: {
            // The VM itself runs the element predicate.
            if (!is_list) return false;
            const auto begin = im_.blocks[in.arg].code_begin;
            for (const auto& it : v.items) {
                const bool ok = vm::run<true>(p_, begin, in_.slots.data(), &it, in_.action_id);
                if (in.op == rt::opcode::any && ok) return true;
                if (in.op == rt::opcode::all && !ok) return false;
            }
            return in.op == rt::opcode::all;
        }
        default: return false;
        }
    }

    const rt::program& p_;
    const rt::program_image& im_;
    const rt::input& in_;
    std::string action_;
};

} // namespace dockpol::dsl::cli::detail
