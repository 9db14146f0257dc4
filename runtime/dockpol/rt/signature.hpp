// Ed25519 keys and signatures through OpenSSL EVP. A key id is the first
// 8 bytes of SHA-256 over the raw 32-byte public key (16 hex digits); the
// bundle stores those 8 bytes so the loader can pick the key to check with.
#pragma once
#include <array>
#include <cstdint>
#include <fstream>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "dockpol/rt/limits.hpp"
#include "dockpol/rt/sha256.hpp"

namespace dockpol::rt {

using key_id_bytes = std::array<std::uint8_t, 8>;
using ed25519_signature = std::array<std::uint8_t, 64>;

struct public_key {
    std::string key_id;           // 16 hex digits
    key_id_bytes id{};
    std::shared_ptr<EVP_PKEY> pkey;
};

struct signing_key {
    std::string key_id;
    key_id_bytes id{};
    std::shared_ptr<EVP_PKEY> pkey;
};

namespace detail::sig_impl {

inline std::shared_ptr<EVP_PKEY> own(EVP_PKEY* k) { return {k, [](EVP_PKEY* p) { EVP_PKEY_free(p); }}; }

struct bio_deleter { void operator()(BIO* b) const { BIO_free(b); } };

// Fills the key id from the raw public key; false when the key is not Ed25519.
inline bool key_id_of(EVP_PKEY* k, key_id_bytes& id, std::string& hex) {
    if (!k || EVP_PKEY_id(k) != EVP_PKEY_ED25519) return false;
    std::array<std::uint8_t, 32> raw{};
    std::size_t len = raw.size();
    if (EVP_PKEY_get_raw_public_key(k, raw.data(), &len) != 1 || len != raw.size()) return false;
    auto d = sha256(std::span<const std::uint8_t>(raw));
    for (std::size_t i = 0; i < id.size(); ++i) id[i] = d[i];
    hex = to_hex(id);
    return true;
}

inline std::variant<std::string, std::string> read_small_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::variant<std::string, std::string>(std::in_place_index<1>, "cannot open " + path);
    std::string text;
    char buf[4096];
    while (in.read(buf, sizeof buf) || in.gcount() > 0) {
        text.append(buf, static_cast<std::size_t>(in.gcount()));
        if (text.size() > limits::max_key_file_bytes)
            return std::variant<std::string, std::string>(std::in_place_index<1>, path + ": larger than " +
                                                          std::to_string(limits::max_key_file_bytes) + " bytes, not a key");
    }
    return std::variant<std::string, std::string>(std::in_place_index<0>, std::move(text));
}

inline std::string pem_of(EVP_PKEY* k, bool priv) {
    std::unique_ptr<BIO, bio_deleter> bio(BIO_new(BIO_s_mem()));
    if (!bio) return {};
    int rc = priv ? PEM_write_bio_PrivateKey(bio.get(), k, nullptr, nullptr, 0, nullptr, nullptr)
                  : PEM_write_bio_PUBKEY(bio.get(), k);
    if (rc != 1) return {};
    char* data = nullptr;
    long n = BIO_get_mem_data(bio.get(), &data);
    return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

} // namespace detail::sig_impl

inline std::variant<public_key, std::string> parse_public_key_pem(std::string_view pem) {
    std::unique_ptr<BIO, detail::sig_impl::bio_deleter> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!bio) return std::string("out of memory");
    EVP_PKEY* k = PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
    if (!k) return std::string("not a PEM public key");
    public_key pk;
    pk.pkey = detail::sig_impl::own(k);
    if (!detail::sig_impl::key_id_of(k, pk.id, pk.key_id)) return std::string("not an Ed25519 public key");
    return pk;
}

inline std::variant<signing_key, std::string> parse_signing_key_pem(std::string_view pem) {
    std::unique_ptr<BIO, detail::sig_impl::bio_deleter> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!bio) return std::string("out of memory");
    EVP_PKEY* k = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
    if (!k) return std::string("not a PEM private key");
    signing_key sk;
    sk.pkey = detail::sig_impl::own(k);
    if (!detail::sig_impl::key_id_of(k, sk.id, sk.key_id)) return std::string("not an Ed25519 private key");
    return sk;
}

inline std::variant<public_key, std::string> load_public_key_pem(const std::string& path) {
    auto text = detail::sig_impl::read_small_file(path);
    if (text.index() == 1) return std::get<1>(text);
    auto r = parse_public_key_pem(std::get<0>(text));
    if (auto* e = std::get_if<std::string>(&r)) return path + ": " + *e;
    return r;
}

inline std::variant<signing_key, std::string> load_signing_key_pem(const std::string& path) {
    auto text = detail::sig_impl::read_small_file(path);
    if (text.index() == 1) return std::get<1>(text);
    auto r = parse_signing_key_pem(std::get<0>(text));
    if (auto* e = std::get_if<std::string>(&r)) return path + ": " + *e;
    return r;
}

// A fresh Ed25519 key (for `dockpolc keygen` and tests).
inline std::variant<signing_key, std::string> generate_signing_key() {
    EVP_PKEY* k = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
    if (!k) return std::string("Ed25519 key generation failed");
    signing_key sk;
    sk.pkey = detail::sig_impl::own(k);
    if (!detail::sig_impl::key_id_of(k, sk.id, sk.key_id)) return std::string("Ed25519 key generation failed");
    return sk;
}

// The public half of a signing key (shares the EVP_PKEY, which holds both).
inline public_key public_of(const signing_key& sk) { return public_key{sk.key_id, sk.id, sk.pkey}; }

// PKCS#8 PEM of the private key, and SubjectPublicKeyInfo PEM of the public key.
inline std::string signing_key_pem(const signing_key& sk) { return detail::sig_impl::pem_of(sk.pkey.get(), true); }
inline std::string public_key_pem(const public_key& pk) { return detail::sig_impl::pem_of(pk.pkey.get(), false); }

inline std::optional<ed25519_signature> sign(const signing_key& sk, std::span<const std::uint8_t> data) {
    std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, sk.pkey.get()) != 1) return std::nullopt;
    ed25519_signature sig{};
    std::size_t len = sig.size();
    if (EVP_DigestSign(ctx.get(), sig.data(), &len, data.data(), data.size()) != 1 || len != sig.size())
        return std::nullopt;
    return sig;
}

inline bool verify_signature(const public_key& pk, std::span<const std::uint8_t> data,
                             std::span<const std::uint8_t> sig) {
    if (!pk.pkey || sig.size() != 64) return false;
    std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pk.pkey.get()) != 1) return false;
    return EVP_DigestVerify(ctx.get(), sig.data(), sig.size(), data.data(), data.size()) == 1;
}

} // namespace dockpol::rt
