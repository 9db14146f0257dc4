// THE verifier: dockpolc runs it on its own output, dockpold on every bundle it
// loads. Nothing reaches the VM unverified. It checks every property the VM
// relies on for memory safety and termination (indices in range, forward
// jumps inside one body, every body ending in `ret`), plus the invariants the
// compiler guarantees (interned pools, unique names, builtin_ping last), so a
// hand-crafted bundle cannot express anything the compiler could not.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

#include "dockpol/rt/actions.hpp"
#include "dockpol/rt/glob.hpp"
#include "dockpol/rt/limits.hpp"
#include "dockpol/rt/owner_forms.hpp"
#include "dockpol/rt/owner_label.hpp"
#include "dockpol/rt/path_clean.hpp"
#include "dockpol/rt/program.hpp"
#include "dockpol/rt/safe_paths.hpp"

namespace dockpol::rt {

// The name lowering gives the rule appended after the policy's rules.
inline constexpr std::string_view builtin_ping_rule = "builtin_ping";

namespace detail::verify_impl {

inline std::string quote(std::string_view s) {
    std::string r = "'";
    r += s;
    r += '\'';
    return r;
}

// Which slot operations make sense on a field of each type. json (`body.*`)
// values are dynamically typed, so every slot operation is allowed on them.
inline bool op_fits_type(opcode op, field_type t) {
    switch (t) {
    case field_type::string:
        return op == opcode::slot_eq || op == opcode::slot_ne || op == opcode::str_eq || op == opcode::str_ne || op == opcode::str_in || op == opcode::str_glob ||
               op == opcode::covers || op == opcode::covered_by;
    case field_type::number: return op == opcode::num_cmp || op == opcode::slot_eq || op == opcode::slot_ne;
    case field_type::boolean:
        return op == opcode::is_true || op == opcode::bool_eq || op == opcode::bool_ne || op == opcode::slot_eq ||
               op == opcode::slot_ne;
    case field_type::list:
    case field_type::groups:
        return op == opcode::list_has || op == opcode::list_meets || op == opcode::any || op == opcode::all;
    case field_type::json: return true;
    case field_type::action: return false;
    }
    return false;
}

class verifier {
public:
    explicit verifier(const program_image& img) : img_(img) {}

    std::optional<std::string> run() {
        if (!pools() || !owner() || !slots() || !rules() || !ranges() || !bodies() || !action_sets() || !safe_lists())
            return err_;
        return std::nullopt;
    }

private:
    bool fail(std::string msg) {
        err_ = std::move(msg);
        return false;
    }

    bool pools() {
        std::unordered_set<std::string_view> seen;
        for (std::size_t i = 0; i < img_.strings.size(); ++i)
            if (!seen.insert(img_.strings[i]).second)
                return fail("string " + std::to_string(i) + " duplicates an earlier string (pool must be interned)");
        for (std::size_t i = 0; i < img_.sets.size(); ++i) {
            const auto& s = img_.sets[i];
            for (std::size_t k = 0; k < s.size(); ++k) {
                if (s[k] >= img_.strings.size())
                    return fail("set " + std::to_string(i) + ": member " + std::to_string(k) + " is string " +
                                std::to_string(s[k]) + ", out of range");
                if (k && !(img_.strings[s[k - 1]] < img_.strings[s[k]]))
                    return fail("set " + std::to_string(i) + ": members not sorted and unique at " +
                                std::to_string(k));
            }
        }
        std::set<std::uint32_t> glob_ids;
        for (std::size_t i = 0; i < img_.globs.size(); ++i) {
            auto id = img_.globs[i];
            if (id >= img_.strings.size())
                return fail("glob " + std::to_string(i) + ": pattern string " + std::to_string(id) + " out of range");
            if (!glob_ids.insert(id).second) return fail("glob " + std::to_string(i) + " duplicates an earlier glob");
            auto g = compile_glob(img_.strings[id]);
            if (auto* e = std::get_if<std::string>(&g))
                return fail("glob " + std::to_string(i) + " \"" + img_.strings[id] + "\": " + *e);
        }
        for (std::size_t i = 0; i < img_.numbers.size(); ++i) {
            if (!std::isfinite(img_.numbers[i])) return fail("number " + std::to_string(i) + " is not finite");
            for (std::size_t k = 0; k < i; ++k)
                if (img_.numbers[k] == img_.numbers[i])
                    return fail("number " + std::to_string(i) + " duplicates number " + std::to_string(k));
        }
        return true;
    }

