// `dockpolc test POLICY... --cases CASES.json...`: runs every case's request
// and compares the decision (and rule, when given) with what it expects.
// Each failing case is printed with expected and decided; exit 1 if any fails.
// -v prints every case, --run selects cases by name, --coverage names the rules
// no case was decided by (--min-coverage fails under a percentage), --watch
// runs again on every change.
#pragma once
#include <nlohmann/json.hpp>

#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
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
#include "dockpol/dsl/suggest.hpp"
#include "dockpol/rt/glob.hpp"
#include "dockpol/rt/vm.hpp"
#include "dockpol/rt/decide.hpp"

namespace dockpol::dsl::cli {

struct test_case {
    std::string file;
    std::string name;
    std::variant<rt::request, request_error> request;  // route errors are failures, not malformed files
    rt::effect expect_effect = rt::effect::deny;
    std::optional<std::string> expect_rule;
    // Parts of what dockpold would forward ("path", "body"); each given part must equal it.
    std::optional<nlohmann::json> expect_forward;
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
            } else if (k == "forward") {
                if (!v.is_object()) return where + ": expect.forward must be an object {\"path\"?, \"body\"?}";
                for (const auto& [fk, fv] : v.items())
                    if (fk != "path" && fk != "body")
                        return where + ": unknown key \"expect.forward." + fk + "\" (expected path, body)";
                if (v.contains("path") && !v["path"].is_string()) return where + ": expect.forward.path must be a string";
                tc.expect_forward = v;
            } else {
                return where + ": unknown key \"expect." + k + "\" (expected decision, rule, forward)";
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
    if (c.expect_forward) s += " forwarding " + c.expect_forward->dump();
    return s;
}

} // namespace detail

inline constexpr option_spec test_options[] = {
    {"--cases", arg_kind::list, "CASES.json...", "the cases: requests with the expected decision, rule and forwarded request"},
    {"-v", arg_kind::flag, "", "print every case, passed ones too"},
    {"--run", arg_kind::single, "GLOB", "run only the cases whose name matches GLOB (*, ?, [abc])"},
    {"--coverage", arg_kind::flag, "", "report the rules no case was decided by"},
    {"--min-coverage", arg_kind::single, "PCT", "with --coverage: fail when fewer than PCT% of the rules decided a case"},
    {"--watch", arg_kind::flag, "", "run again whenever a policy or cases file changes (until interrupted)"},
};

