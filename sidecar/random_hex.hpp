// Random identifiers dockpold makes (the plugin's lookup nonce, the proxy's
// hand-off instance id): bytes from OpenSSL's CSPRNG, as lowercase hex.
#pragma once
#include <openssl/rand.h>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "dockpol/rt/sha256.hpp"

namespace dockpol::sidecar {

// `bytes` random bytes as 2 * bytes hex digits; throws when the generator fails.
inline std::string random_hex(std::size_t bytes) {
    std::vector<std::uint8_t> r(bytes);
    if (RAND_bytes(r.data(), static_cast<int>(r.size())) != 1) throw std::runtime_error("no random bytes available");
    return rt::to_hex(r);
}

} // namespace dockpol::sidecar
