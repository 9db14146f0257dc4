// The audit line's `facts` (docs/request-model.md#audit-line): what one live
// decision read — one entry per program slot, named the way a policy spells
// it (`container.privileged`, `body.HostConfig.Privileged`, `query.force`,
// `host.labels.env`) with its value as JSON — and the way back, so `dockpolc
// learn` and `dockpolc diff` can decide a logged request again without its
// body or lookups. dockpold writes it (format_audit_line), dockpolc reads it:
// both use this one mapping.
//
// Exactness over completeness: an entry that does not fit the limits
// (limits.def: max_audit_facts, max_audit_fact_bytes, max_audit_facts_bytes)
// or holds text that is not UTF-8 is LEFT OUT and the line says
// `"facts_truncated":true`; replay then reports that field "not replayable".
// A value is never shortened.
//
// Not recorded, because the line has them already: `user`, `group`/`groups`
// and `host` (its own keys), and `action` (not a slot); nor facts the action
// does not have (absent by the schema, fields.hpp field_applies). `resource.owner` is
// recorded as `resource.labels.LABEL` with the live policy's owner label, so a
// policy with another label replays its own. Host-access facts depend on the
// policy's `safe host paths`/`safe volume drivers`: they are recorded only when
// the live policy declares neither, and replay on a policy that declares one
// reports them not replayable.
#pragma once
#include <charconv>
#include <cmath>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "dockpol/rt/fields.hpp"
#include "dockpol/rt/json_text.hpp"
#include "dockpol/rt/limits.hpp"
#include "dockpol/rt/program.hpp"
#include "dockpol/rt/value.hpp"
#include "dockpol/rt/vm.hpp"

