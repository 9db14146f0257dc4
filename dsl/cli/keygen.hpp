// `dockpolc keygen -o KEY.pem [--pub PUB.pem]`: a new Ed25519 signing key
// (PKCS#8 PEM, mode 0600) and optionally its public key (SPKI PEM) for
// dockpold's --bundle-pubkey. Prints the key id bundles will carry.
#pragma once
#include <iostream>
#include <span>
#include <string>

#include "cli/args.hpp"
#include "cli/common.hpp"
#include "dockpol/rt/signature.hpp"

namespace dockpol::dsl::cli {

inline int run_keygen(std::span<const std::string> args) {
    static constexpr option_spec specs[] = {{"-o", arg_kind::single}, {"--pub", arg_kind::single}};
    auto pa = parse_args(args, specs);
    if (auto* e = std::get_if<std::string>(&pa)) return fail("keygen: " + *e);
    const auto& a = std::get<parsed_args>(pa);
    if (!a.positional.empty()) return fail("keygen: unexpected argument " + a.positional.front());
    const auto out = a.one("-o");
    if (!out) return fail("keygen: -o KEY.pem is required");
    const auto pub = a.one("--pub");
    if (pub && *pub == *out) return fail("keygen: --pub must differ from -o");

    auto k = rt::generate_signing_key();
    if (auto* e = std::get_if<std::string>(&k)) return fail("keygen: " + *e);
    const auto& key = std::get<rt::signing_key>(k);
    const std::string priv = rt::signing_key_pem(key);
    const std::string pub_pem = rt::public_key_pem(rt::public_of(key));
    if (priv.empty() || pub_pem.empty()) return fail("keygen: OpenSSL could not encode the key");

    // The private key is readable by its owner only, whatever the umask.
    if (auto e = write_file_atomic(*out, priv, 0600)) return fail(*e);
    if (pub) {
        if (auto e = write_file_atomic(*pub, pub_pem, 0644)) return fail(*e);
    }
    std::cout << "key id " << key.key_id << '\n';
    return exit_ok;
}

} // namespace dockpol::dsl::cli
