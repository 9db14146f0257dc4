// The reference evaluator: a deliberately simple walk over the checked AST
// and the request itself, sharing no code with lowering, binding or the VM
// (only the schema, the glob matcher, `covers` and the body scanner). It is
// the oracle of the differential tests: for every request the VM must reach
// the same decision by the same rule.
#pragma once
#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

#include "dockpol/dsl/ast.hpp"
#include "dockpol/rt/actions.hpp"
#include "dockpol/rt/body_facts.hpp"
#include "dockpol/rt/glob.hpp"
#include "dockpol/rt/path_clean.hpp"
#include "dockpol/rt/request.hpp"
#include "dockpol/rt/value.hpp"
#include "dockpol/rt/verifier.hpp"
#include "dockpol/rt/vm.hpp"

namespace dockpol::dsl {

namespace detail::reference_impl {

class reference {
public:
    reference(const checked_policy& pol, const rt::request& req) : pol_(pol), req_(req) {
        auto id = rt::find_action(req.action);
        action_ = std::string(rt::all_actions()[id ? *id : rt::unknown_action_id].name);
    }

    rt::decision run(std::uint32_t first_rule) {
        // Body values are extracted up front, once per distinct use: a body the
        // scanner refuses denies the request whatever rule would have decided.
        for (const auto& r : pol_.rules)
            if (r.cond)
                if (auto e = prefetch(*r.cond)) return rt::error_decision(*e);
        for (std::size_t i = first_rule; i < pol_.rules.size(); ++i) {
            const auto& r = pol_.rules[i];
            if (!r.cond || truth(*r.cond, nullptr)) {
                rt::decision d{r.eff, r.name, {}, static_cast<std::int32_t>(i)};
                d.own = r.own;
                return d;
            }
        }
        if (action_ == "system_ping" && first_rule <= pol_.rules.size())
            return rt::decision{rt::effect::allow, std::string(rt::builtin_ping_rule), {},
                                static_cast<std::int32_t>(pol_.rules.size())};
        return rt::decision{pol_.default_effect, "default", {}, -1};
    }

    // The value one field has for the request (absent when it has none, or its body cannot be read).
    rt::value value_of(const expr& f) {
        if (f.kind != expr_kind::field) return {};
        if (from_body(f.id) && fetch({f.id, f.key, {}})) return {};
        return field(f);
    }

private:
    using body_key = std::tuple<rt::field_id, std::string, std::vector<std::string>>;

    // The loop variable in scope: its element, and the sub-path names its predicate reads.
    struct scope {
        const std::string* var;
        const rt::value* elem;
        const std::vector<std::string>* subpaths;
    };

    static bool from_body(rt::field_id f) {
        auto s = rt::info(f).source;
        return s != rt::field_source::request && s != rt::field_source::resource && s != rt::field_source::owner;
    }

    static void loop_keys(const expr& e, const std::string& var, std::vector<std::string>& out) {
        if (e.kind == expr_kind::loop_var && e.text == var && !e.key.empty() &&
            std::find(out.begin(), out.end(), e.key) == out.end())
            out.push_back(e.key);
        for (const auto& it : e.items) loop_keys(it, var, out);
    }

    static std::vector<std::string> subpaths_of(const expr& loop) {
        std::vector<std::string> keys;
        loop_keys(loop.items.at(1), loop.text, keys);
        return keys;
    }

    std::optional<std::string> fetch(const body_key& k) {
        if (body_.count(k)) return std::nullopt;
        rt::slot_desc d{std::get<0>(k), std::get<1>(k), std::get<2>(k)};
        std::vector<rt::value> out(1);
        // The policy's safe paths and drivers are what host_access reads of the program.
        rt::program_image img;
        img.safe_host_paths = pol_.safe_host_paths;
        img.safe_volume_drivers = pol_.safe_volume_drivers;
        const auto id = rt::find_action(req_.action);
        if (auto e = rt::fill_facts(img, req_, id ? *id : rt::unknown_action_id, std::span<const rt::slot_desc>(&d, 1), out))
            return e->reason;
        body_[k] = std::move(out[0]);
        return std::nullopt;
    }

    std::optional<std::string> prefetch(const expr& e) {
        if (e.kind == expr_kind::field && from_body(e.id))
            if (auto err = fetch({e.id, e.key, {}})) return err;
        if ((e.kind == expr_kind::any || e.kind == expr_kind::all) && e.items.at(0).kind == expr_kind::field &&
            from_body(e.items[0].id))
            if (auto err = fetch({e.items[0].id, e.items[0].key, subpaths_of(e)})) return err;
        for (const auto& it : e.items)
            if (auto err = prefetch(it)) return err;
        return std::nullopt;
    }