namespace detail {

struct test_settings {
    common_settings common;
    std::vector<std::string> policy_files, case_files;
    bool verbose = false, coverage = false;
    std::optional<rt::glob> run;
    std::optional<double> min_coverage;
};

// One case's outcome.
struct case_result {
    const test_case* c = nullptr;
    bool ok = false;
    std::int32_t rule_index = -1;           // the deciding rule (-1: default, error, refused)
    double micros = 0;                      // time to decide (shown with -v)
    std::string forward_mismatch;           // the first forwarded part that differs from expect.forward
    std::string decided;                    // for people
    nlohmann::ordered_json decided_json;
};

// "FILE: case "NAME": expect.rule "X" is not a rule of the policy (did you mean "Y"?)", or nothing.
inline std::optional<std::string> unknown_rule_error(const rt::program& prog, const test_case& c) {
    if (!c.expect_rule) return std::nullopt;
    std::vector<std::string> names(prog.rule_names.begin(), prog.rule_names.end());
    names.emplace_back("default");
    names.emplace_back("error");
    for (const auto& n : names)
        if (n == *c.expect_rule) return std::nullopt;
    std::string msg = c.file + ": case \"" + c.name + "\": expect.rule \"" + *c.expect_rule +
                      "\" is not a rule of the policy";
    if (auto near = closest_match(*c.expect_rule, names)) msg += " (did you mean \"" + *near + "\"?)";
    return msg;
}

inline case_result run_case(const rt::program& prog, const test_case& c) {
    case_result r;
    r.c = &c;
    if (const auto* e = std::get_if<request_error>(&c.request)) {
        r.decided = "refused before evaluation (" + e->message + ")";
        r.decided_json = {{"error", e->message}};
        return r;
    }
    const auto t0 = std::chrono::steady_clock::now();
    const rt::decision d = rt::decide(prog, std::get<rt::request>(c.request));
    r.micros = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
    r.ok = d.eff == c.expect_effect && (!c.expect_rule || *c.expect_rule == d.rule);
    if (c.expect_forward) {
        // Compared as JSON values, so key order and spacing in the cases file do not matter.
        const nlohmann::json forwarded = nlohmann::json::parse(forward_json(d, std::get<rt::request>(c.request)).dump());
        for (const auto& [k, v] : c.expect_forward->items())
            if (!forwarded.contains(k) || forwarded[k] != v) {
                r.ok = false;
                r.forward_mismatch = "forward." + k + " is " + (forwarded.contains(k) ? forwarded[k].dump() : "absent");
            }
    }
    r.rule_index = d.rule_index;
    r.decided = std::string(effect_name(d.eff)) + " by rule '" + d.rule + "'";
    if (!d.reason.empty()) r.decided += " (" + d.reason + ")";
    if (!r.forward_mismatch.empty()) r.decided += "; " + r.forward_mismatch;
    r.decided_json = {{"decision", effect_name(d.eff)}, {"rule", d.rule}};
    if (!d.reason.empty()) r.decided_json["reason"] = d.reason;
    if (c.expect_forward || !d.rewrites.empty()) r.decided_json["forward"] = forward_json(d, std::get<rt::request>(c.request));
    return r;
}

// The policy's own rules (not builtin_ping) that no run case was decided by.
struct coverage_report {
    std::size_t rules = 0, decided = 0;
    std::vector<std::uint32_t> never;       // rule indexes
    double percent() const { return rules == 0 ? 100.0 : 100.0 * static_cast<double>(decided) / static_cast<double>(rules); }
};

inline coverage_report coverage_of(const rt::program& prog, const std::vector<case_result>& results) {
    const auto& img = rt::image_of(prog);
    // The last rule is builtin_ping, which no policy author wrote.
    const std::size_t own_rules = img.rules.empty() ? 0 : img.rules.size() - 1;
    std::vector<bool> hit(own_rules, false);
    for (const auto& r : results)
        if (r.rule_index >= 0 && static_cast<std::size_t>(r.rule_index) < own_rules) hit[static_cast<std::size_t>(r.rule_index)] = true;
    coverage_report c;
    c.rules = own_rules;
    for (std::size_t i = 0; i < own_rules; ++i) {
        if (hit[i]) ++c.decided;
        else c.never.push_back(static_cast<std::uint32_t>(i));
    }
    return c;
}

inline std::string rule_where(const rt::program& prog, std::uint32_t i) {
    const auto& img = rt::image_of(prog);
    if (i >= img.rule_positions.size()) return "";
    const auto& pos = img.rule_positions[i];
    const auto& srcs = img.man.sources;
    const std::string file = pos.file < srcs.size() ? srcs[pos.file].file : "?";
    return file + ":" + std::to_string(pos.line);
}

inline std::string micros_text(double us) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f µs", us);
    return buf;
}

inline std::string percent_text(double p) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f%%", p);
    return buf;
}