namespace dockpol::rt {

// Where a replayed slot's value comes from.
enum class slot_origin : std::uint8_t {
    line_user,     // the line's "user"
    line_groups,   // the line's "groups" (fields group and groups)
    line_host,     // the line's "host"
    recorded,      // facts[recorded_name]
    always_absent, // resource.owner without an owner label: absent for every request
};

// Facts whose value depends on the policy's safe lists (docs/facts.md (Host access)).
inline bool depends_on_safe_lists(field_id f) {
    switch (f) {
    case field_id::host_access:
    case field_id::host_access_reasons:
    case field_id::container_host_access:
    case field_id::container_host_access_reasons:
    case field_id::resource_container_host_access:
    case field_id::resource_container_host_access_reasons:
    case field_id::volume_host_access: return true;
    default: return false;
    }
}

inline bool declares_safe_lists(const program_image& im) {
    return !im.safe_host_paths.empty() || !im.safe_volume_drivers.empty();
}

inline slot_origin origin_of(const slot_desc& s, std::string_view owner_label) {
    switch (s.field) {
    case field_id::user: return slot_origin::line_user;
    case field_id::group:
    case field_id::groups: return slot_origin::line_groups;
    case field_id::host: return slot_origin::line_host;
    case field_id::resource_owner: return owner_label.empty() ? slot_origin::always_absent : slot_origin::recorded;
    default: return slot_origin::recorded;
    }
}

// The name a slot's value is recorded under: the policy's spelling.
inline std::string recorded_name(const slot_desc& s, std::string_view owner_label) {
    if (s.field == field_id::resource_owner) return "resource.labels." + std::string(owner_label);
    std::string n(info(s.field).name);
    if (info(s.field).keyed) n += "." + s.key;
    return n;
}

namespace detail::recorded_impl {

// A JSON string literal; false (nothing usable appended) when `s` is not UTF-8.
inline bool append_string(std::string& out, std::string_view s) {
    if (!valid_utf8(s)) return false;
    append_json_string(out, s);
    return true;
}

// Appends `v` as JSON, giving up (false) once `out` passes `cap` or on text
// that is not UTF-8. Depth is fixed by the value model (list → record →
// scalar), so the recursion is bounded by it, not by the input.
inline bool append_value(std::string& out, const value& v, const slot_desc& s, std::size_t cap, int depth = 0) {
    if (out.size() > cap || depth > 2) return false;
    switch (v.kind) {
    case value_kind::absent: out += "null"; return true;
    case value_kind::boolean: out += v.b ? "true" : "false"; return true;
    case value_kind::number: {
        if (!std::isfinite(v.n)) return false;
        char buf[32];
        auto r = std::to_chars(buf, buf + sizeof buf, v.n);
        if (r.ec != std::errc()) return false;
        out.append(buf, r.ptr);
        return true;
    }
    case value_kind::string: return append_string(out, v.s);
    case value_kind::list:
        out.push_back('[');
        for (std::size_t i = 0; i < v.items.size(); ++i) {
            if (i) out.push_back(',');
            if (!append_value(out, v.items[i], s, cap, depth + 1)) return false;
        }
        out.push_back(']');
        return out.size() <= cap;
    case value_kind::record:
        // {"SUBPATH": value, …} for every sub-path (null when absent), and the element itself under "" when it is
        // a scalar: a replaying policy may read other sub-paths, which must then be missing, not absent.
        out.push_back('{');
        for (std::size_t k = 0; k < v.items.size(); ++k) {
            if (k == 0 && v.items[0].is_absent()) continue;
            if (k > 0 && k - 1 >= s.subpaths.size()) return false;
            if (out.back() != '{') out.push_back(',');
            if (!append_string(out, k == 0 ? std::string_view() : std::string_view(s.subpaths[k - 1]))) return false;
            out.push_back(':');
            if (!append_value(out, v.items[k], s, cap, depth + 1)) return false;
        }
        out.push_back('}');
        return out.size() <= cap;
    }
    return false;
}

} // namespace detail::recorded_impl

// What a decision read: the program naming the slots and the values bound to
// them. An audit event carries one; both null when nothing was bound.
struct bound_facts {
    const program_image* image = nullptr;
    const input* in = nullptr;
};

// Appends `,"facts":{…}` for the bound input of `im` (and `,"facts_truncated":true`
// when an entry was left out) to an audit line being built.
inline void append_recorded_facts(std::string& out, const program_image& im, const input& in) {
    namespace ri = detail::recorded_impl;
    const bool safe_lists = declares_safe_lists(im);
    std::string facts = "{";
    std::string entry;
    std::size_t entries = 0;
    bool truncated = false;
    std::vector<std::string> written;   // names already recorded (group and groups share one, keys may repeat)
    for (std::size_t i = 0; i < im.slots.size() && i < in.slots.size(); ++i) {
        const auto& s = im.slots[i];
        if (origin_of(s, im.owner_label) != slot_origin::recorded) continue;
        if (safe_lists && depends_on_safe_lists(s.field)) continue;
        // Facts the action does not have are absent by the schema; replay knows that without a record.
        if (is_scoped_source(info(s.field).source) && !field_applies(s.field, in.action_id)) continue;
        const std::string name = recorded_name(s, im.owner_label);
        bool seen = false;
        for (const auto& w : written) seen = seen || w == name;
        if (seen) continue;
        written.push_back(name);
        entry.clear();
        if (entries) entry.push_back(',');
        bool ok = entries < limits::max_audit_facts && ri::append_string(entry, name);
        if (ok) {
            entry.push_back(':');
            const std::size_t before = entry.size();
            ok = ri::append_value(entry, in.slots[i], s, before + limits::max_audit_fact_bytes) &&
                 entry.size() - before <= limits::max_audit_fact_bytes;
        }
        if (ok && facts.size() + entry.size() + 1 > limits::max_audit_facts_bytes) ok = false;
        if (!ok) {
            truncated = true;
            continue;
        }
        facts += entry;
        ++entries;
    }
    facts.push_back('}');
    out += ",\"facts\":";
    out += facts;
    if (truncated) out += ",\"facts_truncated\":true";
}

// One recorded value read back for a slot: the value, or why it cannot be used.
struct recorded_value {
    enum kind_t { ok, not_recorded, malformed } kind = ok;
    value v;
    std::string why;   // malformed: what is wrong; not_recorded: which part is missing
};

// Reads one recorded JSON value back for slot `s` of a replaying policy.
// `Json` is any DOM with nlohmann::json's interface (dockpolc uses nlohmann);
// the runtime itself parses no audit lines. Sub-paths the line did not record
// for a record element make the value not_recorded, never absent.
template <class Json>
recorded_value value_from_recorded(const Json& j, const slot_desc& s, int depth = 0) {
    recorded_value r;
    if (j.is_null()) return r;
    if (j.is_boolean()) { r.v = value::boolean(j.template get<bool>()); return r; }
    if (j.is_number()) { r.v = value::number(j.template get<double>()); return r; }
    if (j.is_string()) { r.v = value::string(j.template get<std::string>()); return r; }
    if (j.is_array() && depth == 0) {
        std::vector<value> items;
        items.reserve(j.size());
        for (const auto& e : j) {
            auto item = value_from_recorded(e, s, 1);
            if (item.kind != recorded_value::ok) return item;
            items.push_back(std::move(item.v));
        }
        r.v = value::list(std::move(items));
        return r;
    }
    if (j.is_object() && depth == 1) {
        // A list element with sub-paths: the element itself under "", each sub-path under its name.
        const auto own = j.find("");
        recorded_value self;
        if (own != j.end()) self = value_from_recorded(*own, s, 2);
        if (self.kind != recorded_value::ok) return self;
        if (s.subpaths.empty()) { r.v = std::move(self.v); return r; }
        std::vector<value> rec;
        rec.push_back(std::move(self.v));
        for (const auto& sp : s.subpaths) {
            const auto it = j.find(sp);
            if (it == j.end()) {
                r.kind = recorded_value::not_recorded;
                r.why = "element sub-path " + sp;
                return r;
            }
            auto sub = value_from_recorded(*it, s, 2);
            if (sub.kind != recorded_value::ok) return sub;
            rec.push_back(std::move(sub.v));
        }
        r.v = value::record(std::move(rec));
        return r;
    }
    r.kind = recorded_value::malformed;
    r.why = depth == 0 ? "a recorded value is null, a boolean, a number, a string or a list"
                       : "a list element is a scalar or an object of sub-paths";
    return r;
}

} // namespace dockpol::rt