    static rt::value first(const rt::string_pairs& ps, const std::string& k) {
        auto it = std::find_if(ps.begin(), ps.end(), [&](const auto& p) { return p.first == k; });
        return it == ps.end() ? rt::value::absent() : rt::value::string(it->second);
    }

    rt::value field(const expr& f, const std::vector<std::string>& subpaths = {}) const {
        using F = rt::field_id;
        auto strs = [](const std::vector<std::string>& xs) {
            rt::value v = rt::value::list({});
            for (const auto& x : xs) v.items.push_back(rt::value::string(x));
            return v;
        };
        switch (f.id) {
        case F::user: return rt::value::string(req_.user);
        case F::groups:
        case F::group: return strs(req_.groups);
        case F::host: return rt::value::string(req_.host);
        case F::host_labels: return first(req_.host_labels, f.key);
        case F::action: return rt::value::string(action_);
        case F::method: return rt::value::string(req_.method);
        case F::path: return rt::value::string(req_.path);
        case F::api_version: return req_.api_version.empty() ? rt::value() : rt::value::string(req_.api_version);
        case F::query: return first(req_.query, f.key);
        case F::resource_id: return req_.resource_id.empty() ? rt::value() : rt::value::string(req_.resource_id);
        case F::resource_name: return req_.resource_name ? rt::value::string(*req_.resource_name) : rt::value();
        case F::resource_labels: return first(req_.resource_labels, f.key);
        case F::resource_owner: return pol_.owner_label.empty() ? rt::value() : first(req_.resource_labels, pol_.owner_label);
        default: {
            auto it = body_.find(body_key{f.id, f.key, subpaths});
            return it == body_.end() ? rt::value() : it->second;
        }
        }
    }

    rt::value operand(const expr& e, const scope* sc) const {
        if (e.kind == expr_kind::field) return field(e);
        if (e.kind == expr_kind::loop_var && sc && e.text == *sc->var) {
            // fill_facts builds records as [element's own scalar, sub-path 0, sub-path 1, ...].
            const bool rec = sc->elem->kind == rt::value_kind::record;
            if (e.key.empty()) return rec ? (sc->elem->items.empty() ? rt::value() : sc->elem->items[0]) : *sc->elem;
            auto it = std::find(sc->subpaths->begin(), sc->subpaths->end(), e.key);
            const auto k = static_cast<std::size_t>(it - sc->subpaths->begin()) + 1;
            if (!rec || k >= sc->elem->items.size()) return {};
            return sc->elem->items[k];
        }
        return {};
    }

    static bool is_str(const rt::value& v, const std::string& s) { return v.kind == rt::value_kind::string && v.s == s; }

    static bool contains(const rt::value& list, const std::string& s) {
        if (list.kind != rt::value_kind::list) return false;
        return std::any_of(list.items.begin(), list.items.end(), [&](const rt::value& x) { return is_str(x, s); });
    }

    static bool in_set(const rt::value& v, const expr& set) {
        return std::any_of(set.items.begin(), set.items.end(), [&](const expr& m) { return is_str(v, m.str); });
    }

    // Membership semantics: `group` / `groups` and fact lists hold lists of strings.
    static bool membership(const expr& f) {
        if (f.kind != expr_kind::field) return false;
        auto t = rt::info(f.id).type;
        return t == rt::field_type::list || t == rt::field_type::groups;
    }

    static bool num_compare(const rt::value& v, compare_op op, double n) {
        if (v.kind != rt::value_kind::number) return false;
        switch (op) {
        case compare_op::eq: return v.n == n;
        case compare_op::ne: return v.n != n;
        case compare_op::lt: return v.n < n;
        case compare_op::le: return v.n <= n;
        case compare_op::gt: return v.n > n;
        case compare_op::ge: return v.n >= n;
        default: return false;
        }
    }

    static bool is_field_like(const expr& e) { return e.kind == expr_kind::field || e.kind == expr_kind::loop_var; }

    // Field-to-field `==`/`!=`: two scalars of the same kind; anything else (absent included) is false.
    bool compare_fields(const rt::value& x, compare_op op, const rt::value& y) const {
        if (x.kind != y.kind) return false;
        bool eq;
        switch (x.kind) {
        case rt::value_kind::string: eq = x.s == y.s; break;
        case rt::value_kind::number: eq = x.n == y.n; break;
        case rt::value_kind::boolean: eq = x.b == y.b; break;
        default: return false;
        }
        return op == compare_op::eq ? eq : !eq;
    }

