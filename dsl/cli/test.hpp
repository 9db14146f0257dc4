// `dockpolc test POLICY... --cases CASES.json...`: runs every case's request
// and compares the decision (and rule, when given) with what it expects.
// Each failing case is printed with expected and decided; exit 1 if any fails.
#pragma once
#include <nlohmann/json.hpp>

#include <iostream>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "cli/args.hpp"
#include "cli/command.hpp"
#include "cli/common.hpp"
#include "cli/eval.hpp"
#include "cli/policy_input.hpp"
#include "cli/request_json.hpp"
#include "dockpol/rt/vm.hpp"

namespace dockpol::dsl::cli {

struct test_case {
    std::string file;
    std::string name;
    std::variant<rt::request, request_error> request;  // route errors are failures, not malformed files
    rt::effect expect_effect = rt::effect::deny;
    std::optional<std::string> expect_rule;
};

namespace detail {

// Converts one CASES.json file; the error names the file and the case.
inline std::variant<std::vector<test_case>, std::string> cases_from_json(const std::string& file, const nlohmann::json& j) {
    if (!j.is_array()) return file + ": a cases file must be a JSON array of cases, not " + std::string(j.type_name());
    std::vector<test_case> out;
    for (std::size_t i = 0; i < j.size(); ++i) {
        const auto& c = j[i];
        std::string where = file + ": case " + std::to_string(i + 1);
        if (!c.is_object()) return where + ": must be an object, not " + std::string(c.type_name());
        test_case tc;
        tc.file = file;
        tc.name = "case " + std::to_string(i + 1);
        if (auto it = c.find("name"); it != c.end()) {
            if (!it->is_string()) return where + ": \"name\" must be a string";
            tc.name = it->get<std::string>();
            where = file + ": case \"" + tc.name + "\"";
        }
        for (const auto& [k, v] : c.items())
            if (k != "name" && k != "request" && k != "expect" && k != "comment")
                return where + ": unknown key \"" + k + "\" (expected name, request, expect, comment)";
        auto rq = c.find("request");
        if (rq == c.end()) return where + ": \"request\" is missing";
        tc.request = request_from_json(*rq);
        if (auto* e = std::get_if<request_error>(&tc.request); e && e->k == request_error::malformed)
            return where + ": request: " + e->message;
        auto ex = c.find("expect");
        if (ex == c.end() || !ex->is_object()) return where + ": \"expect\" must be an object {\"decision\", \"rule\"?}";
        for (const auto& [k, v] : ex->items()) {
            if (k == "decision") {
                if (v == "allow") tc.expect_effect = rt::effect::allow;
                else if (v == "deny") tc.expect_effect = rt::effect::deny;
                else return where + ": expect.decision must be \"allow\" or \"deny\"";
            } else if (k == "rule") {
                if (!v.is_string()) return where + ": expect.rule must be a string";
                tc.expect_rule = v.get<std::string>();
            } else {
                return where + ": unknown key \"expect." + k + "\" (expected decision, rule)";
            }
        }
        if (!ex->contains("decision")) return where + ": expect.decision is missing";
        out.push_back(std::move(tc));
    }
    return out;
}

inline std::string expected_text(const test_case& c) {
    std::string s(effect_name(c.expect_effect));
    if (c.expect_rule) s += " by rule '" + *c.expect_rule + "'";
    return s;
}

} // namespace detail

inline constexpr option_spec test_options[] = {
    {"--cases", arg_kind::list, "CASES.json...", "the cases: requests with the expected decision, rule and forwarded request"},
};

inline int run_test(std::span<const std::string> args) {
    const auto specs = with_common(test_options);
    auto pa = parse_args(args, specs);
    if (auto* e = std::get_if<std::string>(&pa)) return fail("test: " + *e);
    const auto& a = std::get<parsed_args>(pa);
    if (a.positional.empty()) return fail("test: give policy files");
    const auto case_files = a.all("--cases");
    if (case_files.empty()) return fail("test: --cases CASES.json is required");
    auto cs = common_settings_of(a);
    if (auto* code = std::get_if<int>(&cs)) return *code;
    const auto& s = std::get<common_settings>(cs);

    // Every cases file is validated before compiling: a malformed one is exit 2 whatever the policy.
    std::vector<test_case> cases;
    for (const auto& f : case_files) {
        auto text = read_file(f, max_cases_bytes);
        if (auto* e = std::get_if<1>(&text)) return fail(e->message);
        auto j = parse_json_text(f, std::get<0>(text));
        if (auto* e = std::get_if<std::string>(&j)) return fail(*e);
        auto parsed = detail::cases_from_json(f, std::get<nlohmann::json>(j));
        if (auto* e = std::get_if<std::string>(&parsed)) return fail(*e);
        for (auto& c : std::get<0>(parsed)) cases.push_back(std::move(c));
    }

    auto lp = load_runnable(a.positional, s, false);
    if (auto* code = std::get_if<int>(&lp)) return *code;
    const auto& p = std::get<runnable_policy>(lp);

    std::size_t passed = 0, failed = 0;
    nlohmann::ordered_json failures = nlohmann::ordered_json::array();
    for (const auto& c : cases) {
        std::string decided;
        nlohmann::ordered_json decided_json;
        bool ok = false;
        if (const auto* e = std::get_if<request_error>(&c.request)) {
            decided = "refused before evaluation (" + e->message + ")";
            decided_json = {{"error", e->message}};
        } else {
            const rt::decision d = rt::decide(*p.prog, std::get<rt::request>(c.request));
            ok = d.eff == c.expect_effect && (!c.expect_rule || *c.expect_rule == d.rule);
            decided = std::string(effect_name(d.eff)) + " by rule '" + d.rule + "'";
            if (!d.reason.empty()) decided += " (" + d.reason + ")";
            decided_json = {{"decision", effect_name(d.eff)}, {"rule", d.rule}};
            if (!d.reason.empty()) decided_json["reason"] = d.reason;
        }
        if (ok) {
            ++passed;
            continue;
        }
        ++failed;
        if (s.format == output_format::json) {
            nlohmann::ordered_json expected = {{"decision", effect_name(c.expect_effect)}};
            if (c.expect_rule) expected["rule"] = *c.expect_rule;
            failures.push_back({{"file", c.file}, {"name", c.name}, {"expected", expected}, {"decided", decided_json}});
        } else {
            std::cout << "FAIL " << c.file << ": " << c.name << ": expected " << detail::expected_text(c)
                      << ", decided " << decided << '\n';
        }
    }
    if (s.format == output_format::json) {
        nlohmann::ordered_json j = {{"passed", passed}, {"failed", failed}, {"failures", failures}};
        std::cout << j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << '\n';
    } else {
        std::cout << passed << " passed, " << failed << " failed\n";
    }
    return failed == 0 ? exit_ok : exit_fail;
}

inline constexpr command_info test_command{
    "test", "POLICY... --cases CASES.json...",
    "run cases against the policy; print each failing case with what was expected",
    test_options, true,
    "dockpolc test policy/*.dpol --cases policy/cases.json",
    run_test};

} // namespace dockpol::dsl::cli
