// `dockpolc learn AUDIT.log... -o DRAFT.dpol --cases DRAFT.cases.json
// [--group-by group|user]`: a least-privilege draft from what callers did.
// One allow rule per group (callers in several groups: per combination; no
// group: per user) or per user, over the actions its allowed requests used
// (a `let` set) and the hosts they reached (a glob when they share a prefix);
// `default deny`. Host access is never learned: requests whose recorded
// `host_access` is true are left out (and counted), and a rule whose actions
// can reach the host says `and not host_access`, so a request whose
// host_access the log did not record cannot gain it through the draft. The
// case file holds sampled real requests with the decision the draft gives
// them; `check --werror` and `test` pass on the output (tests/cli).
#pragma once
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <iostream>
#include <map>
#include <set>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "cli/args.hpp"
#include "cli/audit_replay.hpp"
#include "cli/command.hpp"
#include "cli/common.hpp"
#include "cli/request_json.hpp"
#include "dockpol/dsl.hpp"
#include "dockpol/dsl/detail/text.hpp"
#include "dockpol/dsl/format.hpp"
#include "dockpol/rt/decide.hpp"
#include "dockpol/rt/detail/host_access.hpp"

namespace dockpol::dsl::cli {

// Sampled requests per rule in the case file, unless --samples says otherwise.
inline constexpr std::size_t default_learn_samples = 5;
inline constexpr std::size_t max_learn_samples = 1000;

namespace detail::learn_impl {

// Actions whose host_access can be true: the runtime's host-access table (docs/facts.md (Host access)).
inline const rt::action_mask& host_access_scope() {
    static const rt::action_mask m = [] {
        rt::action_mask out;
        for (const auto& row : rt::detail::action_access_rows) {
            std::string_view names = row.actions;
            while (!names.empty()) {
                const auto comma = names.find(',');
                auto name = names.substr(0, comma);
                while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
                if (auto a = rt::find_action(name)) out.set(*a);
                names = comma == std::string_view::npos ? std::string_view{} : names.substr(comma + 1);
            }
        }
        return out;
    }();
    return m;
}

// The call the docker CLI makes right after a learned one; denying it shows only
// "unable to upgrade to tcp" (dp-exec-attach), so it is learned with its setup call.
struct companion_row { std::string_view setup, follow; };
inline constexpr companion_row companions[] = {{"container_create", "container_attach"},
                                               {"container_exec", "exec_start"}};

// A string literal of the policy language; nullopt for text it cannot spell (control characters
// other than newline and tab).
inline std::optional<std::string> dpol_string(std::string_view s) {
    for (char c : s) {
        const auto b = static_cast<unsigned char>(c);
        if ((b < 0x20 && c != '\n' && c != '\t') || b == 0x7f) return std::nullopt;
    }
    return dsl::detail::quote_string(s);
}

// "1 request", "2 requests".
inline std::string count_of(std::size_t n, std::string_view noun) {
    return std::to_string(n) + " " + std::string(noun) + (n == 1 ? "" : "s");
}

// A valid, unused identifier from `base`: letters, digits and '_' kept, the rest '_'.
inline std::string unique_name(std::string base, std::set<std::string>& used) {
    for (auto& c : base)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') c = '_';
    std::string name = base;
    for (int n = 2; used.count(name); ++n) name = base + "_" + std::to_string(n);
    used.insert(name);
    return name;
}

// Who a rule is for: a set of groups (callers in all of them) or one user.
struct learn_key {
    bool by_user = false;
    std::vector<std::string> groups;   // sorted, unique
    std::string user;
    // Rules for more groups first (a narrower condition before a broader one), then groups before users, then names.
    bool operator<(const learn_key& o) const {
        if (by_user != o.by_user) return !by_user;
        if (groups.size() != o.groups.size()) return groups.size() > o.groups.size();
        return std::tie(groups, user) < std::tie(o.groups, o.user);
    }
};

struct learned {
    std::set<std::string> actions;
    std::set<std::string> hosts;
    std::map<std::string, audit_record> sample;   // per action: its first request
    std::size_t requests = 0;
};

inline std::string host_condition(const std::set<std::string>& hosts) {
    if (hosts.size() == 1) return "host == " + *dpol_string(*hosts.begin());
    std::string prefix = *hosts.begin();
    for (const auto& h : hosts) {
        std::size_t n = 0;
        while (n < prefix.size() && n < h.size() && prefix[n] == h[n]) ++n;
        prefix.resize(n);
    }
    if (!prefix.empty() && prefix.find_first_of("*?[]\\") == std::string::npos)
        return "host matches " + *dpol_string(prefix + "*");
    std::string set = "host in {";
    for (const auto& h : hosts) set += (set.back() == '{' ? "" : ", ") + *dpol_string(h);
    return set + "}";
}

// A set literal, wrapped so lines stay under the formatter's width.
inline std::string set_literal(const std::set<std::string>& xs, std::size_t indent) {
    std::string out = "{", line;
    for (const auto& x : xs) {
        const std::string item = *dpol_string(x);
        if (!line.empty() && indent + line.size() + item.size() > 90) {
            out += line + ",\n" + std::string(indent, ' ');
            line.clear();
        } else if (!line.empty()) {
            line += ", ";
        }
        line += item;
    }
    return out + line + "}";
}

} // namespace detail::learn_impl

inline constexpr option_spec learn_options[] = {
    {"-o", arg_kind::single, "DRAFT.dpol", "where to write the draft policy"},
    {"--cases", arg_kind::single, "DRAFT.cases.json", "where to write the case file of sampled requests"},
    {"--group-by", arg_kind::single, "group|user", "one rule per group (default) or per user"},
    {"--samples", arg_kind::single, "N", "sampled requests per rule in the case file (default 5)"},
};

inline int run_learn(std::span<const std::string> args) {
    namespace li = detail::learn_impl;
    auto pa = parse_args(args, learn_options);
    if (auto* e = std::get_if<std::string>(&pa)) return fail("learn: " + *e);
    const auto& a = std::get<parsed_args>(pa);
    if (a.positional.empty()) return fail("learn: give one or more audit logs");
    const auto out_path = a.one("-o");
    const auto cases_path = a.one("--cases");
    if (!out_path || !cases_path) return fail("learn: -o DRAFT.dpol and --cases DRAFT.cases.json are required");
    const std::string group_by = a.one("--group-by").value_or("group");
    if (group_by != "group" && group_by != "user")
        return fail("learn: unknown --group-by \"" + group_by + "\" (expected group or user)");
    std::size_t samples = default_learn_samples;
    if (auto n = a.one("--samples")) {
        if (n->empty() || n->size() > 4 || n->find_first_not_of("0123456789") != std::string::npos ||
            std::stoul(*n) > max_learn_samples)
            return fail("learn: --samples takes a number from 0 to " + std::to_string(max_learn_samples));
        samples = std::stoul(*n);
    }

    std::map<li::learn_key, li::learned> rules;
    std::map<std::string, std::size_t> file_lines;
    std::size_t learned_requests = 0, denied = 0, host_access_excluded = 0, not_actions = 0, unspellable = 0;
    std::string first_time, last_time;
    read_counts counts;
    auto err = read_audit_logs(a.positional, counts, [&](const audit_record& r) {
        ++file_lines[r.file];
        if (!r.time.empty()) {
            if (first_time.empty() || r.time < first_time) first_time = r.time;
            if (last_time.empty() || r.time > last_time) last_time = r.time;
        }
        if (r.decision != "allow") return static_cast<void>(++denied);
        if (!rt::find_action(r.action)) return static_cast<void>(++not_actions);
        if (auto h = r.facts.is_object() ? r.facts.find("host_access") : r.facts.end();
            r.facts.is_object() && h != r.facts.end() && h->is_boolean() && h->get<bool>())
            return static_cast<void>(++host_access_excluded);
        li::learn_key k;
        if (group_by == "group" && !r.groups.empty()) {
            std::set<std::string> gs(r.groups.begin(), r.groups.end());
            k.groups.assign(gs.begin(), gs.end());
        } else {
            k.by_user = true;
            k.user = r.user;
        }
        bool spellable = li::dpol_string(r.user) && li::dpol_string(r.host);
        for (const auto& g : k.groups) spellable = spellable && li::dpol_string(g);
        if (!spellable) return static_cast<void>(++unspellable);
        auto& l = rules[k];
        l.actions.insert(r.action);
        l.hosts.insert(r.host);
        l.sample.try_emplace(r.action, r);
        ++l.requests;
        ++learned_requests;
    });
    if (err) return fail("learn: " + *err);
    // A draft of `default deny` alone and an empty case file would pass for a result; say there was nothing.
    if (rules.empty()) return fail("learn: no allowed request to learn from in the logs given");
    for (const auto& f : a.positional) file_lines.try_emplace(f, 0);

    // The draft.
    std::string text = "# DRAFT policy learned by `dockpolc learn` from what callers did: review every rule before use.\n";
    text += "# Learned from:";
    for (const auto& f : a.positional) text += " " + f + " (" + li::count_of(file_lines[f], "request") + ")";
    text += "\n";
    if (!first_time.empty()) text += "# Requests from " + first_time + " to " + last_time + ".\n";
    text += "# Allowed requests learned: " + std::to_string(learned_requests) + "; denied, not learned: " +
            std::to_string(denied) + "; with host access (host_access true), left out: " +
            std::to_string(host_access_excluded);
    if (not_actions) text += "; without a known action, left out: " + std::to_string(not_actions);
    if (unspellable) text += "; with names a policy cannot spell, left out: " + std::to_string(unspellable);
    if (counts.checkpoints) text += "; checkpoint lines skipped: " + std::to_string(counts.checkpoints);
    text += ".\n";
    text += group_by == "group"
                ? "# One rule per group (callers in several groups: per combination; callers in none: per user).\n"
                : "# One rule per user.\n";
    text += "# Host access is never learned: a rule whose actions can reach the host says `not host_access`.\n";
    text += "\ndefault deny\n";

    std::set<std::string> used;
    struct emitted { std::string rule; const li::learn_key* key; const li::learned* l; };
    std::vector<emitted> order;
    for (const auto& [k, l] : rules) {
        std::string base = k.by_user ? "user_" + k.user : "group";
        for (const auto& g : k.groups) base += "_" + g;
        const std::string rule = li::unique_name(base, used);
        const std::string set_name = li::unique_name(rule + "_actions", used);
        std::set<std::string> actions = l.actions;
        std::vector<std::string> added;
        for (const auto& c : li::companions)
            if (actions.count(std::string(c.setup)) && actions.insert(std::string(c.follow)).second)
                added.emplace_back(c.follow);
        bool reaches_host = false;
        for (const auto& x : actions) reaches_host = reaches_host || li::host_access_scope().test(*rt::find_action(x));

        text += "\n# " + li::count_of(l.requests, "request");
        for (const auto& x : added) text += "; " + x + " added: the CLI needs it after what was seen";
        text += "\nlet " + set_name + " = " + li::set_literal(actions, 4 + set_name.size() + 4) + "\n\n";
        std::string who;
        if (k.by_user) {
            who = "user == " + *li::dpol_string(k.user);
        } else {
            for (const auto& g : k.groups) who += (who.empty() ? "" : " and ") + ("group == " + *li::dpol_string(g));
        }
        text += "rule " + rule + ":\n    allow if " + who + " and action in " + set_name + "\n        and " +
                li::host_condition(l.hosts) + (reaches_host ? " and not host_access" : "") + "\n";
        order.push_back({rule, &k, &l});
    }

    // In fmt's canonical layout, so `dockpolc fmt --check` is clean on the draft too.
    {
        front_result fr = analyze({source_file{*out_path, text}});
        if (!has_errors(fr.diagnostics)) text = format_file(fr.ast, 0);
    }
    // Compile the draft here: the samples' expected decisions are what it decides.
    source_file src{*out_path, text};
    compile_result cr = compile({src}, {}, "");
    if (!cr.image || has_errors(cr.diagnostics))
        return fail("learn: internal error: the draft does not compile:\n" + render_text(cr.diagnostics, {src}, {}));
    auto lr = rt::load_image(std::move(*cr.image));
    if (!lr.prog) return fail("learn: internal error: the draft was rejected: " + lr.error);

    nlohmann::ordered_json cases = nlohmann::ordered_json::array();
    std::size_t samples_left_out = 0;
    for (const auto& e : order) {
        std::size_t taken = 0;
        for (const auto& [action, r] : e.l->sample) {
            if (taken == samples) break;
            nlohmann::ordered_json req;
            req["user"] = r.user;
            req["groups"] = r.groups;
            req["host"] = r.host;
            if (!r.method.empty() && !r.path.empty()) {
                req["method"] = r.method;
                req["path"] = r.path;
            }
            req["action"] = r.action;
            // The log keeps no bodies and no inspect answers: where the draft's host_access needs one, the
            // smallest one stands in (no host access), and the comment says so.
            const auto id = *rt::find_action(r.action);
            std::string comment = r.file + ":" + std::to_string(r.line);
            if (rt::needs_body(*lr.prog, id)) {
                req["body"] = nlohmann::ordered_json::object();
                comment += "; body not logged: {} stands in";
            }
            if (rt::needs_resource(*lr.prog, id) || rt::host_target_actions().test(id)) {
                req["resource"] = {{"inspect", nlohmann::ordered_json::object()}};
                comment += "; inspect answer not logged: {} stands in";
            }
            auto parsed = request_from_json(nlohmann::json::parse(req.dump()));
            const auto* q = std::get_if<rt::request>(&parsed);
            if (!q) {
                ++samples_left_out;
                continue;
            }
            const rt::decision d = rt::decide(*lr.prog, *q);
            if (d.eff != rt::effect::allow || d.rule != e.rule) {
                ++samples_left_out;
                continue;
            }
            nlohmann::ordered_json c;
            c["name"] = e.rule + ": " + r.action + " on " + r.host + " (" + r.file + ":" + std::to_string(r.line) + ")";
            c["comment"] = comment;
            c["request"] = std::move(req);
            c["expect"] = {{"decision", "allow"}, {"rule", e.rule}};
            cases.push_back(std::move(c));
            ++taken;
        }
    }

    if (auto e = write_file_atomic(*out_path, text)) return fail("learn: " + *e);
    if (auto e = write_file_atomic(*cases_path, cases.dump(1) + "\n")) return fail("learn: " + *e);
    std::cerr << "dockpolc: learn: " << rules.size() << " rules from " << learned_requests << " requests ("
              << host_access_excluded << " with host access left out, " << denied << " denied not learned); "
              << cases.size() << " cases";
    if (samples_left_out) std::cerr << " (" << samples_left_out << " samples the draft cannot decide from the log left out)";
    std::cerr << "\n";
    return exit_ok;
}

inline constexpr command_info learn_command{
    "learn", "AUDIT.log... -o DRAFT.dpol --cases DRAFT.cases.json [--group-by group|user] [--samples N]",
    "draft a least-privilege policy (and its cases) from what an audit log shows callers did",
    learn_options, false,
    "dockpolc learn /var/log/dockpol/audit.log -o draft.dpol --cases draft.cases.json\n"
    "dockpolc learn a.log b.log --group-by user -o draft.dpol --cases draft.cases.json",
    run_learn};

} // namespace dockpol::dsl::cli