    // The owner label is one the compiler accepts, or none.
    bool owner() {
        if (img_.owner_label.empty()) return true;
        if (auto why = owner_label_problem(img_.owner_label))
            return fail("owner label " + quote(img_.owner_label) + ": " + *why);
        return true;
    }

    bool slots() {
        std::set<std::pair<std::uint16_t, std::string_view>> seen;
        for (std::size_t i = 0; i < img_.slots.size(); ++i) {
            const auto& s = img_.slots[i];
            const std::string at = "slot " + std::to_string(i);
            auto f = static_cast<std::size_t>(s.field);
            if (f >= field_count) return fail(at + ": field id " + std::to_string(f) + " out of range");
            const auto& fi = field_table[f];
            if (fi.type == field_type::action)
                return fail(at + ": field 'action' is read by action_eq/action_in, never through a slot");
            if (fi.keyed && s.key.empty()) return fail(at + ": keyed field '" + std::string(fi.name) + "' has no key");
            if (!fi.keyed && !s.key.empty())
                return fail(at + ": field '" + std::string(fi.name) + "' takes no key but has " + quote(s.key));
            if (fi.id == field_id::resource_owner && img_.owner_label.empty())
                return fail(at + ": reads resource.owner, but the bundle has no owner label");
            if (!seen.insert({static_cast<std::uint16_t>(f), s.key}).second)
                return fail(at + ": duplicates an earlier slot for the same field and key");
            if (!s.subpaths.empty() && fi.type != field_type::json)
                return fail(at + ": element sub-paths on a non-JSON field '" + std::string(fi.name) + "'");
            std::unordered_set<std::string_view> sub;
            for (const auto& p : s.subpaths)
                if (p.empty() || !sub.insert(p).second)
                    return fail(at + ": empty or duplicate element sub-path " + quote(p));
        }
        return true;
    }

    bool rules() {
        if (img_.rules.empty()) return fail("no rules (builtin_ping must be last)");
        if (img_.rule_positions.size() != img_.rules.size())
            return fail("rule_positions has " + std::to_string(img_.rule_positions.size()) + " entries for " +
                        std::to_string(img_.rules.size()) + " rules");
        if (static_cast<std::uint8_t>(img_.default_effect) > 1) return fail("default effect out of range");
        std::unordered_set<std::uint32_t> names;
        for (std::size_t i = 0; i < img_.rules.size(); ++i) {
            const auto& r = img_.rules[i];
            const std::string at = "rule " + std::to_string(i);
            if (r.name >= img_.strings.size()) return fail(at + ": name string " + std::to_string(r.name) + " out of range");
            const auto& name = img_.strings[r.name];
            if (name.empty()) return fail(at + ": empty name");
            // `default` and `error` are decision names of their own; a rule may not take them.
            if (name == "default" || name == "error") return fail(at + ": reserved name " + quote(name));
            if (!names.insert(r.name).second) return fail(at + ": duplicate rule name " + quote(name));
            if (static_cast<std::uint8_t>(r.eff) > 1) return fail(at + " " + quote(name) + ": effect out of range");
            if (r.own && r.eff != effect::allow) return fail(at + " " + quote(name) + ": `own` on a deny rule");
            if (r.own && img_.owner_label.empty())
                return fail(at + " " + quote(name) + ": `allow own` without an owner label");
            const auto& pos = img_.rule_positions[i];
            const bool zero = pos == source_pos{};
            if (!zero && (pos.file >= img_.man.sources.size() || pos.line == 0 || pos.column == 0))
                return fail(at + " " + quote(name) + ": source position " + std::to_string(pos.file) + ":" +
                            std::to_string(pos.line) + ":" + std::to_string(pos.column) + " is invalid");
        }
        const auto& last = img_.rules.back();
        const auto last_i = img_.rules.size() - 1;
        if (img_.strings[last.name] != builtin_ping_rule)
            return fail("last rule is " + quote(img_.strings[last.name]) + ", not builtin_ping");
        if (last.eff != effect::allow || last.own || img_.rule_positions[last_i] != source_pos{})
            return fail("builtin_ping must be `allow` (not `own`) with no source position");
        return true;
    }

