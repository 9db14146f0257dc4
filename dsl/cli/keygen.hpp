// `dockpolc keygen -o KEY.pem [--pub PUB.pem] [--force]`: a new Ed25519 signing key
// (PKCS#8 PEM, mode 0600) and optionally its public key (SPKI PEM) for
// dockpold's --bundle-pubkey. Prints the key id bundles will carry. Existing
// files are kept unless --force says otherwise.
#pragma once
#include <unistd.h>

#include <iostream>
#include <span>
#include <string>

#include "cli/args.hpp"
#include "cli/command.hpp"
#include "cli/common.hpp"
#include "dockpol/rt/signature.hpp"

namespace dockpol::dsl::cli {

inline constexpr option_spec keygen_options[] = {
    {"-o", arg_kind::single, "KEY.pem", "where the private key is written (mode 0600)"},
    {"--pub", arg_kind::single, "PUB.pem", "where its public key is written (for dockpold --bundle-pubkey)"},
    {"--force", arg_kind::flag, "", "overwrite existing files"},
};

inline int run_keygen(std::span<const std::string> args) {
    auto pa = parse_args(args, keygen_options);
    if (auto* e = std::get_if<std::string>(&pa)) return fail("keygen: " + *e);
    const auto& a = std::get<parsed_args>(pa);
    if (!a.positional.empty()) return fail("keygen: unexpected argument " + a.positional.front());
    const auto out = a.one("-o");
    if (!out) return fail("keygen: -o KEY.pem is required");
    const auto pub = a.one("--pub");
    if (pub && *pub == *out) return fail("keygen: --pub must differ from -o");
    // A signing key is not replaceable: bundles signed with it are trusted by its public key only.
    if (!a.has("--force"))
        for (const auto& path : {out, pub})
            if (path && ::access(path->c_str(), F_OK) == 0)
                return fail("keygen: " + *path + " exists; use --force to overwrite it");

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

inline constexpr command_info keygen_command{
    "keygen", "-o KEY.pem [--pub PUB.pem] [--force]",
    "make an Ed25519 key pair for signing bundles",
    keygen_options, false,
    "dockpolc keygen -o signing.pem --pub signing.pub",
    run_keygen};

} // namespace dockpol::dsl::cli