// Reads the cases, compiles the policy, runs the selected cases, prints; returns the exit code.
inline int test_once(const test_settings& t) {
    std::vector<test_case> cases;
    for (const auto& f : t.case_files) {
        auto text = read_file(f, max_cases_bytes);
        if (auto* e = std::get_if<1>(&text)) return fail(e->message);
        auto j = parse_json_text(f, std::get<0>(text));
        if (auto* e = std::get_if<std::string>(&j)) return fail(*e);
        auto parsed = cases_from_json(f, std::get<nlohmann::json>(j));
        if (auto* e = std::get_if<std::string>(&parsed)) return fail(*e);
        for (auto& c : std::get<0>(parsed)) cases.push_back(std::move(c));
    }
    // A test run that tests nothing is a mistake, not a pass.
    if (cases.empty()) return fail("test: the cases files hold no case");
    auto lp = load_runnable(t.policy_files, t.common, false);
    if (auto* code = std::get_if<int>(&lp)) return *code;
    const auto& prog = *std::get<runnable_policy>(lp).prog;
    // A case expecting a rule the policy does not have could never pass: an error of the cases file.
    for (const auto& c : cases)
        if (auto why = unknown_rule_error(prog, c)) return fail(*why);

    std::vector<case_result> results;
    std::size_t filtered = 0;
    for (const auto& c : cases) {
        if (t.run && !rt::glob_match(*t.run, c.name)) {
            ++filtered;
            continue;
        }
        results.push_back(run_case(prog, c));
    }
    if (t.run && results.empty()) return fail("test: no case name matches --run");
    std::size_t passed = 0, failed = 0;
    for (const auto& r : results) (r.ok ? passed : failed) += 1;
    const bool json = t.common.format == output_format::json;
    const auto cov = coverage_of(prog, results);
    const bool below = t.coverage && t.min_coverage && cov.percent() + 1e-9 < *t.min_coverage;

    if (json) {
        nlohmann::ordered_json failures = nlohmann::ordered_json::array(), all = nlohmann::ordered_json::array();
        for (const auto& r : results) {
            nlohmann::ordered_json expected = {{"decision", effect_name(r.c->expect_effect)}};
            if (r.c->expect_rule) expected["rule"] = *r.c->expect_rule;
            nlohmann::ordered_json item = {{"file", r.c->file}, {"name", r.c->name}, {"expected", expected},
                                           {"decided", r.decided_json}};
            if (!r.ok) failures.push_back(item);
            if (t.verbose) {
                item["passed"] = r.ok;
                item["micros"] = r.micros;
                all.push_back(std::move(item));
            }
        }
        nlohmann::ordered_json j = {{"passed", passed}, {"failed", failed}, {"failures", failures}};
        if (t.run) j["filtered"] = filtered;
        if (t.verbose) j["cases"] = all;
        if (t.coverage) {
            nlohmann::ordered_json never = nlohmann::ordered_json::array();
            for (auto i : cov.never) never.push_back({{"rule", prog.rule_names[i]}, {"at", rule_where(prog, i)}});
            j["coverage"] = {{"rules", cov.rules}, {"decided", cov.decided}, {"percent", cov.percent()},
                             {"never_decided", never}};
            if (t.min_coverage) j["coverage"]["min_percent"] = *t.min_coverage;
        }
        std::cout << j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << '\n';
    } else {
        for (const auto& r : results) {
            if (r.ok && !t.verbose) continue;
            std::cout << (r.ok ? "PASS " : "FAIL ") << r.c->file << ": " << r.c->name;
            if (r.ok) std::cout << ": " << r.decided;
            else std::cout << ": expected " << expected_text(*r.c) << ", decided " << r.decided;
            if (t.verbose) std::cout << " [" << micros_text(r.micros) << "]";
            std::cout << '\n';
        }
        std::cout << passed << " passed, " << failed << " failed";
        if (t.run) std::cout << ", " << filtered << " not selected by --run";
        std::cout << '\n';
        if (t.coverage) {
            std::cout << "coverage: " << cov.decided << " of " << cov.rules << " rules decided a case ("
                      << percent_text(cov.percent()) << ")";
            if (t.min_coverage) std::cout << ", minimum " << percent_text(*t.min_coverage);
            std::cout << '\n';
            for (auto i : cov.never)
                std::cout << "  never decided: rule " << prog.rule_names[i] << " (" << rule_where(prog, i) << ")\n";
        }
    }
    if (below)
        std::cerr << "dockpolc: test: coverage " << percent_text(cov.percent()) << " is below --min-coverage "
                  << percent_text(*t.min_coverage) << '\n';
    return failed == 0 && !below ? exit_ok : exit_fail;
}

// What --watch compares between runs: each file's size and modification time.
inline std::string watch_stamp(const std::vector<std::string>& files) {
    std::string out;
    for (const auto& f : files) {
        struct ::stat st {};
        if (::stat(f.c_str(), &st) != 0) {
            out += f + ":missing;";
            continue;
        }
        out += f + ":" + std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
               std::to_string(st.st_mtim.tv_nsec) + ";";
    }
    return out;
}