    bool compare(const expr& e, const scope* sc) const {
        const expr& a = e.items.at(0);
        const expr& b = e.items.at(1);
        if (a.kind == expr_kind::field && b.kind == expr_kind::field) return compare_fields(field(a), e.op, field(b));
        if (e.op == compare_op::in && a.kind == expr_kind::string_lit) return contains(operand(b, sc), a.str);
        if (e.op == compare_op::covers && a.kind == expr_kind::string_lit) {
            auto v = operand(b, sc);
            return v.kind == rt::value_kind::string && rt::covers(a.str, v.s);
        }
        const bool swap = !is_field_like(a);
        const expr& f = swap ? b : a;
        const expr& lit = swap ? a : b;
        const compare_op op = swap ? flipped(e.op) : e.op;
        const rt::value v = operand(f, sc);
        switch (op) {
        case compare_op::eq:
        case compare_op::ne: {
            bool r;
            if (lit.kind == expr_kind::string_lit && membership(f)) {
                r = contains(v, lit.str);
                return op == compare_op::eq ? r : !r;
            }
            if (lit.kind == expr_kind::string_lit)
                return v.kind == rt::value_kind::string && (op == compare_op::eq ? v.s == lit.str : v.s != lit.str);
            if (lit.kind == expr_kind::bool_lit)
                return v.kind == rt::value_kind::boolean && (op == compare_op::eq ? v.b == lit.boolean : v.b != lit.boolean);
            return num_compare(v, op, lit.num);
        }
        case compare_op::lt:
        case compare_op::le:
        case compare_op::gt:
        case compare_op::ge: return num_compare(v, op, lit.num);
        case compare_op::in:
            if (membership(f))
                return v.kind == rt::value_kind::list &&
                       std::any_of(v.items.begin(), v.items.end(), [&](const rt::value& x) { return in_set(x, lit); });
            return in_set(v, lit);
        case compare_op::matches: {
            if (v.kind != rt::value_kind::string) return false;
            auto g = rt::compile_glob(lit.str);
            return g.index() == 0 && rt::glob_match(std::get<0>(g), v.s);
        }
        case compare_op::covers: return v.kind == rt::value_kind::string && rt::covers(v.s, lit.str);
        }
        return false;
    }

    bool truth(const expr& e, const scope* sc) const {
        switch (e.kind) {
        case expr_kind::bool_lit: return e.boolean;
        case expr_kind::field:
        case expr_kind::loop_var: {
            auto v = operand(e, sc);
            return v.kind == rt::value_kind::boolean && v.b;
        }
        case expr_kind::not_: return !truth(e.items.at(0), sc);
        case expr_kind::and_:
            return std::all_of(e.items.begin(), e.items.end(), [&](const expr& x) { return truth(x, sc); });
        case expr_kind::or_:
            return std::any_of(e.items.begin(), e.items.end(), [&](const expr& x) { return truth(x, sc); });
        case expr_kind::compare: return compare(e, sc);
        case expr_kind::any:
        case expr_kind::all: {
            const auto subs = subpaths_of(e);
            const rt::value list = field(e.items.at(0), from_body(e.items[0].id) ? subs : std::vector<std::string>{});
            // Absent or not a list: false for both (any comparison with absent is false).
            if (list.kind != rt::value_kind::list) return false;
            for (const auto& el : list.items) {
                scope inner{&e.text, &el, &subs};
                const bool t = truth(e.items.at(1), &inner);
                if (e.kind == expr_kind::any && t) return true;
                if (e.kind == expr_kind::all && !t) return false;
            }
            return e.kind == expr_kind::all;
        }
        default: return false;
        }
    }

    const checked_policy& pol_;
    const rt::request& req_;
    std::string action_;
    std::map<body_key, rt::value> body_;
};

} // namespace detail::reference_impl

// Like rt::evaluate, `first_rule` skips the rules before it (an `allow own`
// rule whose ownership check failed is retried from the next one).
// The value a field expression has for `req`, as the reference evaluator reads
// it (for `eval --explain`, which shows the values a condition compared).
inline rt::value reference_field_value(const checked_policy& pol, const rt::request& req, const expr& f) {
    return detail::reference_impl::reference(pol, req).value_of(f);
}

inline rt::decision reference_decide(const checked_policy& pol, const rt::request& req, std::uint32_t first_rule = 0) {
    return detail::reference_impl::reference(pol, req).run(first_rule);
}

} // namespace dockpol::dsl
