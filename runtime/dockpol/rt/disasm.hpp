// A stable, human-readable listing of a program image: manifest, pools,
// slots, then every rule and block with one line per instruction. Used by
// `dockpolc inspect` and the golden tests, so its format only changes on purpose.
#pragma once
#include <charconv>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>
#include <algorithm>
#include <array>

#include "dockpol/rt/program.hpp"

namespace dockpol::rt {

namespace detail::disasm_impl {

inline std::string listing_quote(std::string_view s) {
    std::string r = "\"";
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') {
            r += '\\';
            r += static_cast<char>(c);
        } else if (c < 0x20 || c == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            r += buf;
        } else {
            r += static_cast<char>(c);
        }
    }
    return r + '"';
}

inline std::string number_text(double d) {
    char buf[32];
    auto res = std::to_chars(buf, buf + sizeof buf, d);
    return std::string(buf, res.ptr);
}

inline std::string padded(std::uint32_t n, int width) {
    std::string s = std::to_string(n);
    return std::string(s.size() < static_cast<std::size_t>(width) ? width - s.size() : 0, '0') + s;
}

inline constexpr std::string_view effect_name(effect e) { return e == effect::allow ? "allow" : "deny"; }

inline constexpr std::array<std::string_view, 6> cmp_names = {"==", "!=", "<", "<=", ">", ">="};

class disassembler {
public:
    explicit disassembler(const program_image& im) : im_(im), block_slot_(im.blocks.size(), -1) {
        for (const auto& in : im.code)
            if ((in.op == opcode::any || in.op == opcode::all) && in.arg < block_slot_.size()) block_slot_[in.arg] = in.slot;
    }

    std::string run() {
        manifest_part();
        pools();
        for (std::size_t i = 0; i < im_.rules.size(); ++i) rule(i);
        for (std::size_t i = 0; i < im_.blocks.size(); ++i) {
            out_ += "block " + std::to_string(i) + "\n";
            body(im_.blocks[i].code_begin, im_.blocks[i].code_end, block_slot_[i]);
        }
        return std::move(out_);
    }

private:
    std::string str(std::uint32_t id) const {
        return id < im_.strings.size() ? listing_quote(im_.strings[id]) : "<string " + std::to_string(id) + "?>";
    }
    std::string set(std::uint32_t id) const {
        if (id >= im_.sets.size()) return "<set " + std::to_string(id) + "?>";
        std::string s = "{";
        for (std::size_t k = 0; k < im_.sets[id].size(); ++k) s += (k ? ", " : "") + str(im_.sets[id][k]);
        return s + "}";
    }
    static std::string list(const std::vector<std::string>& v) {
        std::string s = "{";
        for (std::size_t k = 0; k < v.size(); ++k) s += (k ? ", " : "") + listing_quote(v[k]);
        return s + "}";
    }
    std::string slot_name(std::uint32_t i) const {
        if (i >= im_.slots.size()) return "?";
        const auto& s = im_.slots[i];
        auto f = static_cast<std::size_t>(s.field);
        std::string n = f < field_count ? std::string(field_table[f].name) : "field#" + std::to_string(f);
        return s.key.empty() ? n : n + "." + s.key;
    }

    void manifest_part() {
        out_ += "manifest\n";
        out_ += "  revision " + listing_quote(im_.man.revision) + "\n";
        out_ += "  compiler " + listing_quote(im_.man.compiler_version) + "\n";
        for (std::size_t i = 0; i < im_.man.sources.size(); ++i)
            out_ += "  source " + std::to_string(i) + " " + listing_quote(im_.man.sources[i].file) + " sha256 " +
                    im_.man.sources[i].sha256_hex + "\n";
        out_ += "default " + std::string(effect_name(im_.default_effect)) + "\n";
        out_ += "body_actions set " + std::to_string(im_.body_actions) + "\n";
        out_ += "resource_actions set " + std::to_string(im_.resource_actions) + "\n";
        out_ += "safe_host_paths " + list(im_.safe_host_paths) + "\n";
        out_ += "safe_volume_drivers " + list(im_.safe_volume_drivers) + "\n";
        if (!im_.owner_label.empty()) out_ += "owner_label " + listing_quote(im_.owner_label) + "\n";
    }

