// Public keys named on the command line (`verify --pubkey`, `inspect --pubkey`).
#pragma once
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "cli/common.hpp"
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

} // namespace dockpol::dsl::cli
