// The tamper-evident audit chain (docs/request-model.md#tamper-evident-chain),
// shared by dockpold's audit writer and `dockpolc audit-verify`: the hash that
// links each line to the one before it, the checkpoint line and the exact
// bytes its Ed25519 signature covers. Writer and verifier both use these, so
// they cannot disagree on a byte.
#pragma once
#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <openssl/evp.h>

#include "dockpol/rt/sha256.hpp"
#include "dockpol/rt/signature.hpp"

namespace dockpol::rt::audit_chain {

// A checkpoint every this many audit lines bounds how much a crash leaves unsealed under load.
inline constexpr std::uint64_t checkpoint_every_lines = 1000;
// ... and at most this long after the first unsealed line, so a quiet log is sealed within a minute.
inline constexpr std::chrono::seconds checkpoint_every{60};

// The `prev` of a chain's first line: nothing came before it.
inline constexpr std::string_view genesis_prev = "0000000000000000000000000000000000000000000000000000000000000000";

// Prefixed to the signed bytes, so a checkpoint signature can never pass as a bundle signature or anything else.
inline constexpr std::string_view signing_context = "dockpol audit checkpoint v1\n";

inline constexpr std::string_view prev_key = "prev";
inline constexpr std::string_view sig_key = "sig";
inline constexpr std::string_view checkpoint_key = "checkpoint";

// Why a checkpoint was written; each kind has its place in a file (the verifier checks it).
enum class checkpoint_kind : std::uint8_t { start, periodic, close, rotate, stop };

struct checkpoint_kind_row {
    checkpoint_kind kind;
    std::string_view name;
};

inline constexpr checkpoint_kind_row checkpoint_kinds[] = {
    // dockpold opened the log at start-up: counts restart at 0; `prev` is the file's last line (genesis when empty).
    {checkpoint_kind::start, "start"},
    // every checkpoint_every_lines lines or checkpoint_every seconds, whichever comes first.
    {checkpoint_kind::periodic, "periodic"},
    // the last line of a file that SIGUSR1 rotated away.
    {checkpoint_kind::close, "close"},
    // the first line of the file opened after SIGUSR1: `prev` is the old file's last line (its `close`).
    {checkpoint_kind::rotate, "rotate"},
    // the last line written on a clean stop (SIGTERM/SIGINT).
    {checkpoint_kind::stop, "stop"},
};

inline constexpr std::string_view kind_name(checkpoint_kind k) {
    for (const auto& r : checkpoint_kinds)
        if (r.kind == k) return r.name;
    return "?";
}

inline constexpr std::optional<checkpoint_kind> kind_of(std::string_view name) {
    for (const auto& r : checkpoint_kinds)
        if (r.name == name) return r.kind;
    return std::nullopt;
}

struct checkpoint {
    checkpoint_kind kind = checkpoint_kind::periodic;
    std::uint64_t seq = 0;       // checkpoints since this dockpold started writing (start is 0)
    std::uint64_t lines = 0;     // audit lines written since start (checkpoints not counted)
    std::uint64_t dropped = 0;   // audit lines the full queue dropped since start (never written)
    std::string time;            // RFC 3339 UTC, when it was written
    std::string key_id;          // the signing key's id; "" when unsigned
    std::string prev;            // hash of the line before
};

// The link: lowercase hex SHA-256 of a whole line without its newline.
inline std::string line_hash(std::string_view line) { return sha256_hex(line); }

inline bool is_hash_text(std::string_view s) {
    if (s.size() != 64) return false;
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

// `{…}` becomes `{…,"prev":"HASH"}`; nullopt when `line` (no newline) is not a one-line object.
inline std::optional<std::string> with_prev(std::string_view line, std::string_view prev) {
    if (line.size() < 2 || line.front() != '{' || line.back() != '}') return std::nullopt;
    if (line.find('\n') != std::string_view::npos) return std::nullopt;
    std::string out;
    out.reserve(line.size() + 80);
    out.append(line.substr(0, line.size() - 1));
    if (line.size() > 2) out.push_back(',');
    out += "\"prev\":\"";
    out += prev;
    out += "\"}";
    return out;
}

namespace detail {

inline std::string base64(std::span<const std::uint8_t> bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3), '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(), static_cast<int>(bytes.size()));
    out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return out;
}

// Exactly the 88 characters a 64-byte signature encodes to; anything else is no signature.
inline std::optional<ed25519_signature> signature_from_base64(std::string_view text) {
    if (text.size() != 88 || text.substr(86) != "==") return std::nullopt;
    std::array<std::uint8_t, 66> raw{};
    if (EVP_DecodeBlock(raw.data(), reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size())) != 66)
        return std::nullopt;
    ed25519_signature sig{};
    for (std::size_t i = 0; i < sig.size(); ++i) sig[i] = raw[i];
    return sig;
}

inline std::span<const std::uint8_t> bytes_of(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

} // namespace detail

// The checkpoint line without its signature, which is also what the signature covers (after signing_context):
// {"checkpoint":{"kind":K,"seq":N,"lines":N,"dropped":N,"time":T[,"key_id":ID]},"prev":H}
inline std::string unsigned_checkpoint_line(const checkpoint& c) {
    std::string out = "{\"checkpoint\":{\"kind\":\"";
    out += kind_name(c.kind);
    out += "\",\"seq\":" + std::to_string(c.seq) + ",\"lines\":" + std::to_string(c.lines) +
           ",\"dropped\":" + std::to_string(c.dropped) + ",\"time\":\"" + c.time + "\"";
    if (!c.key_id.empty()) out += ",\"key_id\":\"" + c.key_id + "\"";
    out += "},\"prev\":\"" + c.prev + "\"}";
    return out;
}

inline std::string signing_input(std::string_view unsigned_line) {
    std::string in(signing_context);
    in += unsigned_line;
    return in;
}

// The line as written (no newline): unsigned without a key, else with `,"sig":"BASE64"` before the final brace.
// nullopt only when OpenSSL cannot sign.
inline std::optional<std::string> checkpoint_line(checkpoint c, const signing_key* key) {
    c.key_id = key ? key->key_id : std::string();
    std::string line = unsigned_checkpoint_line(c);
    if (!key) return line;
    auto sig = sign(*key, detail::bytes_of(signing_input(line)));
    if (!sig) return std::nullopt;
    line.pop_back();
    line += ",\"sig\":\"" + detail::base64(*sig) + "\"}";
    return line;
}

// A written checkpoint line split into the bytes its signature covers and the signature text.
struct signed_parts {
    std::string unsigned_line;
    std::string sig_base64;   // "" when the line has no `sig`
};

// The `sig` is always the last member: strip `,"sig":"…"}` and close the object again.
inline signed_parts split_signature(std::string_view line) {
    static constexpr std::string_view marker = ",\"sig\":\"";
    const auto at = line.rfind(marker);
    if (at == std::string_view::npos || !line.ends_with("\"}")) return {std::string(line), {}};
    const auto sig = line.substr(at + marker.size(), line.size() - 2 - (at + marker.size()));
    if (sig.find('"') != std::string_view::npos) return {std::string(line), {}};
    return {std::string(line.substr(0, at)) + "}", std::string(sig)};
}

// Whether `key` signed this checkpoint line.
inline bool signed_by(const signed_parts& parts, const public_key& key) {
    auto sig = detail::signature_from_base64(parts.sig_base64);
    if (!sig) return false;
    return verify_signature(key, detail::bytes_of(signing_input(parts.unsigned_line)), *sig);
}

} // namespace dockpol::rt::audit_chain
