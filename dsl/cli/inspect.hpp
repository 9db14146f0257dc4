// `dockpolc inspect BUNDLE [--format text|json]`: the manifest and the
// disassembly of a bundle, loaded (and so verified) exactly as dockpold
// would load it, and with --format json its byte layout (the one source for
// scripts that cut or patch bundles). A rejected bundle is exit 2 with the
// loader's reason.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <iostream>
#include <span>
#include <string>
#include <vector>

#include "cli/args.hpp"
#include "cli/command.hpp"
#include "cli/common.hpp"
#include "cli/keys.hpp"
#include "cli/eval.hpp"
#include "dockpol/rt/bundle.hpp"
#include "dockpol/rt/bundle_layout.hpp"
#include "dockpol/rt/disasm.hpp"
#include "dockpol/rt/vm.hpp"

namespace dockpol::dsl::cli {

namespace detail {

inline std::string rule_name(const rt::program_image& img, const rt::rule_desc& r) {
    return r.name < img.strings.size() ? img.strings[r.name] : "?";
}

inline nlohmann::ordered_json inspect_json(const rt::program_image& img, const std::string& key_id, bool verified) {
    nlohmann::ordered_json man;
    man["revision"] = img.man.revision;
    man["compiler_version"] = img.man.compiler_version;
    man["sources"] = nlohmann::ordered_json::array();
    for (const auto& s : img.man.sources) man["sources"].push_back({{"file", s.file}, {"sha256", s.sha256_hex}});
    nlohmann::ordered_json j;
    j["manifest"] = man;
    j["signature"] = key_id.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json({{"key_id", key_id}});
    if (verified) j["signature"]["verified"] = true;
    j["default"] = effect_name(img.default_effect);
    j["safe_host_paths"] = img.safe_host_paths;
    j["safe_volume_drivers"] = img.safe_volume_drivers;
    j["owner_label"] = img.owner_label.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(img.owner_label);
    j["rules"] = nlohmann::ordered_json::array();
    for (std::size_t i = 0; i < img.rules.size(); ++i) {
        nlohmann::ordered_json r;
        r["name"] = rule_name(img, img.rules[i]);
        r["effect"] = effect_name(img.rules[i].eff);
        r["own"] = img.rules[i].own;
        const rt::source_pos p = i < img.rule_positions.size() ? img.rule_positions[i] : rt::source_pos{};
        if (p.line == 0) {
            r["position"] = nullptr;
        } else {
            r["position"] = {{"file", p.file < img.man.sources.size() ? img.man.sources[p.file].file : ""},
                             {"line", p.line},
                             {"column", p.column}};
        }
        j["rules"].push_back(std::move(r));
    }
    return j;
}

inline nlohmann::ordered_json range_json(const rt::byte_range& r) {
    return {{"offset", r.offset}, {"size", r.size}};
}

// Offsets and sizes of the header fields, sections, signature block and digest (docs/cli.md).
inline nlohmann::ordered_json layout_json(const rt::bundle_layout& l, std::span<const std::uint8_t> bytes) {
    nlohmann::ordered_json j;
    j["size"] = l.size;
    j["header"] = nlohmann::ordered_json::array();
    for (const auto& f : rt::bundle_header_fields) {
        nlohmann::ordered_json field{{"name", f.name}};
        field.update(range_json(f.at));
        if (f.name == "magic") {
            field["bytes"] = std::vector<std::uint8_t>(rt::bundle_format::magic.begin(), rt::bundle_format::magic.end());
        } else {
            std::uint64_t v = 0;
            for (std::size_t i = f.at.size; i-- > 0;) v = v << 8 | bytes[f.at.offset + i];
            field["value"] = v;
        }
        j["header"].push_back(std::move(field));
    }
    j["flag_signed"] = rt::bundle_format::flag_signed;
    j["payload"] = range_json(l.payload);
    j["sections"] = nlohmann::ordered_json::array();
    for (const auto& s : l.sections) {
        nlohmann::ordered_json sj{{"name", s.name}, {"tag", s.tag}};
        sj.update(range_json(s.content));
        j["sections"].push_back(std::move(sj));
    }
    if (l.signature) {
        j["signature"] = range_json(*l.signature);
        j["signature"]["key_id_size"] = rt::signature_key_id_size;
    } else {
        j["signature"] = nullptr;
    }
    j["digest"] = range_json(l.digest);
    return j;
}

// The signature line, then the disassembly (which carries the manifest and the rules).
inline std::string inspect_text(const rt::program_image& img, const std::string& key_id, bool verified) {
    std::string out = "signature: ";
    // Without a public key the signature is read, not checked; dockpold checks it with --bundle-pubkey.
    out += key_id.empty() ? std::string("none")
                          : "key " + key_id + (verified ? " (verified)" : " (not checked: no public key given)");
    out += "\n";
    out += rt::disassemble(img);
    return out;
}

} // namespace detail

inline constexpr option_spec inspect_options[] = {
    {"--format", arg_kind::single, "text|json", "output format"},
    {"--pubkey", arg_kind::list, "PUB.pem...", "check the signature with these public keys (exit 2 when it fails)"},
};

inline int run_inspect(std::span<const std::string> args) {
    auto pa = parse_args(args, inspect_options);
    if (auto* e = std::get_if<std::string>(&pa)) return fail("inspect: " + *e);
    const auto& a = std::get<parsed_args>(pa);
    if (a.positional.size() != 1) return fail("inspect: give exactly one bundle");
    auto f = format_of(a);
    if (auto* e = std::get_if<std::string>(&f)) return fail("inspect: " + *e);
    const std::string& path = a.positional.front();

    std::vector<rt::public_key> keys;
    if (a.has("--pubkey")) {
        auto key_list = load_public_keys("inspect", a.all("--pubkey"));
        if (auto* code = std::get_if<int>(&key_list)) return *code;
        keys = std::move(std::get<std::vector<rt::public_key>>(key_list));
    }
    auto loaded = load_bundle_file(path, keys);
    if (auto* code = std::get_if<int>(&loaded)) return *code;
    const auto& bf = std::get<bundle_file>(loaded);
    const std::string& key_id = bf.key_id;
    const rt::program_image& img = rt::image_of(*bf.prog);

    if (std::get<output_format>(f) == output_format::json) {
        auto j = detail::inspect_json(img, key_id, !keys.empty());
        const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(bf.bytes.data()), bf.bytes.size());
        // A loaded bundle always has its framing; null would mean the two readers disagree.
        const auto layout = rt::layout_of(bytes);
        j["layout"] = layout ? detail::layout_json(*layout, bytes) : nlohmann::ordered_json(nullptr);
        std::cout << j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace)
                  << '\n';
    } else {
        std::cout << detail::inspect_text(img, key_id, !keys.empty());
    }
    return exit_ok;
}

inline constexpr command_info inspect_command{
    "inspect", "BUNDLE [--format text|json] [--pubkey PUB.pem...]",
    "print a bundle's manifest and disassembly",
    inspect_options, false,
    "dockpolc inspect policy.dpb",
    run_inspect};

} // namespace dockpol::dsl::cli