    void pools() {
        out_ += "strings " + std::to_string(im_.strings.size()) + "\n";
        for (std::size_t i = 0; i < im_.strings.size(); ++i) out_ += "  " + std::to_string(i) + " " + listing_quote(im_.strings[i]) + "\n";
        out_ += "sets " + std::to_string(im_.sets.size()) + "\n";
        for (std::size_t i = 0; i < im_.sets.size(); ++i) out_ += "  " + std::to_string(i) + " " + set(static_cast<std::uint32_t>(i)) + "\n";
        out_ += "globs " + std::to_string(im_.globs.size()) + "\n";
        for (std::size_t i = 0; i < im_.globs.size(); ++i) out_ += "  " + std::to_string(i) + " " + str(im_.globs[i]) + "\n";
        out_ += "numbers " + std::to_string(im_.numbers.size()) + "\n";
        for (std::size_t i = 0; i < im_.numbers.size(); ++i) out_ += "  " + std::to_string(i) + " " + number_text(im_.numbers[i]) + "\n";
        out_ += "slots " + std::to_string(im_.slots.size()) + "\n";
        for (std::size_t i = 0; i < im_.slots.size(); ++i) {
            out_ += "  " + std::to_string(i) + " " + slot_name(static_cast<std::uint32_t>(i));
            const auto& sub = im_.slots[i].subpaths;
            for (std::size_t k = 0; k < sub.size(); ++k) out_ += (k ? ", " : " [") + sub[k];
            out_ += sub.empty() ? "\n" : "]\n";
        }
    }

    void rule(std::size_t i) {
        const auto& r = im_.rules[i];
        out_ += "rule " + std::to_string(i) + " " + (r.name < im_.strings.size() ? im_.strings[r.name] : "?") + " (" +
                std::string(effect_name(r.eff)) + (r.own ? " own" : "") + ") at ";
        const source_pos pos = i < im_.rule_positions.size() ? im_.rule_positions[i] : source_pos{};
        if (pos == source_pos{}) out_ += "builtin";
        else
            out_ += (pos.file < im_.man.sources.size() ? im_.man.sources[pos.file].file : "?") + ":" +
                    std::to_string(pos.line) + ":" + std::to_string(pos.column);
        out_ += "\n";
        body(r.code_begin, r.code_end, -1);
    }

    // `list_slot` is the slot an any/all block iterates (-1 in a rule body).
    void body(std::uint32_t b, std::uint32_t e, long list_slot) {
        for (std::uint32_t pc = b; pc < e && pc < im_.code.size(); ++pc) out_ += line(pc, im_.code[pc], list_slot) + "\n";
    }

    std::string line(std::uint32_t pc, const insn& in, long list_slot) const {
        auto opi = static_cast<std::size_t>(in.op);
        if (opi >= opcode_count) return "  " + padded(pc, 4) + "  <opcode " + std::to_string(opi) + ">";
        const auto& oi = opcode_table[opi];
        std::string s = "  " + padded(pc, 4) + "  " + std::string(oi.name);
        s.resize(std::max<std::size_t>(s.size() + 1, 22), ' ');
        std::string ops;
        if (oi.uses_slot) {
            if (in.src == operand_src::element) ops = in.slot == 0 ? "elem" : "elem " + std::to_string(in.slot) + elem_name(in.slot, list_slot);
            else ops = "slot " + std::to_string(in.slot) + " (" + slot_name(in.slot) + ")";
        }
        auto add = [&](const std::string& t) { ops += (ops.empty() ? "" : " ") + t; };
        switch (oi.arg) {
        case arg_kind::none:
            if (in.op == opcode::bool_eq || in.op == opcode::bool_ne) add(in.aux ? "true" : "false");
            break;
        case arg_kind::jump: add("-> " + padded(in.arg, 4)); break;
        case arg_kind::string: add(str(in.arg)); break;
        case arg_kind::set: add("set " + std::to_string(in.arg) + " " + set(in.arg)); break;
        case arg_kind::glob:
            add("glob " + std::to_string(in.arg) + " " + (in.arg < im_.globs.size() ? str(im_.globs[in.arg]) : "?"));
            break;
        case arg_kind::number:
            add((in.aux < cmp_names.size() ? std::string(cmp_names[in.aux]) : "?") + " " +
                (in.arg < im_.numbers.size() ? number_text(im_.numbers[in.arg]) : "?"));
            break;
        case arg_kind::block: add("block " + std::to_string(in.arg)); break;
        case arg_kind::slot: add("slot " + std::to_string(in.arg) + " (" + slot_name(in.arg) + ")"); break;
        }
        s += ops;
        while (!s.empty() && s.back() == ' ') s.pop_back();
        return s;
    }

    // The sub-path name of an element operand, from the iterated list slot.
    std::string elem_name(std::uint16_t k, long list_slot) const {
        if (list_slot < 0 || static_cast<std::size_t>(list_slot) >= im_.slots.size()) return "";
        const auto& sub = im_.slots[static_cast<std::size_t>(list_slot)].subpaths;
        return k >= 1 && k <= sub.size() ? " (" + sub[k - 1] + ")" : "";
    }

    const program_image& im_;
    std::vector<long> block_slot_;
    std::string out_;
};

} // namespace detail::disasm_impl

inline std::string disassemble(const program_image& im) { return detail::disasm_impl::disassembler(im).run(); }

} // namespace dockpol::rt
