// Lowering: checked AST → program_image. Interns every constant (strings,
// sets, globs, numbers), allocates one slot per distinct (field, key),
// compiles each condition to straight-line short-circuit code with forward
// jumps only, turns every any/all predicate into a block of element code,
// computes which actions need a body read or a target inspect, and appends
// the builtin_ping rule.
#pragma once
#include <algorithm>
#include <bitset>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "dockpol/dsl/ast.hpp"
#include "dockpol/dsl/rule_actions.hpp"
#include "dockpol/rt/actions.hpp"
#include "dockpol/rt/fields.hpp"
#include "dockpol/rt/glob.hpp"
#include "dockpol/rt/owner_forms.hpp"
#include "dockpol/rt/program.hpp"
#include "dockpol/rt/verifier.hpp"

namespace dockpol::dsl {

// An AST shape the checker should have rejected; compile() reports it as dp-internal.
struct lower_error : std::runtime_error {
    span sp;
    lower_error(const std::string& m, span s) : std::runtime_error(m), sp(s) {}
};

namespace detail::lower_impl {

using action_bits = std::bitset<rt::action_count>;

inline action_bits all_action_bits() { return action_bits{}.set(); }

// Actions whose request body dockerd decodes as JSON (raw `body.*` paths).
inline action_bits json_body_actions() {
    action_bits b;
    const auto acts = rt::all_actions();
    for (std::size_t i = 0; i < acts.size(); ++i)
        if (acts[i].json_body) b.set(i);
    return b;
}

// Actions with a route whose path names something dockpold can inspect.
inline action_bits inspectable_actions() {
    action_bits b;
    // Read straight from the route table's X-macro so the compiler needs no router code.
#define ROUTE(method, pattern, action, kind) \
    if (std::string_view(kind) != "") b.set(rt::action_id(rt::action_code::action));
#include "dockpol/rt/routes.def"
#undef ROUTE
    return b;
}

inline bool is_value(const expr& e) { return e.kind == expr_kind::field || e.kind == expr_kind::loop_var; }
inline bool is_action(const expr& e) { return e.kind == expr_kind::field && e.id == rt::field_id::action; }

// Fields whose value is a list of strings compared by membership (`group == "x"` ⇔ x ∈ groups).
inline bool is_list_field(const expr& e) {
    if (e.kind != expr_kind::field) return false;
    auto t = rt::info(e.id).type;
    return t == rt::field_type::list || t == rt::field_type::groups;
}

// The actions a rule can apply to (rule_actions.hpp); all actions when unconstrained.
inline action_bits rule_actions(const expr* cond) { return rule_action_mask(cond).value_or(all_action_bits()); }

class lowering {
public:
    explicit lowering(rt::manifest man) { img_.man = std::move(man); }

    rt::program_image run(const checked_policy& pol) {
        img_.default_effect = pol.default_effect;
        action_bits body, resource;
        for (const auto& r : pol.rules) {
            rule(r.name, r.eff, r.own, r.cond ? &*r.cond : nullptr, r.pos);
            needs(r.cond ? &*r.cond : nullptr, body, resource);
            if (r.own) own_needs(r.cond ? &*r.cond : nullptr, body, resource);
        }
        img_.owner_label = pol.owner_label;
        // dockpold sets the label on every create and checks updates keep it, whichever rule allowed them.
        // An update must keep the target's owner label, so the target is looked up too.
        if (!pol.owner_label.empty()) {
            body |= owner_forms({rt::owner_form::create, rt::owner_form::keep});
            resource |= owner_forms({rt::owner_form::keep});
        }
        builtin_ping();
        place_blocks();
        img_.body_actions = action_set(body);
        img_.resource_actions = action_set(resource);
        img_.safe_host_paths = sorted_unique(pol.safe_host_paths);
        img_.safe_volume_drivers = sorted_unique(pol.safe_volume_drivers);
        return std::move(img_);
    }

private:
    // The bundle keeps lists canonical (the verifier rejects anything else).
    static std::vector<std::string> sorted_unique(std::vector<std::string> v) {
        std::sort(v.begin(), v.end());
        v.erase(std::unique(v.begin(), v.end()), v.end());
        return v;
    }