    // Rule and block bodies must tile `code` exactly: non-empty, in bounds,
    // no overlap, no unreachable gap, each ending in `ret`.
    bool ranges() {
        struct range { std::uint32_t b, e; std::string who; };
        std::vector<range> rs;
        for (std::size_t i = 0; i < img_.rules.size(); ++i)
            rs.push_back({img_.rules[i].code_begin, img_.rules[i].code_end, rule_label(i)});
        for (std::size_t i = 0; i < img_.blocks.size(); ++i)
            rs.push_back({img_.blocks[i].code_begin, img_.blocks[i].code_end, "block " + std::to_string(i)});
        for (const auto& r : rs) {
            if (r.b >= r.e) return fail(r.who + ": empty code range [" + std::to_string(r.b) + ", " + std::to_string(r.e) + ")");
            if (r.e > img_.code.size())
                return fail(r.who + ": code range [" + std::to_string(r.b) + ", " + std::to_string(r.e) +
                            ") exceeds code length " + std::to_string(img_.code.size()));
            if (img_.code[r.e - 1].op != opcode::ret) return fail(r.who + ": does not end with ret");
        }
        std::sort(rs.begin(), rs.end(), [](const range& a, const range& b) { return a.b < b.b; });
        std::uint32_t at = 0;
        for (const auto& r : rs) {
            if (r.b < at) return fail(r.who + ": code range overlaps another body at pc " + std::to_string(r.b));
            if (r.b > at) return fail("code at pc " + std::to_string(at) + " belongs to no rule or block");
            at = r.e;
        }
        if (at != img_.code.size()) return fail("code at pc " + std::to_string(at) + " belongs to no rule or block");
        // The builtin rule is exactly `action_eq "system_ping"; ret`.
        const auto& last = img_.rules.back();
        const auto& c = img_.code;
        if (last.code_end - last.code_begin != 2 || c[last.code_begin].op != opcode::action_eq ||
            c[last.code_begin].arg >= img_.strings.size() || img_.strings[c[last.code_begin].arg] != "system_ping")
            return fail("builtin_ping must be exactly `action_eq \"system_ping\"; ret`");
        return true;
    }

    bool bodies() {
        block_refs_.assign(img_.blocks.size(), 0);
        block_slot_.assign(img_.blocks.size(), 0);
        for (std::size_t i = 0; i < img_.rules.size(); ++i)
            if (!body(img_.rules[i].code_begin, img_.rules[i].code_end, rule_label(i), false, 0)) return false;
        for (std::size_t i = 0; i < img_.blocks.size(); ++i) {
            if (block_refs_[i] != 1)
                return fail("block " + std::to_string(i) + " is referenced by " + std::to_string(block_refs_[i]) +
                            " any/all instructions, not exactly one");
            if (!body(img_.blocks[i].code_begin, img_.blocks[i].code_end, "block " + std::to_string(i), true,
                      img_.slots[block_slot_[i]].subpaths.size()))
                return false;
        }
        return true;
    }

