// `dockpolc verify BUNDLE --pubkey PUB.pem...`: the checks dockpold makes
// before it uses a bundle — bounds, digest, a signature by one of the given
// keys, the verifier — offline, so CI and operators can check a bundle
// before publishing or loading it. Exit 0 when it passes, 2 when it does not.
#pragma once
#include <iostream>
#include <span>
#include <string>
#include <vector>

#include "cli/args.hpp"
#include "cli/command.hpp"
#include "cli/common.hpp"
#include "cli/keys.hpp"
#include "dockpol/rt/bundle.hpp"
#include "dockpol/rt/signature.hpp"

namespace dockpol::dsl::cli {

inline constexpr option_spec verify_options[] = {
    {"--pubkey", arg_kind::list, "PUB.pem...", "public keys to trust (dockpolc keygen --pub); one must have signed it"},
};

inline int run_verify(std::span<const std::string> args) {
    auto pa = parse_args(args, verify_options);
    if (auto* e = std::get_if<std::string>(&pa)) return fail("verify: " + *e);
    const auto& a = std::get<parsed_args>(pa);
    if (a.positional.size() != 1) return fail("verify: give exactly one bundle");
    const auto key_paths = a.all("--pubkey");
    if (key_paths.empty()) return fail("verify: --pubkey PUB.pem is required (a bundle is verified against its signer)");
    auto key_list = load_public_keys("verify", key_paths);
    if (auto* code = std::get_if<int>(&key_list)) return *code;
    const auto& keys = std::get<std::vector<rt::public_key>>(key_list);
    const std::string& path = a.positional.front();
    auto loaded = load_bundle_file(path, keys);
    if (auto* code = std::get_if<int>(&loaded)) return *code;
    const auto& bf = std::get<bundle_file>(loaded);
    std::cout << path << ": ok (digest, signature by key " << bf.key_id << ", verifier), revision "
              << rt::image_of(*bf.prog).man.revision << '\n';
    return exit_ok;
}

inline constexpr command_info verify_command{
    "verify", "BUNDLE --pubkey PUB.pem...",
    "check a bundle's digest, signature and bytecode offline, as dockpold would before loading it",
    verify_options, false,
    "dockpolc verify policy.dpb --pubkey signing.pub",
    run_verify};

} // namespace dockpol::dsl::cli
