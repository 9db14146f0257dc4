// `dockpolc eval BUNDLE|POLICY... --input REQUEST.json [--explain]`: decides
// one request the way dockpold would. Exit 0 whatever the decision.
#pragma once
#include <nlohmann/json.hpp>

#include <iostream>
#include <span>
#include <string>

#include "cli/args.hpp"
#include "cli/command.hpp"
#include "cli/common.hpp"
#include "cli/explain.hpp"
#include "cli/policy_input.hpp"
#include "cli/request_json.hpp"
#include "dockpol/rt/vm.hpp"
#include "dockpol/rt/decide.hpp"

namespace dockpol::dsl::cli {

inline std::string_view effect_name(rt::effect e) { return e == rt::effect::allow ? "allow" : "deny"; }

// Reads and converts a REQUEST.json file; prints the error and returns exit 2 on failure.
inline std::variant<rt::request, int> read_request(const std::string& path) {
    auto text = read_file(path, max_request_bytes);
    if (auto* e = std::get_if<1>(&text)) return fail(e->message);
    auto j = parse_json_text(path, std::get<0>(text));
    if (auto* e = std::get_if<std::string>(&j)) return fail(*e);
    auto r = request_from_json(std::get<nlohmann::json>(j));
    if (auto* e = std::get_if<request_error>(&r)) return fail(path + ": " + e->message);
    return std::get<rt::request>(std::move(r));
}

// What dockpold would forward when the decision rewrote the request (docs/cli.md#eval-output):
// the target with the rewritten `filters`, and the body (as JSON when it is JSON).
inline nlohmann::ordered_json forward_json(const rt::decision& d, const rt::request& req) {
    nlohmann::ordered_json f;
    f["path"] = d.forward_filters ? rt::replace_query_param(req.target, "filters", *d.forward_filters) : req.target;
    const std::optional<std::string>& body = d.forward_body ? d.forward_body : req.body;
    if (body) {
        auto j = nlohmann::ordered_json::parse(*body, nullptr, false);
        f["body"] = j.is_discarded() ? nlohmann::ordered_json(*body) : j;
    }
    return f;
}

// The decision document of `eval --format json`, keys in docs/cli.md order.
inline nlohmann::ordered_json decision_json(const rt::decision& d, const rt::request& req, const std::string& revision,
                                            const std::vector<explain_item>* explained,
                                            const std::optional<decider_facts>& decider = std::nullopt) {
    nlohmann::ordered_json j;
    j["decision"] = effect_name(d.eff);
    j["rule"] = d.rule;
    j["action"] = req.action;
    j["revision"] = revision;
    if (d.rule == "error") j["reason"] = d.reason;
    if (!d.rewrites.empty()) {
        j["rewrites"] = nlohmann::ordered_json::array();
        for (const auto& r : d.rewrites) j["rewrites"].push_back({{"kind", r.kind}, {"detail", r.detail}});
        j["forward"] = forward_json(d, req);
    }
    if (explained) {
        j["explain"] = nlohmann::ordered_json::array();
        for (const auto& e : *explained)
            j["explain"].push_back({{"rule", e.rule}, {"matched", false}, {"because", e.because}});
        if (decider && !decider->values.empty()) {
            nlohmann::ordered_json v = nlohmann::ordered_json::object();
            for (const auto& [k, val] : decider->values) v[k] = detail::value_json(val);
            j["decided_by"] = {{"rule", decider->rule}, {"values", v}};
        }
    }
    return j;
}

inline constexpr option_spec eval_options[] = {
    {"--input", arg_kind::single, "REQUEST.json", "the request to decide (user, groups, method, path, body, resource, objects)"},
    {"--explain", arg_kind::flag, "", "say for each rule before the decider why it did not match"},
};

inline int run_eval(std::span<const std::string> args) {
    const auto specs = with_common(eval_options);
    auto pa = parse_args(args, specs);
    if (auto* e = std::get_if<std::string>(&pa)) return fail("eval: " + *e);
    const auto& a = std::get<parsed_args>(pa);
    if (a.positional.empty()) return fail("eval: give a bundle (.dpb) or policy files");
    const auto input = a.one("--input");
    if (!input) return fail("eval: --input REQUEST.json is required");
    auto cs = common_settings_of(a);
    if (auto* code = std::get_if<int>(&cs)) return *code;
    const auto& s = std::get<common_settings>(cs);

    // The request is checked before compiling, so a bad request is exit 2 even for a broken policy.
    auto rq = read_request(*input);
    if (auto* code = std::get_if<int>(&rq)) return *code;
    const auto& req = std::get<rt::request>(rq);

    const bool want_explain = a.has("--explain");
    auto lp = load_runnable(a.positional, s, want_explain);
    if (auto* code = std::get_if<int>(&lp)) return *code;
    const auto& p = std::get<runnable_policy>(lp);

    const rt::decision d = rt::decide(*p.prog, req);
    std::vector<explain_item> explained;
    std::optional<decider_facts> decider;
    if (want_explain) {
        explained = explain(p, req, d);
        decider = decider_values(p, req, d);
    }

    if (s.format == output_format::json) {
        std::cout << decision_json(d, req, p.revision, want_explain ? &explained : nullptr, decider)
                         .dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << '\n';
        return exit_ok;
    }
    std::cout << effect_name(d.eff) << " by rule '" << d.rule << "'\n"
              << "  action:   " << req.action << '\n'
              << "  revision: " << p.revision << '\n';
    if (!d.reason.empty()) std::cout << "  reason:   " << d.reason << '\n';
    for (const auto& r : d.rewrites) std::cout << "  rewrite:  " << r.kind << ": " << r.detail << '\n';
    if (!d.rewrites.empty()) {
        const auto f = forward_json(d, req);
        std::cout << "  forward:  " << f["path"].get<std::string>() << '\n';
        if (f.contains("body")) std::cout << "            " << f["body"].dump() << '\n';
    }
    if (want_explain) {
        for (const auto& e : explained) std::cout << "  not " << e.rule << ": " << e.because << '\n';
        if (decider && !decider->values.empty()) {
            std::cout << "  " << decider->rule << " read:";
            for (const auto& [k, v] : decider->values) std::cout << " " << k << " = " << detail::value_text(v) << ";";
            std::cout << '\n';
        }
    }
    return exit_ok;
}

inline constexpr command_info eval_command{
    "eval", "BUNDLE|POLICY... --input REQUEST.json [--explain]",
    "decide one request as dockpold would, and show what it would forward",
    eval_options, true,
    "dockpolc eval policy.dpb --input request.json --explain\ndockpolc eval --format json policy/*.dpol --input request.json",
    run_eval};

} // namespace dockpol::dsl::cli