    bool body(std::uint32_t begin, std::uint32_t end, const std::string& who, bool in_block, std::size_t nsub) {
        for (std::uint32_t pc = begin; pc < end; ++pc) {
            const insn& in = img_.code[pc];
            const std::string at = who + ": " + (static_cast<std::size_t>(in.op) < opcode_count
                                                     ? std::string(opcode_table[static_cast<std::size_t>(in.op)].name)
                                                     : std::string("instruction")) +
                                   " at pc " + std::to_string(pc);
            if (static_cast<std::size_t>(in.op) >= opcode_count)
                return fail(at + ": unknown opcode " + std::to_string(static_cast<unsigned>(in.op)));
            const auto& oi = opcode_table[static_cast<std::size_t>(in.op)];
            if (in.reserved != 0 || in.reserved2 != 0) return fail(at + ": reserved bytes are not zero");
            if (static_cast<std::uint8_t>(in.src) > 1) return fail(at + ": operand source out of range");
            if (in.op == opcode::ret && pc + 1 != end) return fail(at + ": ret before the end of the body");
            if (!arg_ok(in, oi.arg, pc, end, at)) return false;
            if (!aux_ok(in, at)) return false;
            if (!oi.uses_slot) {
                if (in.src != operand_src::input || in.slot != 0) return fail(at + ": takes no slot operand");
            } else if (!in_block) {
                if (in.src != operand_src::input) return fail(at + ": element operand outside an any/all block");
                if (in.slot >= img_.slots.size())
                    return fail(at + ": slot " + std::to_string(in.slot) + " out of range (" +
                                std::to_string(img_.slots.size()) + " slots)");
                const auto& fi = info(img_.slots[in.slot].field);
                if (!op_fits_type(in.op, fi.type))
                    return fail(at + ": cannot apply to field '" + std::string(fi.name) + "'");
                if (oi.arg == arg_kind::slot) {
                    const auto& other = info(img_.slots[in.arg].field);
                    if (other.type != fi.type)
                        return fail(at + ": compares field '" + std::string(fi.name) + "' with field '" +
                                    std::string(other.name) + "' of another type");
                }
            } else {
                if (oi.arg == arg_kind::slot) return fail(at + ": an any/all block cannot compare input slots");
                if (in.src != operand_src::element) return fail(at + ": an any/all block reads only its element");
                if (in.slot > nsub)
                    return fail(at + ": element sub-path " + std::to_string(in.slot) + " out of range (" +
                                std::to_string(nsub) + " sub-paths)");
            }
            if (in.op == opcode::any || in.op == opcode::all) {
                if (in_block) return fail(at + ": any/all cannot nest");
                if (block_refs_[in.arg]++ == 0) block_slot_[in.arg] = in.slot;
            }
            if (in.op == opcode::action_eq && !find_action(img_.strings[in.arg]))
                return fail(at + ": unknown action " + quote(img_.strings[in.arg]));
            if (in.op == opcode::action_in)
                for (auto id : img_.sets[in.arg])
                    if (!find_action(img_.strings[id]))
                        return fail(at + ": set " + std::to_string(in.arg) + " names unknown action " +
                                    quote(img_.strings[id]));
        }
        return true;
    }

    bool arg_ok(const insn& in, arg_kind k, std::uint32_t pc, std::uint32_t end, const std::string& at) {
        auto bound = [&](std::size_t n, const char* pool) {
            if (in.arg < n) return true;
            return fail(at + ": " + pool + " index " + std::to_string(in.arg) + " out of range (" + std::to_string(n) + ")");
        };
        switch (k) {
        case arg_kind::none:
            return in.arg == 0 || fail(at + ": takes no argument but has " + std::to_string(in.arg));
        case arg_kind::jump:
            if (in.arg <= pc)
                return fail(at + ": jump goes backwards to " + std::to_string(in.arg));
            if (in.arg >= end)
                return fail(at + ": jump to " + std::to_string(in.arg) + " leaves its body (ends at " +
                            std::to_string(end) + ")");
            return true;
        case arg_kind::string: return bound(img_.strings.size(), "string");
        case arg_kind::set: return bound(img_.sets.size(), "set");
        case arg_kind::glob: return bound(img_.globs.size(), "glob");
        case arg_kind::number: return bound(img_.numbers.size(), "number");
        case arg_kind::block: return bound(img_.blocks.size(), "block");
        case arg_kind::slot: return bound(img_.slots.size(), "slot");
        }
        return fail(at + ": bad argument kind");
    }

    bool aux_ok(const insn& in, const std::string& at) {
        // num_cmp selects a cmp_op; bool_eq/bool_ne compare against 0/1; nothing else uses aux.
        std::uint8_t max = 0;
        if (in.op == opcode::num_cmp) max = static_cast<std::uint8_t>(cmp_op::ge);
        else if (in.op == opcode::bool_eq || in.op == opcode::bool_ne) max = 1;
        if (in.aux > max) return fail(at + ": aux " + std::to_string(in.aux) + " out of range (max " + std::to_string(max) + ")");
        return true;
    }

    bool action_sets() {
        for (auto [which, idx] : {std::pair<const char*, std::uint32_t>{"body_actions", img_.body_actions},
                                  std::pair<const char*, std::uint32_t>{"resource_actions", img_.resource_actions}}) {
            if (idx >= img_.sets.size())
                return fail(std::string(which) + ": set index " + std::to_string(idx) + " out of range");
            for (auto id : img_.sets[idx])
                if (!find_action(img_.strings[id]))
                    return fail(std::string(which) + ": unknown action " + quote(img_.strings[id]));
        }
        return true;
    }

