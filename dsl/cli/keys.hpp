// Public keys named on the command line (`verify --pubkey`, `inspect --pubkey`)
// and the bundle file they check.
#pragma once
#include <memory>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "cli/common.hpp"
#include "dockpol/rt/bundle.hpp"
#include "dockpol/rt/signature.hpp"

namespace dockpol::dsl::cli {

// Loads each PEM public key; prints the error and returns exit 2 on the first that fails.
inline std::variant<std::vector<rt::public_key>, int> load_public_keys(std::string_view command,
                                                                       const std::vector<std::string>& paths) {
    std::vector<rt::public_key> keys;
    for (const auto& kp : paths) {
        auto k = rt::load_public_key_pem(kp);
        if (auto* e = std::get_if<std::string>(&k)) return fail(std::string(command) + ": " + kp + ": " + *e);
        keys.push_back(std::move(std::get<rt::public_key>(k)));
    }
    return keys;
}

// A bundle file loaded as dockpold loads it (bounds, digest, signature by one of
// `keys` when any are given, verifier), with the id of the key that signed it.
struct bundle_file {
    std::shared_ptr<const rt::program> prog;
    std::string key_id;   // "" when unsigned
    std::string bytes;    // the file as read (inspect prints its layout)
};

// Prints `PATH: bundle rejected: REASON` (or the read error) and returns exit 2 on failure.
inline std::variant<bundle_file, int> load_bundle_file(const std::string& path, std::span<const rt::public_key> keys) {
    auto bytes = read_file(path, max_bundle_bytes);
    if (auto* e = std::get_if<1>(&bytes)) return fail(e->message);
    const auto& b = std::get<0>(bytes);
    const std::span<const std::uint8_t> data(reinterpret_cast<const std::uint8_t*>(b.data()), b.size());
    // load_bundle's two steps, kept apart to learn the signing key id on the way.
    auto decoded = rt::decode_bundle(data, keys);
    if (auto* e = std::get_if<std::string>(&decoded)) return fail(path + ": bundle rejected: " + *e);
    auto& db = std::get<rt::decoded_bundle>(decoded);
    bundle_file out;
    out.key_id = db.key_id.value_or("");
    rt::load_result lr = rt::load_image(std::move(db.image));
    if (!lr.prog) return fail(path + ": bundle rejected: " + lr.error);
    out.prog = std::move(lr.prog);
    out.bytes = std::move(std::get<0>(bytes));
    return out;
}

} // namespace dockpol::dsl::cli
