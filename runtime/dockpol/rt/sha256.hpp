// SHA-256 through OpenSSL's EVP interface: bundle digests, source digests,
// key ids and the default revision.
#pragma once
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include <openssl/evp.h>

namespace dockpol::rt {

using sha256_digest = std::array<std::uint8_t, 32>;

inline sha256_digest sha256(std::span<const std::uint8_t> data) {
    sha256_digest out{};
    unsigned int len = 0;
    // EVP_Digest only fails on allocation failure; a zero digest then fails every comparison.
    if (EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr) != 1) out.fill(0);
    return out;
}

inline sha256_digest sha256(std::string_view text) {
    return sha256(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

inline std::string to_hex(std::span<const std::uint8_t> bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string s;
    s.reserve(bytes.size() * 2);
    for (auto b : bytes) {
        s += digits[b >> 4];
        s += digits[b & 15];
    }
    return s;
}

inline std::string sha256_hex(std::string_view text) { return to_hex(sha256(text)); }

} // namespace dockpol::rt