    // What host_access trusts must be what the compiler accepts: clean absolute
    // paths other than `/` and outside rt::never_safe_dirs, non-empty driver
    // names; sorted and unique (canonical).
    bool safe_lists() {
        const auto& paths = img_.safe_host_paths;
        for (std::size_t i = 0; i < paths.size(); ++i) {
            const std::string at = "safe host path " + std::to_string(i) + " " + quote(paths[i]);
            if (paths[i].empty() || paths[i].front() != '/' || paths[i] == "/" || clean_path(paths[i]) != paths[i])
                return fail(at + ": not a clean absolute path below /");
            // Whoever built the bundle, host_access never trusts the host's own directories.
            if (const auto hit = never_safe_for(paths[i]); hit.dir)
                return fail(at + ": " + (hit.inside ? "inside " : "contains ") + std::string(hit.dir->path) +
                            ", which can never be safe");
            if (i && !(paths[i - 1] < paths[i])) return fail(at + ": not sorted and unique");
        }
        const auto& drivers = img_.safe_volume_drivers;
        for (std::size_t i = 0; i < drivers.size(); ++i) {
            const std::string at = "safe volume driver " + std::to_string(i) + " " + quote(drivers[i]);
            if (drivers[i].empty()) return fail(at + ": empty name");
            if (i && !(drivers[i - 1] < drivers[i])) return fail(at + ": not sorted and unique");
        }
        return true;
    }

    std::string rule_label(std::size_t i) const {
        std::string s = "rule " + std::to_string(i);
        const auto& r = img_.rules[i];
        if (r.name < img_.strings.size()) s += " " + quote(img_.strings[r.name]);
        return s;
    }

    const program_image& img_;
    std::string err_;
    std::vector<std::uint32_t> block_refs_;
    std::vector<std::uint16_t> block_slot_;
};

} // namespace detail::verify_impl

// The named limits, checked before anything else (dockpolc reports these as
// dp-limit rather than as an internal error).
inline std::optional<std::string> check_limits(const program_image& img) {
    auto over = [](const char* what, std::size_t n, std::size_t max) -> std::optional<std::string> {
        if (n <= max) return std::nullopt;
        return std::string(what) + ": " + std::to_string(n) + " exceeds the limit of " + std::to_string(max);
    };
    using namespace limits;
    if (auto e = over("strings", img.strings.size(), max_strings)) return e;
    for (std::size_t i = 0; i < img.strings.size(); ++i)
        if (auto e = over(("string " + std::to_string(i) + " bytes").c_str(), img.strings[i].size(), max_string_bytes)) return e;
    if (auto e = over("sets", img.sets.size(), max_sets)) return e;
    for (std::size_t i = 0; i < img.sets.size(); ++i)
        if (auto e = over(("set " + std::to_string(i) + " members").c_str(), img.sets[i].size(), max_set_size)) return e;
    if (auto e = over("globs", img.globs.size(), max_globs)) return e;
    if (auto e = over("numbers", img.numbers.size(), max_numbers)) return e;
    if (auto e = over("rules", img.rules.size(), max_rules)) return e;
    if (auto e = over("instructions", img.code.size(), max_code)) return e;
    if (auto e = over("slots", img.slots.size(), max_slots)) return e;
    for (std::size_t i = 0; i < img.slots.size(); ++i)
        if (auto e = over(("slot " + std::to_string(i) + " sub-paths").c_str(), img.slots[i].subpaths.size(), max_subpaths)) return e;
    if (auto e = over("blocks", img.blocks.size(), max_blocks)) return e;
    if (auto e = over("manifest sources", img.man.sources.size(), max_sources)) return e;
    if (auto e = over("safe host paths", img.safe_host_paths.size(), max_safe_entries)) return e;
    if (auto e = over("safe volume drivers", img.safe_volume_drivers.size(), max_safe_entries)) return e;
    return std::nullopt;
}

// The one verifier: the reason the image is unsafe or malformed, or nullopt.
inline std::optional<std::string> verify(const program_image& img) {
    if (auto e = check_limits(img)) return e;
    return detail::verify_impl::verifier(img).run();
}

} // namespace dockpol::rt
