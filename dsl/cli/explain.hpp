// `eval --explain`: for each rule before the one that decided, why it did not
// match. With sources, each top-level conjunct of the rule's condition is
// evaluated alone by the reference evaluator and the first false one is
// named with its source text; a bundle has no source, so its conditions are
// rebuilt from the code (cli/code_explain.hpp) and explained the same way.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdio>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dockpol/dsl.hpp"
#include "dockpol/dsl/reference_eval.hpp"
#include "cli/code_explain.hpp"
#include "cli/policy_input.hpp"
#include "dockpol/rt/bind.hpp"
#include "dockpol/rt/vm.hpp"

namespace dockpol::dsl::cli {

struct explain_item {
    std::string rule;
    std::string because;
};

// The deciding rule and the values of the fields its condition read.
struct decider_facts {
    std::string rule;
    std::vector<std::pair<std::string, rt::value>> values;   // field as written → its value
};

// Longest condition text quoted in an explanation; long conditions are cut with "…".
inline constexpr std::size_t max_explain_text = 160;

namespace detail {

// `text` cut to max_explain_text bytes.
inline std::string shortened(std::string out) {
    if (out.size() > max_explain_text) {
        std::size_t cut = max_explain_text;
        // Never cut inside a UTF-8 sequence.
        while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
        out.resize(cut);
        out += "…";
    }
    return out;
}

// The source text of `e` with runs of whitespace (line breaks) folded to one space.
inline std::string source_text(const std::vector<source_file>& files, const expr& e) {
    if (e.sp.file >= files.size()) return {};
    const std::string& t = files[e.sp.file].text;
    if (e.sp.end <= e.sp.begin || e.sp.end > t.size()) return {};
    std::string out;
    bool space = false;
    for (std::size_t i = e.sp.begin; i < e.sp.end; ++i) {
        const char c = t[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            space = true;
            continue;
        }
        if (space && !out.empty()) out += ' ';
        space = false;
        out += c;
    }
    return shortened(std::move(out));
}

// Whether `cond` holds for `req`, asked of the reference evaluator through a
// one-rule policy (so the answer uses exactly the semantics of a real rule).
inline bool holds(const checked_policy& cp, const expr& cond, const rt::request& req) {
    checked_policy probe;
    probe.files = cp.files;
    probe.default_effect = rt::effect::deny;
    probe.owner_label = cp.owner_label;
    probe.safe_host_paths = cp.safe_host_paths;
    probe.safe_volume_drivers = cp.safe_volume_drivers;
    probe.rules.push_back(checked_rule{"probe", rt::effect::allow, false, cond, {}});
    return reference_decide(probe, req).rule == "probe";
}

// A value as explanations show it: JSON-like, lists shortened.
inline std::string value_text(const rt::value& v) {
    switch (v.kind) {
    case rt::value_kind::absent: return "absent";
    case rt::value_kind::boolean: return v.b ? "true" : "false";
    case rt::value_kind::number: {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.15g", v.n);
        return buf;
    }
    case rt::value_kind::string: return dsl::detail::quote_string(v.s);
    case rt::value_kind::list:
    case rt::value_kind::record: {
        std::string out = "[";
        for (std::size_t i = 0; i < v.items.size(); ++i) {
            if (i == 8) {
                out += ", … " + std::to_string(v.items.size() - 8) + " more";
                break;
            }
            if (i) out += ", ";
            out += value_text(v.items[i]);
        }
        return out + "]";
    }
    }
    return "?";
}

// A value as JSON (absent is null).
inline nlohmann::ordered_json value_json(const rt::value& v) {
    switch (v.kind) {
    case rt::value_kind::absent: return nullptr;
    case rt::value_kind::boolean: return v.b;
    case rt::value_kind::number: return v.n;
    case rt::value_kind::string: return v.s;
    case rt::value_kind::list:
    case rt::value_kind::record: {
        auto arr = nlohmann::ordered_json::array();
        for (const auto& x : v.items) arr.push_back(value_json(x));
        return arr;
    }
    }
    return nullptr;
}

// The fields a condition reads directly (not inside any/all), once each, in order.
inline void fields_of(const expr& e, std::vector<const expr*>& out) {
    if (e.kind == expr_kind::any || e.kind == expr_kind::all) {
        if (!e.items.empty()) fields_of(e.items[0], out);
        return;
    }
    if (e.kind == expr_kind::field) {
        for (const expr* f : out)
            if (f->id == e.id && f->key == e.key) return;
        out.push_back(&e);
        return;
    }
    for (const auto& it : e.items) fields_of(it, out);
}

// "image.registry is \"docker.io\", action is \"image_create\"": the values of the fields `e` reads.
inline std::string values_text(const checked_policy& cp, const expr& e, const rt::request& req) {
    std::vector<const expr*> fields;
    fields_of(e, fields);
    std::string out;
    for (const expr* f : fields) {
        if (!out.empty()) out += ", ";
        out += f->text + " is " + value_text(reference_field_value(cp, req, *f));
    }
    return out;
}

inline std::string why_not(const checked_policy& cp, const checked_rule& r, const rt::request& req) {
    if (!r.cond) return "unconditional rule did not decide";
    std::vector<const expr*> conjuncts;
    if (r.cond->kind == expr_kind::and_)
        for (const auto& e : r.cond->items) conjuncts.push_back(&e);
    else
        conjuncts.push_back(&*r.cond);
    for (const expr* c : conjuncts) {
        if (holds(cp, *c, req)) continue;
        const std::string text = source_text(cp.files, *c);
        // A bare bool field already says its value ("host_access is false").
        const std::string values = c->kind == expr_kind::field ? "" : values_text(cp, *c, req);
        return (text.empty() ? "condition is false" : text + " is false") + (values.empty() ? "" : ": " + values);
    }
    return "condition is false";
}

// why_not for a rule rebuilt from a bundle's code: the first false top-level conjunct, as text.
inline std::string why_not(const code_reader& code, std::size_t rule) {
    const auto cond = code.condition(rule);
    if (!cond) return "condition is false";
    const auto& img = rt::image_of(code.program());
    if (cond->k == code_expr::kind::test && img.code[cond->pc].op == rt::opcode::load_true)
        return "unconditional rule did not decide";
    std::vector<const code_expr*> conjuncts;
    if (cond->k == code_expr::kind::and_)
        for (const auto& e : cond->items) conjuncts.push_back(&e);
    else
        conjuncts.push_back(&*cond);
    for (const code_expr* c : conjuncts) {
        if (code.holds(*c)) continue;
        std::vector<std::pair<std::string, rt::value>> values;
        // A bare bool field already says its value, as in the source explanation.
        const bool bare = c->k == code_expr::kind::test && img.code[c->pc].op == rt::opcode::is_true;
        if (!bare) code.values(*c, values);
        std::string out = shortened(code.text(*c)) + " is false";
        for (std::size_t i = 0; i < values.size(); ++i)
            out += (i ? ", " : ": ") + values[i].first + " is " + value_text(values[i].second);
        return out;
    }
    return "condition is false";
}

} // namespace detail

inline std::vector<explain_item> explain(const runnable_policy& p, const rt::request& req, const rt::decision& d) {
    const rt::program_image& img = rt::image_of(*p.prog);
    // A run-time error decides before any rule runs; the default comes after all of them.
    std::size_t end = 0;
    if (d.rule_index >= 0) end = static_cast<std::size_t>(d.rule_index);
    else if (d.rule == "default") end = img.rules.size();
    // A bundle: the rules' code is read against the input the VM saw.
    std::optional<rt::input> bound;
    if (!p.checked)
        if (auto b = rt::bind(*p.prog, req); std::holds_alternative<rt::input>(b)) bound = std::get<rt::input>(std::move(b));
    std::optional<detail::code_reader> code;
    if (bound) code.emplace(*p.prog, *bound, req.action);
    std::vector<explain_item> out;
    for (std::size_t i = 0; i < end && i < img.rules.size(); ++i) {
        explain_item item;
        item.rule = img.rules[i].name < img.strings.size() ? img.strings[img.rules[i].name] : "?";
        // Matched by name, not index: the image's rules are the checked rules plus builtins.
        const checked_rule* src = nullptr;
        if (p.checked)
            for (const auto& r : p.checked->rules)
                if (r.name == item.rule) src = &r;
        if (src)
            item.because = detail::why_not(*p.checked, *src, req);
        else if (item.rule == "builtin_ping")
            item.because = "action is not \"system_ping\"";
        else if (code)
            item.because = detail::why_not(*code, i);
        else
            item.because = "condition is false";
        out.push_back(std::move(item));
    }
    return out;
}

// The fields the deciding rule's condition reads, with their values (a bundle's: rebuilt from its code).
inline std::optional<decider_facts> decider_values(const runnable_policy& p, const rt::request& req,
                                                   const rt::decision& d) {
    if (d.rule_index < 0) return std::nullopt;
    if (!p.checked) {
        auto b = rt::bind(*p.prog, req);
        if (!std::holds_alternative<rt::input>(b)) return std::nullopt;
        const detail::code_reader code(*p.prog, std::get<rt::input>(b), req.action);
        const auto cond = code.condition(static_cast<std::size_t>(d.rule_index));
        if (!cond) return std::nullopt;
        decider_facts out{d.rule, {}};
        code.values(*cond, out.values);
        return out;
    }
    for (const auto& r : p.checked->rules) {
        if (r.name != d.rule || !r.cond) continue;
        decider_facts out{r.name, {}};
        std::vector<const expr*> fields;
        detail::fields_of(*r.cond, fields);
        for (const expr* f : fields)
            out.values.emplace_back(f->text, reference_field_value(*p.checked, req, *f));
        return out;
    }
    return std::nullopt;
}

} // namespace dockpol::dsl::cli