    // --- constant pools -------------------------------------------------
    std::uint32_t str(const std::string& s) {
        auto [it, fresh] = str_ids_.try_emplace(s, static_cast<std::uint32_t>(img_.strings.size()));
        if (fresh) img_.strings.push_back(s);
        return it->second;
    }
    std::uint32_t set_of(std::vector<std::string> members) {
        std::sort(members.begin(), members.end());
        members.erase(std::unique(members.begin(), members.end()), members.end());
        std::vector<std::uint32_t> ids;
        for (const auto& m : members) ids.push_back(str(m));
        auto [it, fresh] = set_ids_.try_emplace(ids, static_cast<std::uint32_t>(img_.sets.size()));
        if (fresh) img_.sets.push_back(std::move(ids));
        return it->second;
    }
    std::uint32_t set_lit(const expr& e) {
        std::vector<std::string> m;
        for (const auto& it : e.items) {
            if (it.kind != expr_kind::string_lit) throw lower_error("set element is not a string", it.sp);
            m.push_back(it.str);
        }
        return set_of(std::move(m));
    }
    std::uint32_t action_set(const action_bits& b) {
        std::vector<std::string> m;
        const auto acts = rt::all_actions();
        for (std::size_t i = 0; i < acts.size(); ++i)
            if (b.test(i)) m.emplace_back(acts[i].name);
        return set_of(std::move(m));
    }
    std::uint32_t glob(const std::string& pattern) {
        const auto id = str(pattern);
        auto [it, fresh] = glob_ids_.try_emplace(id, static_cast<std::uint32_t>(img_.globs.size()));
        if (fresh) img_.globs.push_back(id);
        return it->second;
    }
    std::uint32_t number(double d) {
        for (std::size_t i = 0; i < img_.numbers.size(); ++i)
            if (img_.numbers[i] == d) return static_cast<std::uint32_t>(i);
        img_.numbers.push_back(d);
        return static_cast<std::uint32_t>(img_.numbers.size() - 1);
    }
    std::uint16_t slot(const expr& f) {
        auto [it, fresh] = slot_ids_.try_emplace({f.id, f.key}, static_cast<std::uint16_t>(img_.slots.size()));
        if (fresh) img_.slots.push_back(rt::slot_desc{f.id, f.key, {}});
        return it->second;
    }

    // --- code -------------------------------------------------------------
    // Where code is emitted: a rule body (absolute pcs in img_.code) or an
    // any/all block (pcs relative to the block, relocated by place_blocks).
    struct target {
        std::vector<rt::insn>* code;
        bool element = false;
        std::string var;             // the loop variable (element bodies)
        std::uint16_t list_slot = 0; // the slot the block iterates
        std::uint32_t base = 0;      // pc of code[0]
    };

    static rt::insn make(rt::opcode op, std::uint32_t arg = 0) {
        rt::insn i;
        i.op = op;
        i.arg = arg;
        return i;
    }

    void rule(const std::string& name, rt::effect eff, bool own, const expr* cond, rt::source_pos pos) {
        rt::rule_desc r;
        r.name = str(name);
        r.eff = eff;
        r.own = own;
        r.code_begin = static_cast<std::uint32_t>(img_.code.size());
        target t{&img_.code, false, {}, 0, 0};
        if (cond) emit(*cond, t);
        else img_.code.push_back(make(rt::opcode::load_true));
        img_.code.push_back(make(rt::opcode::ret));
        r.code_end = static_cast<std::uint32_t>(img_.code.size());
        img_.rules.push_back(r);
        img_.rule_positions.push_back(pos);
    }

    // `allow if action == "system_ping"`, after the policy's rules (docs/language.md).
    void builtin_ping() {
        rt::rule_desc r;
        r.name = str(std::string(rt::builtin_ping_rule));
        r.eff = rt::effect::allow;
        r.code_begin = static_cast<std::uint32_t>(img_.code.size());
        img_.code.push_back(make(rt::opcode::action_eq, str("system_ping")));
        img_.code.push_back(make(rt::opcode::ret));
        r.code_end = static_cast<std::uint32_t>(img_.code.size());
        img_.rules.push_back(r);
        img_.rule_positions.push_back(rt::source_pos{});
    }