// Waits for a change in the directories of the watched files (inotify: editors
// often replace a file by renaming a new one over it, which a watch on the file
// itself would miss). Without inotify it falls back to a 300 ms poll; either
// way the caller compares the files' stamps, so spurious wakeups are harmless.
class change_watch {
public:
    explicit change_watch(const std::vector<std::string>& files) : fd_(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK)) {
        if (fd_ < 0) return;
        for (const auto& f : files) {
            const auto slash = f.rfind('/');
            const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : f.substr(0, slash));
            ::inotify_add_watch(fd_, dir.c_str(), IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_MODIFY);
        }
    }
    ~change_watch() {
        if (fd_ >= 0) ::close(fd_);
    }
    change_watch(const change_watch&) = delete;
    change_watch& operator=(const change_watch&) = delete;

    void wait() {
        pollfd p{fd_, POLLIN, 0};
        if (fd_ < 0 || ::poll(&p, 1, 300) <= 0) return;
        char buf[4096];
        while (::read(fd_, buf, sizeof buf) > 0) {
        }
    }

private:
    int fd_;
};

} // namespace detail

inline int run_test(std::span<const std::string> args) {
    const auto specs = with_common(test_options);
    auto pa = parse_args(args, specs);
    if (auto* e = std::get_if<std::string>(&pa)) return fail("test: " + *e);
    const auto& a = std::get<parsed_args>(pa);
    if (a.positional.empty()) return fail("test: give policy files");
    detail::test_settings t;
    t.policy_files = a.positional;
    t.case_files = a.all("--cases");
    if (t.case_files.empty()) return fail("test: --cases CASES.json is required");
    auto cs = common_settings_of(a);
    if (auto* code = std::get_if<int>(&cs)) return *code;
    t.common = std::get<common_settings>(cs);
    t.verbose = a.has("-v");
    t.coverage = a.has("--coverage");
    if (const auto g = a.one("--run")) {
        auto compiled = rt::compile_glob(*g);
        if (auto* e = std::get_if<std::string>(&compiled)) return fail("test: --run: " + *e);
        t.run = std::move(std::get<rt::glob>(compiled));
    }
    if (const auto m = a.one("--min-coverage")) {
        if (!t.coverage) return fail("test: --min-coverage needs --coverage");
        char* end = nullptr;
        const double v = std::strtod(m->c_str(), &end);
        if (m->empty() || *end != '\0' || !(v >= 0 && v <= 100))
            return fail("test: --min-coverage takes a percentage from 0 to 100, not \"" + *m + "\"");
        t.min_coverage = v;
    }
    if (!a.has("--watch")) return detail::test_once(t);

    // --watch: run, then again after any policy or cases file changed; stops when interrupted.
    std::vector<std::string> watched = t.policy_files;
    watched.insert(watched.end(), t.case_files.begin(), t.case_files.end());
    detail::change_watch w(watched);
    for (;;) {
        std::string stamp = detail::watch_stamp(watched);
        detail::test_once(t);
        std::cout << "-- watching " << watched.size() << " files (Ctrl-C to stop)" << std::endl;
        for (;;) {
            w.wait();
            std::string now = detail::watch_stamp(watched);
            if (now == stamp) continue;
            // An editor may write in steps: wait until the files stop changing.
            ::usleep(100 * 1000);
            if (detail::watch_stamp(watched) == now) break;
        }
        std::cout << '\n';
    }
}

inline constexpr command_info test_command{
    "test", "POLICY... --cases CASES.json... [-v] [--run GLOB] [--coverage [--min-coverage PCT]] [--watch]",
    "run cases against the policy; print each failing case with what was expected",
    test_options, true,
    "dockpolc test policy/*.dpol --cases policy/cases.json --coverage --min-coverage 90\n"
    "dockpolc test policy/*.dpol --cases policy/cases.json -v --run 'devs*' --watch",
    run_test};

} // namespace dockpol::dsl::cli
