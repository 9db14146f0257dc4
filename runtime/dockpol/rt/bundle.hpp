// The bundle file format: the one definition both dockpolc (writer) and
// dockpold (loader) use.
//
//   header   magic "\x89DPB\r\n\x1a\n" (8) | u16 format version | u16 flags | u32 payload length
//   payload  sections, each u32 tag | u32 length | bytes, every tag exactly once, in tag order
//   [signature]  when flags has `signed`: 8-byte key id | 64-byte Ed25519 signature over header+payload
//   digest   SHA-256 over everything before it
//
// All integers little-endian. The encoding is canonical (write(read(b)) == b):
// fixed-width fields, no padding, no slack inside a section, no trailing bytes.
// Loading runs: bounds → digest → signature (required iff keys are given) →
// decode → verifier → derive, and never half-loads.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "dockpol/rt/detail/byte_io.hpp"
#include "dockpol/rt/program.hpp"
#include "dockpol/rt/sha256.hpp"
#include "dockpol/rt/signature.hpp"
#include "dockpol/rt/verifier.hpp"
#include "dockpol/rt/vm.hpp"

namespace dockpol::rt {

namespace bundle_format {
// The 0x89 byte catches 7-bit transfers, "\r\n" and "\n" catch newline
// translation, 0x1a stops `type` on DOS: a mangled copy fails at byte 0..7.
inline constexpr std::array<std::uint8_t, 8> magic = {0x89, 'D', 'P', 'B', '\r', '\n', 0x1a, '\n'};
// Bumped on any incompatible change; the loader accepts exactly this version.
// 2: the `safe` section (safe host paths and volume drivers).
// 3: the `owner` section (owner label), a per-rule `own` byte, resource.owner
//    in the field table and the slot_eq/slot_ne opcodes.
inline constexpr std::uint16_t version = 3;
// Flag bit: a signature block follows the payload.
inline constexpr std::uint16_t flag_signed = 1;
inline constexpr std::uint16_t known_flags = flag_signed;
inline constexpr std::size_t header_size = 16;
inline constexpr std::size_t signature_block_size = 8 + 64;
inline constexpr std::size_t digest_size = 32;
// Each instruction is 12 bytes on disk (program.hpp's insn layout).
inline constexpr std::size_t insn_size = 12;

enum class tag : std::uint32_t {
    strings = 1, sets, globs, numbers, slots, rules, blocks, code, rule_positions, policy, manifest, safe, owner,
};
} // namespace bundle_format

namespace detail::bundle_impl {

using bundle_format::tag;

inline void put_strings(byte_writer& w, const program_image& im) {
    w.u32(static_cast<std::uint32_t>(im.strings.size()));
    for (const auto& s : im.strings) w.str(s);
}
inline bool get_strings(byte_reader& r, program_image& im) {
    std::uint32_t n = 0;
    if (!r.count(n, limits::max_strings, 4, "string count")) return false;
    im.strings.resize(n);
    for (std::uint32_t i = 0; i < n; ++i)
        if (!r.str(im.strings[i], limits::max_string_bytes, "string " + std::to_string(i))) return false;
    return true;
}

inline void put_sets(byte_writer& w, const program_image& im) {
    w.u32(static_cast<std::uint32_t>(im.sets.size()));
    for (const auto& s : im.sets) {
        w.u32(static_cast<std::uint32_t>(s.size()));
        for (auto id : s) w.u32(id);
    }
}
inline bool get_sets(byte_reader& r, program_image& im) {
    std::uint32_t n = 0;
    if (!r.count(n, limits::max_sets, 4, "set count")) return false;
    im.sets.resize(n);
    for (std::uint32_t i = 0; i < n; ++i) {
        std::uint32_t m = 0;
        const std::string at = "set " + std::to_string(i);
        if (!r.count(m, limits::max_set_size, 4, at + " size")) return false;
        im.sets[i].resize(m);
        for (auto& id : im.sets[i])
            if (!r.u32(id, at + " member")) return false;
    }
    return true;
}

inline void put_globs(byte_writer& w, const program_image& im) {
    w.u32(static_cast<std::uint32_t>(im.globs.size()));
    for (auto g : im.globs) w.u32(g);
}
inline bool get_globs(byte_reader& r, program_image& im) {
    std::uint32_t n = 0;
    if (!r.count(n, limits::max_globs, 4, "glob count")) return false;
    im.globs.resize(n);
    for (auto& g : im.globs)
        if (!r.u32(g, "glob pattern id")) return false;
    return true;
}

inline void put_numbers(byte_writer& w, const program_image& im) {
    w.u32(static_cast<std::uint32_t>(im.numbers.size()));
    for (auto d : im.numbers) w.f64(d);
}
inline bool get_numbers(byte_reader& r, program_image& im) {
    std::uint32_t n = 0;
    if (!r.count(n, limits::max_numbers, 8, "number count")) return false;
    im.numbers.resize(n);
    for (auto& d : im.numbers)
        if (!r.f64(d, "number")) return false;
    return true;
}

inline void put_slots(byte_writer& w, const program_image& im) {
    w.u32(static_cast<std::uint32_t>(im.slots.size()));
    for (const auto& s : im.slots) {
        w.u16(static_cast<std::uint16_t>(s.field));
        w.str(s.key);
        w.u32(static_cast<std::uint32_t>(s.subpaths.size()));
        for (const auto& p : s.subpaths) w.str(p);
    }
}
inline bool get_slots(byte_reader& r, program_image& im) {
    std::uint32_t n = 0;
    if (!r.count(n, limits::max_slots, 10, "slot count")) return false;
    im.slots.resize(n);
    for (std::uint32_t i = 0; i < n; ++i) {
        auto& s = im.slots[i];
        const std::string at = "slot " + std::to_string(i);
        std::uint16_t f = 0;
        std::uint32_t m = 0;
        if (!r.u16(f, at + " field") || !r.str(s.key, limits::max_string_bytes, at + " key") ||
            !r.count(m, limits::max_subpaths, 4, at + " sub-path count"))
            return false;
        s.field = static_cast<field_id>(f);
        s.subpaths.resize(m);
        for (auto& p : s.subpaths)
            if (!r.str(p, limits::max_string_bytes, at + " sub-path")) return false;
    }
    return true;
}

// An effect byte must be 0 (deny) or 1 (allow), so the encoding stays canonical.
inline bool get_effect(byte_reader& r, effect& e, const std::string& what) {
    std::uint8_t b = 0;
    if (!r.u8(b, what)) return false;
    if (b > 1) return r.fail(what + ": " + std::to_string(b) + " is neither deny (0) nor allow (1)");
    e = static_cast<effect>(b);
    return true;
}

inline void put_rules(byte_writer& w, const program_image& im) {
    w.u32(static_cast<std::uint32_t>(im.rules.size()));
    for (const auto& ru : im.rules) {
        w.u32(ru.name);
        w.u8(static_cast<std::uint8_t>(ru.eff));
        w.u8(ru.own ? 1 : 0);
        w.u32(ru.code_begin);
        w.u32(ru.code_end);
    }
}
inline bool get_rules(byte_reader& r, program_image& im) {
    std::uint32_t n = 0;
    if (!r.count(n, limits::max_rules, 14, "rule count")) return false;
    im.rules.resize(n);
    for (std::uint32_t i = 0; i < n; ++i) {
        auto& ru = im.rules[i];
        const std::string at = "rule " + std::to_string(i);
        std::uint8_t own = 0;
        if (!r.u32(ru.name, at + " name") || !get_effect(r, ru.eff, at + " effect") || !r.u8(own, at + " own") ||
            !r.u32(ru.code_begin, at + " code begin") || !r.u32(ru.code_end, at + " code end"))
            return false;
        // 0 or 1 only, so the encoding stays canonical.
        if (own > 1) return r.fail(at + " own: " + std::to_string(own) + " is neither 0 nor 1");
        ru.own = own == 1;
    }
    return true;
}

inline void put_blocks(byte_writer& w, const program_image& im) {
    w.u32(static_cast<std::uint32_t>(im.blocks.size()));
    for (const auto& b : im.blocks) {
        w.u32(b.code_begin);
        w.u32(b.code_end);
    }
}
inline bool get_blocks(byte_reader& r, program_image& im) {
    std::uint32_t n = 0;
    if (!r.count(n, limits::max_blocks, 8, "block count")) return false;
    im.blocks.resize(n);
    for (auto& b : im.blocks)
        if (!r.u32(b.code_begin, "block code begin") || !r.u32(b.code_end, "block code end")) return false;
    return true;
}

inline void put_code(byte_writer& w, const program_image& im) {
    w.u32(static_cast<std::uint32_t>(im.code.size()));
    for (const auto& in : im.code) {
        w.u8(static_cast<std::uint8_t>(in.op));
        w.u8(static_cast<std::uint8_t>(in.src));
        w.u8(in.aux);
        w.u8(in.reserved);
        w.u16(in.slot);
        w.u16(in.reserved2);
        w.u32(in.arg);
    }
}
inline bool get_code(byte_reader& r, program_image& im) {
    std::uint32_t n = 0;
    if (!r.count(n, limits::max_code, bundle_format::insn_size, "instruction count")) return false;
    im.code.resize(n);
    for (std::uint32_t i = 0; i < n; ++i) {
        auto& in = im.code[i];
        const std::string at = "instruction " + std::to_string(i);
        std::uint8_t op = 0, src = 0;
        if (!r.u8(op, at + " opcode") || !r.u8(src, at + " source") || !r.u8(in.aux, at + " aux") ||
            !r.u8(in.reserved, at + " reserved") || !r.u16(in.slot, at + " slot") ||
            !r.u16(in.reserved2, at + " reserved") || !r.u32(in.arg, at + " argument"))
            return false;
        // Opcode and source ranges are the verifier's job; the raw bytes are kept as read.
        in.op = static_cast<opcode>(op);
        in.src = static_cast<operand_src>(src);
    }
    return true;
}

inline void put_positions(byte_writer& w, const program_image& im) {
    w.u32(static_cast<std::uint32_t>(im.rule_positions.size()));
    for (const auto& p : im.rule_positions) {
        w.u32(p.file);
        w.u32(p.line);
        w.u32(p.column);
    }
}
inline bool get_positions(byte_reader& r, program_image& im) {
    std::uint32_t n = 0;
    if (!r.count(n, limits::max_rules, 12, "rule position count")) return false;
    im.rule_positions.resize(n);
    for (auto& p : im.rule_positions)
        if (!r.u32(p.file, "rule position file") || !r.u32(p.line, "rule position line") ||
            !r.u32(p.column, "rule position column"))
            return false;
    return true;
}

inline void put_policy(byte_writer& w, const program_image& im) {
    w.u8(static_cast<std::uint8_t>(im.default_effect));
    w.u32(im.body_actions);
    w.u32(im.resource_actions);
}
inline bool get_policy(byte_reader& r, program_image& im) {
    return get_effect(r, im.default_effect, "default effect") && r.u32(im.body_actions, "body_actions set") &&
           r.u32(im.resource_actions, "resource_actions set");
}

inline void put_manifest(byte_writer& w, const program_image& im) {
    w.str(im.man.revision);
    w.str(im.man.compiler_version);
    w.u32(static_cast<std::uint32_t>(im.man.sources.size()));
    for (const auto& s : im.man.sources) {
        w.str(s.file);
        w.str(s.sha256_hex);
    }
}
inline bool get_manifest(byte_reader& r, program_image& im) {
    std::uint32_t n = 0;
    if (!r.str(im.man.revision, limits::max_string_bytes, "manifest revision") ||
        !r.str(im.man.compiler_version, limits::max_string_bytes, "manifest compiler version") ||
        !r.count(n, limits::max_sources, 8, "manifest source count"))
        return false;
    im.man.sources.resize(n);
    for (auto& s : im.man.sources)
        if (!r.str(s.file, limits::max_string_bytes, "manifest source name") ||
            !r.str(s.sha256_hex, limits::max_string_bytes, "manifest source digest"))
            return false;
    return true;
}

// A list of strings: u32 count, then each string.
inline void put_string_list(byte_writer& w, const std::vector<std::string>& v) {
    w.u32(static_cast<std::uint32_t>(v.size()));
    for (const auto& x : v) w.str(x);
}
inline bool get_string_list(byte_reader& r, std::vector<std::string>& v, const std::string& what) {
    std::uint32_t n = 0;
    if (!r.count(n, limits::max_safe_entries, 4, what + " count")) return false;
    v.resize(n);
    for (auto& x : v)
        if (!r.str(x, limits::max_string_bytes, what)) return false;
    return true;
}
inline void put_safe(byte_writer& w, const program_image& im) {
    put_string_list(w, im.safe_host_paths);
    put_string_list(w, im.safe_volume_drivers);
}
inline bool get_safe(byte_reader& r, program_image& im) {
    return get_string_list(r, im.safe_host_paths, "safe host path") &&
           get_string_list(r, im.safe_volume_drivers, "safe volume driver");
}

inline void put_owner(byte_writer& w, const program_image& im) { w.str(im.owner_label); }
inline bool get_owner(byte_reader& r, program_image& im) {
    return r.str(im.owner_label, limits::max_string_bytes, "owner label");
}

struct section_codec {
    tag t;
    const char* name;
    void (*put)(byte_writer&, const program_image&);
    bool (*get)(byte_reader&, program_image&);
};

// The sections in their one required order (ascending tags).
inline constexpr std::array<section_codec, 13> sections = {{
    {tag::strings, "strings", put_strings, get_strings},
    {tag::sets, "sets", put_sets, get_sets},
    {tag::globs, "globs", put_globs, get_globs},
    {tag::numbers, "numbers", put_numbers, get_numbers},
    {tag::slots, "slots", put_slots, get_slots},
    {tag::rules, "rules", put_rules, get_rules},
    {tag::blocks, "blocks", put_blocks, get_blocks},
    {tag::code, "code", put_code, get_code},
    {tag::rule_positions, "rule_positions", put_positions, get_positions},
    {tag::policy, "policy", put_policy, get_policy},
    {tag::manifest, "manifest", put_manifest, get_manifest},
    {tag::safe, "safe", put_safe, get_safe},
    {tag::owner, "owner", put_owner, get_owner},
}};

inline std::uint32_t read_u32_at(std::span<const std::uint8_t> b, std::size_t at) {
    return static_cast<std::uint32_t>(b[at]) | static_cast<std::uint32_t>(b[at + 1]) << 8 |
           static_cast<std::uint32_t>(b[at + 2]) << 16 | static_cast<std::uint32_t>(b[at + 3]) << 24;
}

} // namespace detail::bundle_impl

// Serialises an image; signs header+payload when `key` is given. The writer
// does not verify: dockpolc verifies before it writes.
inline std::vector<std::uint8_t> write_bundle(const program_image& im, const signing_key* key = nullptr) {
    using namespace bundle_format;
    detail::byte_writer w;
    for (auto b : magic) w.u8(b);
    w.u16(version);
    w.u16(key ? flag_signed : 0);
    w.u32(0);  // payload length, patched below
    for (const auto& s : detail::bundle_impl::sections) {
        w.u32(static_cast<std::uint32_t>(s.t));
        const std::size_t len_at = w.size();
        w.u32(0);
        s.put(w, im);
        w.patch_u32(len_at, static_cast<std::uint32_t>(w.size() - len_at - 4));
    }
    w.patch_u32(12, static_cast<std::uint32_t>(w.size() - header_size));
    if (key) {
        auto sig = sign(*key, w.data());
        for (auto b : key->id) w.u8(b);
        // Signing only fails on allocation failure; a zero signature never verifies.
        for (std::size_t i = 0; i < 64; ++i) w.u8(sig ? (*sig)[i] : 0);
    }
    auto d = sha256(w.data());
    w.bytes(d);
    return std::move(w.data());
}

struct decoded_bundle {
    program_image image;
    std::optional<std::string> key_id;  // hex key id when signed
    bool signature_checked = false;     // true when a given key verified the signature
};

// Bounds, digest, signature and decoding — everything but the verifier.
// With keys given, the bundle must be signed by one of them.
inline std::variant<decoded_bundle, std::string> decode_bundle(std::span<const std::uint8_t> bytes,
                                                               std::span<const public_key> keys = {}) {
    using namespace bundle_format;
    auto err = [](std::string m) { return std::variant<decoded_bundle, std::string>(std::in_place_index<1>, std::move(m)); };
    if (bytes.size() > limits::max_bundle_bytes)
        return err("bundle is " + std::to_string(bytes.size()) + " bytes, over the limit of " +
                   std::to_string(limits::max_bundle_bytes));
    if (bytes.size() < header_size + digest_size)
        return err("truncated bundle: " + std::to_string(bytes.size()) + " bytes is shorter than header and digest");
    if (!std::equal(magic.begin(), magic.end(), bytes.begin())) return err("not a dockpol bundle (bad magic)");
    detail::byte_reader hr(bytes.subspan(8, 8), 8);
    std::uint16_t ver = 0, flags = 0;
    std::uint32_t payload_len = 0;
    hr.u16(ver, "format version");
    hr.u16(flags, "flags");
    hr.u32(payload_len, "payload length");
    if (ver != version)
        return err("unsupported bundle format version " + std::to_string(ver) + " (this build reads " +
                   std::to_string(version) + ")");
    if (flags & ~known_flags) return err("unknown bundle flags 0x" + to_hex(std::array<std::uint8_t, 2>{
                                             static_cast<std::uint8_t>(flags >> 8), static_cast<std::uint8_t>(flags)}));
    const bool is_signed = flags & flag_signed;
    const std::size_t expect =
        header_size + std::size_t{payload_len} + (is_signed ? signature_block_size : 0) + digest_size;
    if (bytes.size() < expect)
        return err("truncated bundle: header announces " + std::to_string(expect) + " bytes, got " +
                   std::to_string(bytes.size()));
    if (bytes.size() > expect)
        return err("trailing bytes: header announces " + std::to_string(expect) + " bytes, got " +
                   std::to_string(bytes.size()));
    const auto body = bytes.first(bytes.size() - digest_size);
    const auto got = sha256(body);
    if (!std::equal(got.begin(), got.end(), bytes.begin() + static_cast<std::ptrdiff_t>(body.size())))
        return err("digest mismatch: the bundle is corrupt or was modified");

    decoded_bundle out;
    const auto signed_part = bytes.first(header_size + payload_len);
    if (is_signed) {
        const auto blk = bytes.subspan(signed_part.size(), signature_block_size);
        key_id_bytes id{};
        std::copy_n(blk.begin(), id.size(), id.begin());
        out.key_id = to_hex(id);
        if (!keys.empty()) {
            const public_key* k = nullptr;
            for (const auto& c : keys)
                if (c.id == id) k = &c;
            if (!k) return err("bundle is signed by key " + *out.key_id + ", which is not a trusted key");
            if (!verify_signature(*k, signed_part, blk.subspan(8)))
                return err("bad signature for key " + *out.key_id);
            out.signature_checked = true;
        }
    } else if (!keys.empty()) {
        return err("bundle is not signed, but a public key was given");
    }

    detail::byte_reader r(bytes.subspan(header_size, payload_len), header_size);
    for (const auto& s : detail::bundle_impl::sections) {
        std::uint32_t t = 0, len = 0;
        if (!r.u32(t, std::string("section tag (expecting ") + s.name + ")")) return err("bad bundle: " + r.error());
        if (t != static_cast<std::uint32_t>(s.t)) {
            const bool known = t >= 1 && t <= detail::bundle_impl::sections.size();
            return err("bad bundle: " +
                       (known ? "section " + std::string(detail::bundle_impl::sections[t - 1].name) + " is duplicated or out of order"
                              : "unknown section tag " + std::to_string(t)) +
                       ", expected section " + s.name + " (at offset " + std::to_string(r.offset() - 4) + ")");
        }
        std::span<const std::uint8_t> sec;
        if (!r.u32(len, std::string(s.name) + " section length") || !r.bytes(sec, len, std::string(s.name) + " section"))
            return err("bad bundle: " + r.error());
        detail::byte_reader sr(sec, r.offset() - len);
        if (!s.get(sr, out.image)) return err("bad bundle: " + std::string(s.name) + " section: " + sr.error());
        if (!sr.at_end())
            return err("bad bundle: " + std::string(s.name) + " section has " + std::to_string(sr.remaining()) +
                       " unread bytes (at offset " + std::to_string(sr.offset()) + ")");
    }
    if (!r.at_end())
        return err("bad bundle: " + std::to_string(r.remaining()) + " bytes after the last section (at offset " +
                   std::to_string(r.offset()) + ")");
    return out;
}

// The loader dockpold uses: decode, then verify and derive. Never half-loads.
inline load_result load_bundle(std::span<const std::uint8_t> bytes, std::span<const public_key> keys = {}) {
    auto d = decode_bundle(bytes, keys);
    if (auto* e = std::get_if<std::string>(&d)) return {nullptr, *e};
    return load_image(std::move(std::get<decoded_bundle>(d).image));
}

} // namespace dockpol::rt
