// Reading dockpold audit logs back (docs/request-model.md#audit-line) and
// deciding a logged request again on another policy, for `dockpolc learn`
// and `dockpolc diff`. A line is replayed from what it recorded — its
// `action`, `user`, `groups`, `host` and the `facts` the live decision read
// (rt/recorded_facts.hpp) — and only from that: a slot the line did not
// record makes the line "not replayable" for that policy, never a guess.
// Checkpoint lines (the tamper-evident chain) are skipped; a line that is not
// an audit event is an error naming FILE:LINE.
#pragma once
#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

#include "dockpol/rt/bind.hpp"
#include "dockpol/rt/owner_forms.hpp"
#include "dockpol/rt/recorded_facts.hpp"
#include "dockpol/rt/vm.hpp"

namespace dockpol::dsl::cli {

// One line longer than this is not an audit line dockpold wrote (its facts are bounded, limits.def).
inline constexpr std::size_t max_audit_line_bytes = 1u << 20;

// The parts of one audit line that learn and diff read.
struct audit_record {
    std::string file;
    std::size_t line = 0;
    std::string time, user, host, method, path, action, decision, rule;
    std::vector<std::string> groups;
    nlohmann::json facts;        // the `facts` object; null when the line has none
    bool facts_truncated = false;
};

namespace detail::replay_impl {

inline std::optional<std::string> take_string(const nlohmann::json& j, const char* key, std::string& out, bool required) {
    auto it = j.find(key);
    if (it == j.end()) {
        if (required) return std::string("no \"") + key + "\"";
        return std::nullopt;
    }
    if (!it->is_string()) return std::string("\"") + key + "\" must be a string";
    out = it->get<std::string>();
    return std::nullopt;
}

} // namespace detail::replay_impl

// What reading one line gave: an event, a line to skip (blank, checkpoint), or an error.
struct parsed_line {
    enum kind_t { event, skip_blank, skip_checkpoint, error } kind = event;
    audit_record rec;
    std::string error_message;   // without the FILE:LINE prefix
};

inline parsed_line parse_audit_line(const std::string& file, std::size_t line_no, std::string_view text) {
    namespace ri = detail::replay_impl;
    parsed_line out;
    if (text.find_first_not_of(" \t\r") == std::string_view::npos) {
        out.kind = parsed_line::skip_blank;
        return out;
    }
    auto fail = [&](std::string m) {
        out.kind = parsed_line::error;
        out.error_message = std::move(m);
        return out;
    };
    nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded()) return fail("not a JSON line");
    if (!j.is_object()) return fail("an audit line is a JSON object");
    // The tamper-evident chain's checkpoints carry no request.
    if (j.contains("checkpoint")) {
        out.kind = parsed_line::skip_checkpoint;
        return out;
    }
    auto& r = out.rec;
    r.file = file;
    r.line = line_no;
    for (auto [key, dst, required] : {std::tuple{"time", &r.time, false}, {"user", &r.user, true},
                                      {"host", &r.host, true}, {"method", &r.method, false},
                                      {"path", &r.path, false}, {"action", &r.action, true},
                                      {"decision", &r.decision, true}, {"rule", &r.rule, true}})
        if (auto e = ri::take_string(j, key, *dst, required)) return fail(*e);
    auto g = j.find("groups");
    if (g == j.end() || !g->is_array()) return fail("\"groups\" must be an array of strings");
    for (const auto& x : *g) {
        if (!x.is_string()) return fail("\"groups\" must be an array of strings");
        r.groups.push_back(x.get<std::string>());
    }
    if (r.decision != "allow" && r.decision != "deny") return fail("\"decision\" must be \"allow\" or \"deny\"");
    if (auto f = j.find("facts"); f != j.end()) {
        if (!f->is_object()) return fail("\"facts\" must be an object");
        r.facts = std::move(*f);
    }
    if (auto t = j.find("facts_truncated"); t != j.end()) {
        if (!t->is_boolean()) return fail("\"facts_truncated\" must be a boolean");
        r.facts_truncated = t->get<bool>();
    }
    return out;
}

// Counts of what reading the logs skipped.
struct read_counts {
    std::size_t lines = 0;        // every line read, events or not
    std::size_t events = 0;
    std::size_t checkpoints = 0;
    std::size_t blank = 0;
};