    // Blocks go after all rule code, in block order.
    void place_blocks() {
        for (std::size_t b = 0; b < pending_.size(); ++b) {
            const auto base = static_cast<std::uint32_t>(img_.code.size());
            for (auto in : pending_[b]) {
                if (in.op == rt::opcode::jump_if_false || in.op == rt::opcode::jump_if_true) in.arg += base;
                img_.code.push_back(in);
            }
            img_.blocks.push_back(rt::block_desc{base, static_cast<std::uint32_t>(img_.code.size())});
        }
    }

    static std::uint32_t pc(const target& t) { return static_cast<std::uint32_t>(t.code->size()) + t.base; }

    // An instruction reading a value: an input slot, or an element sub-path inside a block.
    rt::insn read(rt::opcode op, const expr& v, const target& t, std::uint32_t arg = 0) {
        rt::insn in = make(op, arg);
        if (v.kind == expr_kind::field) {
            if (t.element) throw lower_error("field read inside an any/all predicate", v.sp);
            in.slot = slot(v);
        } else if (v.kind == expr_kind::loop_var) {
            if (!t.element || v.text != t.var) throw lower_error("loop variable outside its any/all", v.sp);
            in.src = rt::operand_src::element;
            in.slot = subpath(t.list_slot, v.key);
        } else {
            throw lower_error("expected a field", v.sp);
        }
        return in;
    }

    std::uint16_t subpath(std::uint16_t list_slot, const std::string& key) {
        if (key.empty()) return 0;
        auto& sub = img_.slots[list_slot].subpaths;
        auto it = std::find(sub.begin(), sub.end(), key);
        if (it == sub.end()) it = sub.insert(sub.end(), key);
        return static_cast<std::uint16_t>(it - sub.begin() + 1);
    }

    void emit(const expr& e, target& t) {
        auto& code = *t.code;
        switch (e.kind) {
        case expr_kind::bool_lit: code.push_back(make(e.boolean ? rt::opcode::load_true : rt::opcode::load_false)); return;
        case expr_kind::field:
        case expr_kind::loop_var: code.push_back(read(rt::opcode::is_true, e, t)); return;
        case expr_kind::not_:
            emit(e.items.at(0), t);
            code.push_back(make(rt::opcode::negate));
            return;
        case expr_kind::and_:
        case expr_kind::or_: {
            // `and` leaves at the first false operand, `or` at the first true one; both land after the last.
            const auto jump = e.kind == expr_kind::and_ ? rt::opcode::jump_if_false : rt::opcode::jump_if_true;
            std::vector<std::size_t> patch;
            for (std::size_t i = 0; i < e.items.size(); ++i) {
                emit(e.items[i], t);
                if (i + 1 < e.items.size()) {
                    patch.push_back(code.size());
                    code.push_back(make(jump));
                }
            }
            for (auto at : patch) code[at].arg = pc(t);
            return;
        }
        case expr_kind::compare: compare(e, t); return;
        case expr_kind::any:
        case expr_kind::all: loop(e, t); return;
        default: throw lower_error("unexpected expression in a condition", e.sp);
        }
    }

    void loop(const expr& e, target& t) {
        if (t.element) throw lower_error("any/all cannot nest", e.sp);
        const expr& list = e.items.at(0);
        if (list.kind != expr_kind::field) throw lower_error("any/all needs a list field", list.sp);
        const auto s = slot(list);
        const auto block = static_cast<std::uint32_t>(pending_.size());
        pending_.emplace_back();
        std::vector<rt::insn> body;
        target bt{&body, true, e.text, s, 0};
        emit(e.items.at(1), bt);
        body.push_back(make(rt::opcode::ret));
        pending_[block] = std::move(body);
        rt::insn in = make(e.kind == expr_kind::any ? rt::opcode::any : rt::opcode::all, block);
        in.slot = s;
        t.code->push_back(in);
    }

