// `dockpolc diff OLD NEW --against AUDIT.log...`: replays every logged
// request that recorded its facts on two policies and lists those whose
// decision changes (with --by-rule: also those decided by another rule with
// the same decision). Lines a policy cannot replay are counted with the
// reason per field. Exit 0 no change, 1 changes, 2 unreadable input.
// (cli/diff.hpp is the line diff of `fmt --check`; this is the policy diff.)
#pragma once
#include <nlohmann/json.hpp>

#include <iostream>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "cli/args.hpp"
#include "cli/audit_replay.hpp"
#include "cli/command.hpp"
#include "cli/common.hpp"
#include "cli/eval.hpp"
#include "cli/policy_input.hpp"

namespace dockpol::dsl::cli {

struct replay_change {
    const char* kind;   // "decision" or "rule"
    audit_record rec;
    rt::decision old_d, new_d;
};

struct replay_diff_report {
    read_counts counts;
    std::size_t replayed = 0;        // lines both policies decided
    std::size_t not_replayable = 0;  // lines at least one policy could not decide
    std::vector<replay_change> changes;
    std::map<std::string, std::size_t> reasons;   // "old: FIELD (why)" → lines
};

// Replays the logs on both programs. Returns "FILE:LINE: why" on malformed input.
inline std::optional<std::string> replay_diff(const rt::program& old_p, const rt::program& new_p,
                                              const std::vector<std::string>& logs, bool by_rule,
                                              replay_diff_report& out) {
    std::optional<std::string> err;
    auto e = read_audit_logs(logs, out.counts, [&](const audit_record& r) {
        if (err) return;
        auto a = replay(old_p, r), b = replay(new_p, r);
        for (const auto* x : {&a, &b})
            if (x->kind == replay_result::malformed) {
                err = r.file + ":" + std::to_string(r.line) + ": " + x->reasons.front();
                return;
            }
        if (a.kind != replay_result::decided || b.kind != replay_result::decided) {
            ++out.not_replayable;
            // A line the logs cannot replay at all (no facts) is one reason, not one per policy.
            if (r.facts.is_null()) {
                ++out.reasons[a.reasons.front()];
                return;
            }
            for (const auto& why : a.reasons) ++out.reasons["OLD: " + why];
            for (const auto& why : b.reasons) ++out.reasons["NEW: " + why];
            return;
        }
        ++out.replayed;
        if (a.d.eff != b.d.eff) out.changes.push_back({"decision", r, a.d, b.d});
        else if (by_rule && a.d.rule != b.d.rule) out.changes.push_back({"rule", r, a.d, b.d});
    });
    return e ? e : err;
}

inline constexpr option_spec diff_options[] = {
    {"--against", arg_kind::repeated, "AUDIT.log", "a dockpold audit log to replay (repeatable)"},
    {"--by-rule", arg_kind::flag, "", "also report requests decided the same way by another rule"},
    {"--format", arg_kind::single, "text|json", "output format (json: the report on stdout)"},
};

inline int run_diff(std::span<const std::string> args) {
    auto pa = parse_args(args, diff_options);
    if (auto* e = std::get_if<std::string>(&pa)) return fail("diff: " + *e);
    const auto& a = std::get<parsed_args>(pa);
    if (a.positional.size() != 2)
        return fail("diff: give two policies, OLD and NEW (each a bundle .dpb or one .dpol source file)");
    const auto logs = a.all("--against");
    if (logs.empty()) return fail("diff: --against AUDIT.log is required");
    auto f = format_of(a);
    if (auto* e = std::get_if<std::string>(&f)) return fail("diff: " + *e);
    const bool json = std::get<output_format>(f) == output_format::json;

    common_settings s;
    auto old_lp = load_runnable({a.positional[0]}, s, false);
    if (auto* code = std::get_if<int>(&old_lp)) return *code == exit_fail ? exit_usage : *code;
    auto new_lp = load_runnable({a.positional[1]}, s, false);
    if (auto* code = std::get_if<int>(&new_lp)) return *code == exit_fail ? exit_usage : *code;
    const auto& op = std::get<runnable_policy>(old_lp);
    const auto& np = std::get<runnable_policy>(new_lp);

    replay_diff_report rep;
    if (auto e = replay_diff(*op.prog, *np.prog, logs, a.has("--by-rule"), rep)) return fail("diff: " + *e);

    std::size_t decision_changes = 0;
    for (const auto& c : rep.changes) decision_changes += std::string_view(c.kind) == "decision";
    if (json) {
        nlohmann::ordered_json j;
        j["old"] = {{"policy", a.positional[0]}, {"revision", op.revision}};
        j["new"] = {{"policy", a.positional[1]}, {"revision", np.revision}};
        j["lines"] = rep.counts.lines;
        j["checkpoints"] = rep.counts.checkpoints;
        j["replayed"] = rep.replayed;
        j["changed"] = rep.changes.size();
        j["decisions_changed"] = decision_changes;
        j["not_replayable"] = rep.not_replayable;
        j["changes"] = nlohmann::ordered_json::array();
        for (const auto& c : rep.changes)
            j["changes"].push_back({{"kind", c.kind},
                                    {"file", c.rec.file},
                                    {"line", c.rec.line},
                                    {"time", c.rec.time},
                                    {"user", c.rec.user},
                                    {"groups", c.rec.groups},
                                    {"action", c.rec.action},
                                    {"old", {{"decision", effect_name(c.old_d.eff)}, {"rule", c.old_d.rule}}},
                                    {"new", {{"decision", effect_name(c.new_d.eff)}, {"rule", c.new_d.rule}}}});
        j["not_replayable_reasons"] = nlohmann::ordered_json::array();
        for (const auto& [why, n] : rep.reasons) j["not_replayable_reasons"].push_back({{"reason", why}, {"lines", n}});
        std::cout << j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << '\n';
    } else {
        for (const auto& c : rep.changes)
            std::cout << c.rec.file << ":" << c.rec.line << ": " << c.rec.user << " " << c.rec.action << ": "
                      << effect_name(c.old_d.eff) << " (rule " << c.old_d.rule << ") -> " << effect_name(c.new_d.eff)
                      << " (rule " << c.new_d.rule << ")" << (std::string_view(c.kind) == "rule" ? " [rule only]" : "")
                      << '\n';
        std::cout << rep.counts.lines << " lines, " << rep.replayed << " replayed, " << decision_changes
                  << " decisions changed";
        if (a.has("--by-rule")) std::cout << ", " << rep.changes.size() - decision_changes << " rules changed";
        std::cout << ", " << rep.not_replayable << " not replayable";
        if (rep.counts.checkpoints) std::cout << ", " << rep.counts.checkpoints << " checkpoints skipped";
        std::cout << '\n';
        for (const auto& [why, n] : rep.reasons) std::cout << "  not replayable: " << n << " x " << why << '\n';
    }
    return rep.changes.empty() ? exit_ok : exit_fail;
}

inline constexpr command_info diff_command{
    "diff", "OLD NEW --against AUDIT.log... [--by-rule] [--format text|json]",
    "replay an audit log on two policies and list the requests whose decision changes",
    diff_options, false,
    "dockpolc diff live.dpb candidate.dpol --against /var/log/dockpol/audit.log\n"
    "dockpolc diff --format json old.dpol new.dpol --against a.log --against b.log --by-rule",
    run_diff};

} // namespace dockpol::dsl::cli
