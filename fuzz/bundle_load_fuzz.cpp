// bundle_load_fuzz: arbitrary bytes → rt::load_bundle either rejects with a
// reason or returns a program that rt::verify accepts and whose image
// re-encodes to exactly the bytes loaded (the format is canonical).
//
// Input: one mode byte, then the bundle. A random mutation almost never
// keeps the SHA-256 trailer valid, so mode bits repair what a mutation broke
// and let the fuzzer reach the section decoder and the verifier:
//   bit 0 — rewrite the header's payload length to fit the input (unsigned layout)
//   bit 1 — recompute the digest trailer over everything before it
#define DOCKPOL_FUZZ_TARGET "bundle_load_fuzz"
#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "dockpol/rt/bundle.hpp"
#include "fuzz_support.hpp"

namespace bundle_load_fuzz {

namespace {

using namespace dockpol;
namespace bf = rt::bundle_format;

std::vector<std::uint8_t> repaired(const std::uint8_t* data, std::size_t size) {
    std::vector<std::uint8_t> b(data + 1, data + size);
    const std::uint8_t mode = data[0];
    const std::size_t min = bf::header_size + bf::digest_size;
    if ((mode & 1) && b.size() >= min) {
        const auto len = static_cast<std::uint32_t>(b.size() - min);
        for (int i = 0; i < 4; ++i) b[12 + i] = static_cast<std::uint8_t>(len >> (8 * i));
    }
    if ((mode & 2) && b.size() >= bf::digest_size) {
        const auto body = std::span<const std::uint8_t>(b).first(b.size() - bf::digest_size);
        const auto d = rt::sha256(body);
        std::copy(d.begin(), d.end(), b.end() - static_cast<std::ptrdiff_t>(bf::digest_size));
    }
    return b;
}

} // namespace

DOCKPOL_FUZZ_ENTRY(data, size) {
    if (size == 0) return 0;
    const auto bytes = repaired(data, size);
    const auto r = rt::load_bundle(bytes);
    if (!r.prog) {
        DOCKPOL_FUZZ_CHECK(!r.error.empty(), "rejection without a reason");
        return 0;
    }
    DOCKPOL_FUZZ_CHECK(r.error.empty(), r.error);
    const auto& img = rt::image_of(*r.prog);
    const auto v = rt::verify(img);
    DOCKPOL_FUZZ_CHECK(!v, "loaded program fails the verifier: " + v.value_or(""));
    // The payload re-encodes byte for byte: nothing in the file is ignored or
    // normalised (a signed bundle differs only in flags and signature block).
    const auto again = rt::write_bundle(img);
    const bool is_signed = (bytes[10] | (bytes[11] << 8)) & bf::flag_signed;
    if (!is_signed) {
        DOCKPOL_FUZZ_CHECK(again == bytes, "write(load(b)) != b");
    } else {
        const std::size_t payload = again.size() - bf::header_size - bf::digest_size;
        DOCKPOL_FUZZ_CHECK(bytes.size() == again.size() + bf::signature_block_size &&
                               std::equal(again.begin() + bf::header_size, again.end() - bf::digest_size,
                                          bytes.begin() + bf::header_size) &&
                               payload + bf::header_size <= bytes.size(),
                           "signed bundle: payload of write(load(b)) differs from b's");
    }
    return 0;
}

} // namespace bundle_load_fuzz

#undef DOCKPOL_FUZZ_TARGET
