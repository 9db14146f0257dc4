// The in-memory form of a compiled policy: what the compiler lowers to, what
// the bundle serialises, what the verifier checks and the VM runs.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "dockpol/rt/fields.hpp"

namespace dockpol::rt {

enum class opcode : std::uint8_t {
#define OP(name, arg, slot) name,
#include "dockpol/rt/opcodes.def"
#undef OP
};
enum class arg_kind : std::uint8_t { none, jump, string, set, glob, number, block, slot };

struct opcode_info { std::string_view name; arg_kind arg; bool uses_slot; };
inline constexpr std::array opcode_table = {
#define OP(name, arg, slot) opcode_info{#name, arg_kind::arg, slot != 0},
#include "dockpol/rt/opcodes.def"
#undef OP
};
inline constexpr std::size_t opcode_count = opcode_table.size();

// Where an instruction's value comes from.
enum class operand_src : std::uint8_t { input = 0, element = 1 };

// Numeric comparison selector for num_cmp (insn.aux).
enum class cmp_op : std::uint8_t { eq, ne, lt, le, gt, ge };

// One fixed-size instruction (12 bytes on disk, little-endian, same order).
struct insn {
    opcode op = opcode::ret;
    operand_src src = operand_src::input;
    std::uint8_t aux = 0;       // cmp_op for num_cmp, 0/1 for bool_eq/bool_ne; else 0
    std::uint8_t reserved = 0;  // must be 0
    std::uint16_t slot = 0;     // slot index or element sub-path index
    std::uint16_t reserved2 = 0;// must be 0
    std::uint32_t arg = 0;      // per opcode_info::arg
    friend bool operator==(const insn&, const insn&) = default;
};

enum class effect : std::uint8_t { deny = 0, allow = 1 };

// A value the policy reads: a schema field plus, for keyed fields, its key
// (`env` of host.labels.env, `HostConfig.Mounts` of body.HostConfig.Mounts).
// `subpaths` name the element fields (`Type`, `Source`) that any/all
// predicates read from list-of-object elements; element sub-path i+1 ↔ subpaths[i].
struct slot_desc {
    field_id field{};
    std::string key;
    std::vector<std::string> subpaths;
    friend bool operator==(const slot_desc&, const slot_desc&) = default;
};

struct rule_desc {
    std::uint32_t name = 0;        // strings index
    effect eff = effect::deny;
    std::uint32_t code_begin = 0;  // [begin, end) in program::code
    std::uint32_t code_end = 0;
    // `allow own`: the rule decides only for the caller's own objects; when
    // the ownership check fails the next rule is tried.
    bool own = false;
    friend bool operator==(const rule_desc&, const rule_desc&) = default;
};

struct block_desc {
    std::uint32_t code_begin = 0;
    std::uint32_t code_end = 0;
    friend bool operator==(const block_desc&, const block_desc&) = default;
};

// Source position of a rule, for denials, --explain and `inspect`.
struct source_pos {
    std::uint32_t file = 0;  // index into manifest.sources
    std::uint32_t line = 0;  // 1-based
    std::uint32_t column = 0;// 1-based, code points
    friend bool operator==(const source_pos&, const source_pos&) = default;
};

struct source_digest {
    std::string file;
    std::string sha256_hex;
    friend bool operator==(const source_digest&, const source_digest&) = default;
};

struct manifest {
    std::string revision;
    std::string compiler_version;
    std::vector<source_digest> sources;
    friend bool operator==(const manifest&, const manifest&) = default;
};

// Everything serialised in a bundle. Pools are indexed by insn.arg.
struct program_image {
    std::vector<std::string> strings;                   // interned, unique
    std::vector<std::vector<std::uint32_t>> sets;       // string ids, sorted by string bytes, unique
    std::vector<std::uint32_t> globs;                   // string id of each glob pattern
    std::vector<double> numbers;
    std::vector<slot_desc> slots;
    std::vector<rule_desc> rules;                       // policy rules in order, then builtin_ping
    std::vector<block_desc> blocks;
    std::vector<insn> code;
    std::vector<source_pos> rule_positions;             // parallel to rules (builtin: all zero)
    effect default_effect = effect::deny;
    std::uint32_t body_actions = 0;                     // sets index: actions whose JSON body must be read
    std::uint32_t resource_actions = 0;                 // sets index: actions whose target must be inspected
    // `safe host paths {…}` (cleaned absolute paths) and `safe volume drivers
    // {…}` of the policy: what host_access does not count (docs/facts.md (Host access)).
    std::vector<std::string> safe_host_paths;
    std::vector<std::string> safe_volume_drivers;
    // `owner label "NAME"`: the label that records an object's owner; "" = none.
    std::string owner_label;
    manifest man;
    friend bool operator==(const program_image&, const program_image&) = default;
};

} // namespace dockpol::rt
