// Where each part of a bundle file lies: the header fields, every section, the
// signature block and the digest (the format itself is in bundle.hpp). For
// tools that cut or patch bundles: `dockpolc inspect --format json` prints it,
// so the hot-swap tests and the fuzz corpus tool read the layout instead of
// re-typing it. The loader does not use it.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "dockpol/rt/bundle.hpp"

namespace dockpol::rt {

struct byte_range {
    std::size_t offset = 0;
    std::size_t size = 0;
};

// One fixed-width header field (bundle.hpp's header line, as data).
struct header_field {
    std::string_view name;
    byte_range at;
};

inline constexpr std::array<header_field, 4> bundle_header_fields = {{
    {"magic", {0, bundle_format::magic.size()}},
    {"version", {8, 2}},
    {"flags", {10, 2}},
    {"payload_length", {12, 4}},
}};
static_assert(bundle_header_fields.back().at.offset + bundle_header_fields.back().at.size == bundle_format::header_size,
              "the header fields must tile the header");

// Key id, then the Ed25519 signature, inside the signature block.
inline constexpr std::size_t signature_key_id_size = 8;
static_assert(signature_key_id_size + 64 == bundle_format::signature_block_size);

struct bundle_section_layout {
    std::string_view name;
    std::uint32_t tag = 0;
    byte_range content;   // the section's bytes; its u32 tag and u32 length are the 8 bytes before
};

struct bundle_layout {
    std::size_t size = 0;                    // the whole file
    std::uint16_t version = 0;
    std::uint16_t flags = 0;
    byte_range payload;
    std::vector<bundle_section_layout> sections;
    std::optional<byte_range> signature;     // when flags has `signed`
    byte_range digest;
};

// The layout of `bytes`, or nullopt when its framing does not hold (header,
// lengths, section tags in order). Contents are not checked: load first.
inline std::optional<bundle_layout> layout_of(std::span<const std::uint8_t> bytes) {
    using namespace bundle_format;
    using detail::bundle_impl::read_u32_at;
    if (bytes.size() < header_size + digest_size) return std::nullopt;
    bundle_layout out;
    out.size = bytes.size();
    out.version = static_cast<std::uint16_t>(bytes[8] | bytes[9] << 8);
    out.flags = static_cast<std::uint16_t>(bytes[10] | bytes[11] << 8);
    out.payload = {header_size, read_u32_at(bytes, 12)};
    const std::size_t sig_size = (out.flags & flag_signed) ? signature_block_size : 0;
    if (header_size + out.payload.size + sig_size + digest_size != bytes.size()) return std::nullopt;
    if (sig_size) out.signature = byte_range{header_size + out.payload.size, sig_size};
    out.digest = {bytes.size() - digest_size, digest_size};

    std::size_t at = header_size;
    const std::size_t end = header_size + out.payload.size;
    for (const auto& s : detail::bundle_impl::sections) {
        if (end - at < 8 || read_u32_at(bytes, at) != static_cast<std::uint32_t>(s.t)) return std::nullopt;
        const std::size_t len = read_u32_at(bytes, at + 4);
        if (end - at - 8 < len) return std::nullopt;
        out.sections.push_back({s.name, static_cast<std::uint32_t>(s.t), {at + 8, len}});
        at += 8 + len;
    }
    if (at != end) return std::nullopt;
    return out;
}

} // namespace dockpol::rt
