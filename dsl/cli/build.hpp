// `dockpolc build POLICY... -o BUNDLE [--sign KEY.pem] [--revision STR]`:
// compiles and writes a bundle (atomically, so a watching dockpold never
// reads half of one). Nothing is written when the policy fails.
#pragma once
#include <iostream>
#include <span>
#include <string>

#include "cli/args.hpp"
#include "cli/command.hpp"
#include "cli/common.hpp"
#include "cli/policy_input.hpp"
#include "dockpol/rt/bundle.hpp"
#include "dockpol/rt/signature.hpp"

namespace dockpol::dsl::cli {

inline constexpr option_spec build_options[] = {
    {"-o", arg_kind::single, "BUNDLE", "where the bundle is written (atomically)"},
    {"--sign", arg_kind::single, "KEY.pem", "sign with this Ed25519 key (dockpolc keygen)"},
    {"--revision", arg_kind::single, "STR", "the bundle revision (default: the digest of the sources)"},
};

inline int run_build(std::span<const std::string> args) {
    const auto specs = with_common(build_options);
    auto pa = parse_args(args, specs);
    if (auto* e = std::get_if<std::string>(&pa)) return fail("build: " + *e);
    const auto& a = std::get<parsed_args>(pa);
    const auto out = a.one("-o");
    if (!out) return fail("build: -o BUNDLE is required");
    if (a.positional.empty()) return fail("build: give policy files");
    auto cs = common_settings_of(a);
    if (auto* code = std::get_if<int>(&cs)) return *code;
    const auto& s = std::get<common_settings>(cs);

    // The key is loaded first: a wrong key path is a usage error whatever the policy says.
    std::optional<rt::signing_key> key;
    if (const auto key_path = a.one("--sign")) {
        auto pem = read_file(*key_path, max_key_bytes);
        if (auto* e = std::get_if<1>(&pem)) return fail(e->message);
        auto k = rt::parse_signing_key_pem(std::get<0>(pem));
        if (auto* e = std::get_if<std::string>(&k)) return fail(*key_path + ": " + *e);
        key = std::move(std::get<rt::signing_key>(k));
    }

    auto c = compile_policies(a.positional, s, a.one("--revision").value_or(""), true);
    if (auto* code = std::get_if<int>(&c)) return *code;
    const auto& cp = std::get<compiled_policy>(c);

    const std::vector<std::uint8_t> bytes = rt::write_bundle(cp.image, key ? &*key : nullptr);
    if (auto e = write_file_atomic(*out, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size())))
        return fail(*e);
    if (s.format == output_format::text) {
        std::cout << "wrote " << *out << ": " << cp.image.rules.size() << " rules, revision " << cp.image.man.revision;
        if (key) std::cout << ", signed by key " << key->key_id;
        std::cout << '\n';
    }
    return exit_ok;
}

inline constexpr command_info build_command{
    "build", "POLICY... -o BUNDLE [--sign KEY.pem] [--revision STR]",
    "compile policy files into a verified, optionally signed bundle",
    build_options, true,
    "dockpolc build policy/*.dpol -o policy.dpb --sign signing.pem --revision \"$(git rev-parse --short HEAD)\"",
    run_build};

} // namespace dockpol::dsl::cli