// Reads each file line by line (bounded), calling `on_event` per audit event.
// Returns "FILE:LINE: why" for the first unreadable file or malformed line.
inline std::optional<std::string> read_audit_logs(const std::vector<std::string>& files, read_counts& counts,
                                                  const std::function<void(const audit_record&)>& on_event) {
    for (const auto& file : files) {
        std::ifstream in(file, std::ios::binary);
        if (!in) return "cannot read " + file + ": " + std::strerror(errno);
        std::string text;
        std::size_t line_no = 0;
        for (;;) {
            text.clear();
            // Read one line without letting a runaway line grow without bound.
            bool got = false, too_long = false;
            for (int c; (c = in.get()) != EOF;) {
                got = true;
                if (c == '\n') break;
                if (text.size() >= max_audit_line_bytes) {
                    too_long = true;
                    break;
                }
                text.push_back(static_cast<char>(c));
            }
            if (!got) break;
            ++line_no;
            ++counts.lines;
            if (too_long)
                return file + ":" + std::to_string(line_no) + ": line longer than " +
                       std::to_string(max_audit_line_bytes) + " bytes (max_audit_line_bytes)";
            auto p = parse_audit_line(file, line_no, text);
            switch (p.kind) {
            case parsed_line::error: return file + ":" + std::to_string(line_no) + ": " + p.error_message;
            case parsed_line::skip_blank: ++counts.blank; --counts.lines; break;
            case parsed_line::skip_checkpoint: ++counts.checkpoints; break;
            case parsed_line::event:
                ++counts.events;
                on_event(p.rec);
                break;
            }
        }
        if (in.bad()) return "cannot read " + file + ": read error";
    }
    return std::nullopt;
}

// One line decided again: the decision, or why it cannot be.
struct replay_result {
    enum kind_t { decided, not_replayable, malformed } kind = decided;
    rt::decision d;
    std::vector<std::string> reasons;   // not_replayable: one per field or cause; malformed: the error
};

// The VM input a line gives `p`, or the fields it lacks.
inline replay_result replay_input(const rt::program& p, const audit_record& r, rt::input& in) {
    replay_result out;
    const auto& im = rt::image_of(p);
    if (r.facts.is_null()) {
        out.kind = replay_result::not_replayable;
        out.reasons.push_back("no facts recorded (no decision was evaluated, or an older dockpold)");
        return out;
    }
    in.action_id = rt::action_id_of(r.action);
    in.slots.assign(im.slots.size(), rt::value::absent());
    const bool safe_lists = rt::declares_safe_lists(im);
    for (std::size_t i = 0; i < im.slots.size(); ++i) {
        const auto& s = im.slots[i];
        switch (rt::origin_of(s, im.owner_label)) {
        case rt::slot_origin::line_user: in.slots[i] = rt::value::string(r.user); continue;
        case rt::slot_origin::line_host: in.slots[i] = rt::value::string(r.host); continue;
        case rt::slot_origin::line_groups: {
            std::vector<rt::value> gs;
            for (const auto& g : r.groups) gs.push_back(rt::value::string(g));
            in.slots[i] = rt::value::list(std::move(gs));
            continue;
        }
        case rt::slot_origin::always_absent: continue;
        case rt::slot_origin::recorded: break;
        }
        // A fact its action does not have is absent for every request of that action: known, not guessed.
        if (rt::is_scoped_source(rt::info(s.field).source) && !rt::field_applies(s.field, in.action_id)) continue;
        const std::string name = rt::recorded_name(s, im.owner_label);
        if (safe_lists && rt::depends_on_safe_lists(s.field)) {
            out.reasons.push_back(name + " (depends on the policy's safe lists)");
            continue;
        }
        auto it = r.facts.find(name);
        if (it == r.facts.end()) {
            out.reasons.push_back(name + (r.facts_truncated ? " (not recorded; the line's facts were truncated)"
                                                            : " (not recorded)"));
            continue;
        }
        auto v = rt::value_from_recorded(*it, s);
        if (v.kind == rt::recorded_value::malformed) {
            out.kind = replay_result::malformed;
            out.reasons = {"facts." + name + ": " + v.why};
            return out;
        }
        if (v.kind == rt::recorded_value::not_recorded) {
            out.reasons.push_back(name + " (" + v.why + " not recorded)");
            continue;
        }
        in.slots[i] = std::move(v.v);
    }
    if (!out.reasons.empty()) out.kind = replay_result::not_replayable;
    return out;
}

// Decides line `r` on `p` with the VM, as rt::decide's rule evaluation would.
// What needs more than the recorded facts is not replayable: an `allow own`
// rule (ownership is checked against the live objects) and the owner label
// a policy sets or checks in an allowed create or update body.
inline replay_result replay(const rt::program& p, const audit_record& r) {
    rt::input in;
    auto out = replay_input(p, r, in);
    if (out.kind != replay_result::decided) return out;
    out.d = rt::evaluate(p, in);
    const auto& im = rt::image_of(p);
    if (out.d.own) {
        out.kind = replay_result::not_replayable;
        out.reasons.push_back("allow own rule " + out.d.rule + " (ownership is checked on the live objects)");
        return out;
    }
    if (out.d.eff == rt::effect::allow && !im.owner_label.empty()) {
        const auto form = rt::owner_form_of(in.action_id);
        if (form == rt::owner_form::create || form == rt::owner_form::keep) {
            out.kind = replay_result::not_replayable;
            out.reasons.push_back("owner label " + im.owner_label + " (set or checked in the body)");
        }
    }
    return out;
}

} // namespace dockpol::dsl::cli