    void compare(const expr& e, target& t) {
        auto& code = *t.code;
        const expr* l = &e.items.at(0);
        const expr* r = &e.items.at(1);
        auto op = e.op;
        // `"x" in LIST` and `"c" covers field` keep their literal on the left.
        if (op == compare_op::in && !is_value(*l) && is_value(*r)) {
            if (l->kind != expr_kind::string_lit) throw lower_error("`in` a list needs a string", l->sp);
            code.push_back(read(rt::opcode::list_has, *r, t, str(l->str)));
            return;
        }
        if (op == compare_op::covers && !is_value(*l) && is_value(*r)) {
            if (l->kind != expr_kind::string_lit) throw lower_error("`covers` needs a path string", l->sp);
            code.push_back(read(rt::opcode::covered_by, *r, t, str(l->str)));
            return;
        }
        // Literal on the left of a comparison: mirror it (`3 < x` is `x > 3`).
        if (!is_value(*l) && is_value(*r)) {
            static constexpr compare_op mirror[] = {compare_op::eq, compare_op::ne, compare_op::in, compare_op::matches,
                                                    compare_op::covers, compare_op::gt, compare_op::ge, compare_op::lt,
                                                    compare_op::le};
            std::swap(l, r);
            op = mirror[static_cast<int>(op)];
        }
        if (!is_value(*l)) throw lower_error("comparison without a field", e.sp);
        if (is_value(*r)) return field_pair(*l, op, *r, t);
        if (is_action(*l)) return action_compare(*l, op, *r, t);
        const bool list = is_list_field(*l);
        switch (op) {
        case compare_op::eq:
        case compare_op::ne: {
            const bool ne = op == compare_op::ne;
            if (r->kind == expr_kind::string_lit && list) {
                code.push_back(read(rt::opcode::list_has, *l, t, str(r->str)));
                if (ne) code.push_back(make(rt::opcode::negate));
            } else if (r->kind == expr_kind::string_lit) {
                code.push_back(read(ne ? rt::opcode::str_ne : rt::opcode::str_eq, *l, t, str(r->str)));
            } else if (r->kind == expr_kind::bool_lit) {
                auto in = read(ne ? rt::opcode::bool_ne : rt::opcode::bool_eq, *l, t);
                in.aux = r->boolean ? 1 : 0;
                code.push_back(in);
            } else if (r->kind == expr_kind::number_lit) {
                num(*l, ne ? rt::cmp_op::ne : rt::cmp_op::eq, *r, t);
            } else {
                throw lower_error("cannot compare with this value", r->sp);
            }
            return;
        }
        case compare_op::lt: return num(*l, rt::cmp_op::lt, *r, t);
        case compare_op::le: return num(*l, rt::cmp_op::le, *r, t);
        case compare_op::gt: return num(*l, rt::cmp_op::gt, *r, t);
        case compare_op::ge: return num(*l, rt::cmp_op::ge, *r, t);
        case compare_op::in:
            if (r->kind != expr_kind::set_lit) throw lower_error("`in` needs a set", r->sp);
            code.push_back(read(list ? rt::opcode::list_meets : rt::opcode::str_in, *l, t, set_lit(*r)));
            return;
        case compare_op::matches:
            if (r->kind != expr_kind::string_lit) throw lower_error("`matches` needs a glob string", r->sp);
            code.push_back(read(rt::opcode::str_glob, *l, t, glob(r->str)));
            return;
        case compare_op::covers:
            if (r->kind != expr_kind::string_lit) throw lower_error("`covers` needs a path string", r->sp);
            code.push_back(read(rt::opcode::covers, *l, t, str(r->str)));
            return;
        }
    }

    // `a == b` / `a != b` on two input fields of one scalar type (the checker's normal form).
    void field_pair(const expr& l, compare_op op, const expr& r, target& t) {
        if (t.element || l.kind != expr_kind::field || r.kind != expr_kind::field)
            throw lower_error("only two input fields compare with each other", r.sp);
        if (op != compare_op::eq && op != compare_op::ne) throw lower_error("two fields compare only with == or !=", r.sp);
        auto in = read(op == compare_op::eq ? rt::opcode::slot_eq : rt::opcode::slot_ne, l, t);
        in.arg = slot(r);
        t.code->push_back(in);
    }

