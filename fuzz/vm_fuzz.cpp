// vm_fuzz: anything the verifier accepts, the VM evaluates without crashing,
// on any input, and the decision names a real rule (or "default").
//
// Input: u16 n | n bundle bytes | edits | input values.
//   The bundle's payload length and digest are repaired, then it is decoded
//   (without the verifier). A count byte and that many 7-byte structured
//   edits then poke the decoded image where hand-crafted bundles would
//   (opcodes, operands, code ranges, slots, sets). If rt::verify accepts the
//   result, rt::load_image must too, and rt::evaluate runs on an input whose
//   action and slot values (of any kind, matching the slot's type or not)
//   come from the rest of the bytes.
#define DOCKPOL_FUZZ_TARGET "vm_fuzz"
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "dockpol/rt/bundle.hpp"
#include "dockpol/rt/vm.hpp"
#include "fuzz_support.hpp"

namespace vm_fuzz {

namespace {

using namespace dockpol;
namespace bf = rt::bundle_format;

// Structured edits per input: enough to break several invariants at once.
constexpr std::size_t max_edits = 8;
// Nesting of generated values (lists of records of lists ...).
constexpr int max_value_depth = 3;
// Elements of one generated list.
constexpr std::size_t max_list_items = 6;

std::vector<std::uint8_t> repaired_bundle(fuzz::byte_source& in) {
    const std::size_t n = in.u16();
    const std::string raw = in.take(n);
    std::vector<std::uint8_t> b(raw.begin(), raw.end());
    const std::size_t min = bf::header_size + bf::digest_size;
    if (b.size() < min) return b;
    b[10] = b[11] = 0;  // unsigned: the signature block would shift the layout
    const auto len = static_cast<std::uint32_t>(b.size() - min);
    for (int i = 0; i < 4; ++i) b[12 + i] = static_cast<std::uint8_t>(len >> (8 * i));
    const auto d = rt::sha256(std::span<const std::uint8_t>(b).first(b.size() - bf::digest_size));
    std::copy(d.begin(), d.end(), b.end() - static_cast<std::ptrdiff_t>(bf::digest_size));
    return b;
}

template <class T>
T* pick(std::vector<T>& v, std::uint16_t i) {
    return v.empty() ? nullptr : &v[i % v.size()];
}

void edit(rt::program_image& im, fuzz::byte_source& in) {
    const std::uint8_t kind = in.u8();
    const std::uint16_t i = in.u16();
    const std::uint32_t v = in.u32();
    switch (kind % 14) {
    case 0: if (auto* c = pick(im.code, i)) c->op = static_cast<rt::opcode>(v % (rt::opcode_count + 1)); break;
    case 1: if (auto* c = pick(im.code, i)) c->arg = v % 64; break;
    case 2: if (auto* c = pick(im.code, i)) c->slot = static_cast<std::uint16_t>(v % 8); break;
    case 3: if (auto* c = pick(im.code, i)) c->src = static_cast<rt::operand_src>(v % 3); break;
    case 4: if (auto* c = pick(im.code, i)) c->aux = static_cast<std::uint8_t>(v % 8); break;
    case 5: if (auto* r = pick(im.rules, i)) r->code_begin = v % static_cast<std::uint32_t>(im.code.size() + 2); break;
    case 6: if (auto* r = pick(im.rules, i)) r->code_end = v % static_cast<std::uint32_t>(im.code.size() + 2); break;
    case 7:
        if (auto* b = pick(im.blocks, i)) {
            const auto at = v % static_cast<std::uint32_t>(im.code.size() + 2);
            (v & 0x80000000u ? b->code_end : b->code_begin) = at;
        }
        break;
    case 8: if (auto* s = pick(im.slots, i)) s->field = static_cast<rt::field_id>(v % (rt::field_count + 1)); break;
    case 9:
        if (auto* s = pick(im.slots, i)) {
            if (v & 1) s->subpaths.push_back(v & 2 ? "Type" : "Source");
            else if (!s->subpaths.empty()) s->subpaths.pop_back();
        }
        break;
    case 10:
        if (auto* s = pick(im.sets, i)) {
            if (v & 1 && !im.strings.empty()) s->push_back((v >> 1) % static_cast<std::uint32_t>(im.strings.size()));
            else if (!s->empty()) s->pop_back();
        }
        break;
    case 11:
        if (!im.code.empty()) std::swap(im.code[i % im.code.size()], im.code[v % im.code.size()]);
        break;
    case 12: if (!im.sets.empty()) (v & 1 ? im.body_actions : im.resource_actions) = (v >> 1) % static_cast<std::uint32_t>(im.sets.size()); break;
    case 13: if (auto* r = pick(im.rules, i)) r->eff = static_cast<rt::effect>(v & 1); break;
    }
}

rt::value gen_value(fuzz::byte_source& in, const rt::program_image& im, int depth) {
    const std::uint8_t k = in.u8();
    switch (k % 8) {
    case 0: return rt::value::absent();
    case 1: return rt::value::boolean(k & 0x80);
    case 2:
        if (!im.numbers.empty() && (k & 0x80)) return rt::value::number(im.numbers[in.u8() % im.numbers.size()]);
        return rt::value::number(static_cast<double>(static_cast<std::int32_t>(in.u32())) / 4);
    case 3:
    case 4:
        // Mostly pool strings, so comparisons, sets and globs sometimes match.
        if (!im.strings.empty() && (k & 0x80)) return rt::value::string(im.strings[in.u16() % im.strings.size()]);
        return rt::value::string(in.str(24));
    case 5:
    case 6: {
        if (depth >= max_value_depth) return rt::value::absent();
        std::vector<rt::value> items(in.below(max_list_items + 1));
        for (auto& it : items) it = gen_value(in, im, depth + 1);
        return k % 8 == 5 ? rt::value::list(std::move(items)) : rt::value::record(std::move(items));
    }
    default: return rt::value::string("/var/run/docker.sock");
    }
}

// A value of the kind the slot's field has (the binder's normal output), so
// comparisons run on real operands; pool strings and numbers make them match.
rt::value typed_value(fuzz::byte_source& in, const rt::program_image& im, const rt::slot_desc& slot) {
    auto pool_string = [&] {
        return im.strings.empty() ? rt::value::string(in.str(8)) : rt::value::string(im.strings[in.u16() % im.strings.size()]);
    };
    switch (rt::info(slot.field).type) {
    case rt::field_type::string: return pool_string();
    case rt::field_type::number:
        return im.numbers.empty() ? rt::value::number(in.u8()) : rt::value::number(im.numbers[in.u8() % im.numbers.size()]);
    case rt::field_type::boolean: return rt::value::boolean(in.flag());
    case rt::field_type::list:
    case rt::field_type::groups: {
        std::vector<rt::value> items(in.below(max_list_items + 1));
        for (auto& it : items) it = pool_string();
        return rt::value::list(std::move(items));
    }
    default: {
        if (slot.subpaths.empty()) return gen_value(in, im, 0);
        // Records: items[0] the element, items[k] its value at sub-path k.
        std::vector<rt::value> elems(in.below(max_list_items + 1));
        for (auto& e : elems) {
            std::vector<rt::value> rec(slot.subpaths.size() + 1);
            for (auto& r : rec) r = in.flag() ? pool_string() : gen_value(in, im, 2);
            e = rt::value::record(std::move(rec));
        }
        return rt::value::list(std::move(elems));
    }
    }
}

} // namespace

DOCKPOL_FUZZ_ENTRY(data, size) {
    fuzz::byte_source in(data, size);
    const auto bytes = repaired_bundle(in);
    auto decoded = rt::decode_bundle(bytes);
    if (decoded.index() != 0) return 0;
    rt::program_image im = std::move(std::get<0>(decoded).image);
    const std::size_t edits = in.u8() % (max_edits + 1);
    for (std::size_t e = 0; e < edits; ++e) edit(im, in);
    if (rt::verify(im)) return 0;

    const auto loaded = rt::load_image(im);
    DOCKPOL_FUZZ_CHECK(loaded.prog != nullptr, "verified image refused by load_image: " + loaded.error);
    const rt::program& p = *loaded.prog;

    rt::input input;
    // Mostly an action the program names, so rule bodies get past their action test.
    std::vector<std::uint16_t> named;
    for (const auto id : p.string_action)
        if (id != rt::program::no_action) named.push_back(id);
    const std::uint16_t a = in.u16();
    if ((a & 0xC000) == 0xC000) input.action_id = a;
    else if ((a & 0x8000) == 0 && !named.empty()) input.action_id = named[a % named.size()];
    else input.action_id = static_cast<std::uint16_t>(a % rt::action_count);
    for (const auto& slot : im.slots)
        input.slots.push_back(in.u8() < 192 ? typed_value(in, im, slot) : gen_value(in, im, 0));

    const auto d = rt::evaluate(p, input);
    const auto& rules = rt::image_of(p).rules;
    if (d.rule_index >= 0) {
        const auto r = static_cast<std::size_t>(d.rule_index);
        DOCKPOL_FUZZ_CHECK(r < rules.size(), d.rule);
        DOCKPOL_FUZZ_CHECK(d.rule == rt::image_of(p).strings[rules[r].name] && d.eff == rules[r].eff &&
                               d.own == rules[r].own,
                           d.rule);
        // Evaluating from the next rule (an `allow own` rule's check failed) decides later or by default.
        const auto next = rt::evaluate(p, input, static_cast<std::uint32_t>(r + 1));
        DOCKPOL_FUZZ_CHECK(next.rule_index == -1 ? next.rule == "default" : next.rule_index > d.rule_index, next.rule);
    } else {
        DOCKPOL_FUZZ_CHECK(d.rule == "default" && d.eff == rt::image_of(p).default_effect, d.rule + " " + d.reason);
    }
    const auto again = rt::evaluate(p, input);
    DOCKPOL_FUZZ_CHECK(again.rule == d.rule && again.eff == d.eff, "evaluation is not deterministic");

    // A mis-sized input is refused by rule "error", never read out of bounds.
    input.slots.emplace_back();
    const auto bad = rt::evaluate(p, input);
    DOCKPOL_FUZZ_CHECK(bad.rule == "error" && bad.eff == rt::effect::deny, bad.rule);
    return 0;
}

} // namespace vm_fuzz

#undef DOCKPOL_FUZZ_TARGET