    void num(const expr& l, rt::cmp_op op, const expr& r, target& t) {
        if (r.kind != expr_kind::number_lit) throw lower_error("numeric comparison needs a number", r.sp);
        auto in = read(rt::opcode::num_cmp, l, t, number(r.num));
        in.aux = static_cast<std::uint8_t>(op);
        t.code->push_back(in);
    }

    void action_compare(const expr& l, compare_op op, const expr& r, target& t) {
        auto& code = *t.code;
        if (t.element) throw lower_error("action read inside an any/all predicate", l.sp);
        if ((op == compare_op::eq || op == compare_op::ne) && r.kind == expr_kind::string_lit) {
            code.push_back(make(rt::opcode::action_eq, str(r.str)));
            if (op == compare_op::ne) code.push_back(make(rt::opcode::negate));
        } else if (op == compare_op::in && r.kind == expr_kind::set_lit) {
            code.push_back(make(rt::opcode::action_in, set_lit(r)));
        } else if (op == compare_op::matches && r.kind == expr_kind::string_lit) {
            // The checker expands action globs; this keeps lowering total if one slips through.
            auto g = rt::compile_glob(r.str);
            if (g.index() != 0) throw lower_error("bad action glob", r.sp);
            std::vector<std::string> m;
            for (const auto& a : rt::all_actions())
                if (rt::glob_match(std::get<0>(g), a.name)) m.emplace_back(a.name);
            code.push_back(make(rt::opcode::action_in, set_of(std::move(m))));
        } else {
            throw lower_error("unsupported comparison on action", r.sp);
        }
    }

    // --- what the sidecar must fetch -----------------------------------------
    static void fields_of(const expr& e, std::vector<const expr*>& out) {
        if (e.kind == expr_kind::field) out.push_back(&e);
        for (const auto& it : e.items) fields_of(it, out);
    }

    static void needs(const expr* cond, action_bits& body, action_bits& resource) {
        if (!cond) return;
        std::vector<const expr*> fs;
        fields_of(*cond, fs);
        const action_bits acts = rule_actions(cond);
        for (const expr* f : fs) {
            switch (rt::info(f->id).source) {
            case rt::field_source::request: break;
            case rt::field_source::resource: resource |= acts & inspectable_actions(); break;
            case rt::field_source::owner: resource |= acts & rt::field_actions(f->id); break;
            case rt::field_source::body: body |= acts & json_body_actions(); break;
            default: {
                // Derived facts: the table says which actions read the body or the target.
                const auto n = rt::needs_of(f->id);
                body |= acts & n.body;
                resource |= acts & n.target;
            }
            }
        }
    }

    // The actions whose owner form is one of `forms`.
    static action_bits owner_forms(std::initializer_list<rt::owner_form> forms) {
        action_bits b;
        for (std::size_t a = 0; a < rt::action_count; ++a)
            for (auto f : forms)
                if (rt::owner_form_of(static_cast<std::uint16_t>(a)) == f) b.set(a);
        return b;
    }

    // `allow own` checks the target's owner (target, keep) and the objects a body names
    // (rt::own_check_reads_body: creates, updates, network_connect/disconnect).
    static void own_needs(const expr* cond, action_bits& body, action_bits& resource) {
        const action_bits acts = rule_actions(cond);
        resource |= acts & owner_forms({rt::owner_form::target, rt::owner_form::keep});
        for (std::size_t a = 0; a < rt::action_count; ++a)
            if (acts.test(a) && rt::own_check_reads_body(static_cast<std::uint16_t>(a))) body.set(a);
    }

    rt::program_image img_;
    std::unordered_map<std::string, std::uint32_t> str_ids_;
    std::map<std::vector<std::uint32_t>, std::uint32_t> set_ids_;
    std::unordered_map<std::uint32_t, std::uint32_t> glob_ids_;
    std::map<std::pair<rt::field_id, std::string>, std::uint16_t> slot_ids_;
    std::vector<std::vector<rt::insn>> pending_;
};

} // namespace detail::lower_impl

// checked_policy → program_image (not yet verified: compile() runs the verifier).
// Throws lower_error only for AST shapes the checker rejects.
inline rt::program_image lower(const checked_policy& pol, rt::manifest man) {
    return detail::lower_impl::lowering(std::move(man)).run(pol);
}

} // namespace dockpol::dsl
