// The server's mutual-TLS context: TLS ≥ 1.2, a client certificate signed by
// --tls-client-ca is required (optionally checked against --tls-crl), and a
// certificate without a usable identity fails the handshake itself.
// Contexts are immutable once built; SIGHUP builds a new one and swaps it.
#pragma once
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "identity.hpp"
#include "metrics.hpp"

namespace dockpol::sidecar {

struct tls_files {
    std::string cert, key, client_ca;
    std::optional<std::string> crl;
};

// Owns one SSL_CTX.
class tls_context {
public:
    explicit tls_context(SSL_CTX* ctx) : ctx_(ctx) {}
    tls_context(const tls_context&) = delete;
    tls_context& operator=(const tls_context&) = delete;
    ~tls_context() { SSL_CTX_free(ctx_); }
    SSL_CTX* native() const { return ctx_; }

private:
    SSL_CTX* ctx_;
};

namespace detail {

inline std::string openssl_error() {
    unsigned long e = ERR_get_error();
    ERR_clear_error();
    if (!e) return "unknown OpenSSL error";
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    return buf;
}

// The leaf must carry an identity; refusing here makes the client see a handshake alert, not a 403.
inline int verify_identity(int preverify_ok, X509_STORE_CTX* store) {
    if (!preverify_ok) return 0;
    if (X509_STORE_CTX_get_error_depth(store) != 0) return 1;
    auto id = identity_from_cert(X509_STORE_CTX_get_current_cert(store));
    if (id.index() == 1) {
        X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
        return 0;
    }
    return 1;
}

inline std::optional<std::string> load_crl(SSL_CTX* ctx, const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "r");
    if (!f) return "--tls-crl " + path + ": cannot open file";
    X509_STORE* store = SSL_CTX_get_cert_store(ctx);
    int loaded = 0;
    while (X509_CRL* crl = PEM_read_X509_CRL(f, nullptr, nullptr, nullptr)) {
        X509_STORE_add_crl(store, crl);
        X509_CRL_free(crl);
        ++loaded;
    }
    std::fclose(f);
    ERR_clear_error();
    if (loaded == 0) return "--tls-crl " + path + ": no PEM X509 CRL found (convert with `openssl crl -outform PEM`)";
    // Only the leaf is checked: the CRL is the one --tls-client-ca's CA issues.
    X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
    return std::nullopt;
}

} // namespace detail

// Builds a context from the files, or one line naming the file that is wrong and why.
inline std::variant<std::shared_ptr<const tls_context>, std::string> make_tls_context(const tls_files& f) {
    using result = std::variant<std::shared_ptr<const tls_context>, std::string>;
    ERR_clear_error();
    SSL_CTX* raw = SSL_CTX_new(TLS_server_method());
    if (!raw) return result(std::in_place_index<1>, "cannot create TLS context: " + detail::openssl_error());
    auto ctx = std::make_shared<tls_context>(raw);
    SSL_CTX_set_min_proto_version(raw, TLS1_2_VERSION);
    // Forward secrecy only, and no renegotiation (a client could otherwise swap certificates mid-connection).
    SSL_CTX_set_options(raw, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION |
                                 SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_cipher_list(raw, "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!eNULL");
    // Hijacked streams read while writing: writes must tolerate partial completion and a moved buffer.
    // Idle connections hand their record buffers back (about 64 KiB each) until the next record.
    SSL_CTX_set_mode(raw, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    // Read whole socket buffers at once instead of a record header then its body: half the read syscalls.
    SSL_CTX_set_read_ahead(raw, 1);
    if (SSL_CTX_use_certificate_chain_file(raw, f.cert.c_str()) != 1)
        return result(std::in_place_index<1>,
                      "--tls-cert " + f.cert + ": cannot load PEM certificate chain (" + detail::openssl_error() + ")");
    if (SSL_CTX_use_PrivateKey_file(raw, f.key.c_str(), SSL_FILETYPE_PEM) != 1)
        return result(std::in_place_index<1>, "--tls-key " + f.key + ": cannot load PEM private key (" + detail::openssl_error() + ")");
    if (SSL_CTX_check_private_key(raw) != 1)
        return result(std::in_place_index<1>, "--tls-key " + f.key + ": does not match the certificate in " + f.cert);
    if (SSL_CTX_load_verify_locations(raw, f.client_ca.c_str(), nullptr) != 1)
        return result(std::in_place_index<1>,
                      "--tls-client-ca " + f.client_ca + ": cannot load PEM CA certificates (" + detail::openssl_error() + ")");
    // Tell clients which CA to pick a certificate for (Go's client sends none when its CA is not listed).
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(f.client_ca.c_str()))
        SSL_CTX_set_client_CA_list(raw, names);
    ERR_clear_error();
    if (f.crl)
        if (auto err = detail::load_crl(raw, *f.crl)) return result(std::in_place_index<1>, *err);
    SSL_CTX_set_verify(raw, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, detail::verify_identity);
    SSL_CTX_set_verify_depth(raw, 8);
    static const unsigned char sid_ctx[] = "dockpold";
    SSL_CTX_set_session_id_context(raw, sid_ctx, sizeof sid_ctx - 1);
    // No resumption: every docker CLI run is a new process with an empty session cache, so tickets only
    // cost CPU (OpenSSL 3 re-encodes and decodes the session, client certificate included, for each
    // ticket: about a quarter of a handshake), and every connection re-checks its certificate against the
    // current CA and CRL.
    SSL_CTX_set_num_tickets(raw, 0);
    SSL_CTX_set_options(raw, SSL_OP_NO_TICKET);
    SSL_CTX_set_session_cache_mode(raw, SSL_SESS_CACHE_OFF);
    return result(std::in_place_index<0>, std::move(ctx));
}

// The current context; new connections take a snapshot, SIGHUP swaps in a new one.
class tls_context_store {
public:
    explicit tls_context_store(std::shared_ptr<const tls_context> c) : current_(std::move(c)) {}
    std::shared_ptr<const tls_context> snapshot() const { return current_.load(std::memory_order_acquire); }
    void replace(std::shared_ptr<const tls_context> c) { current_.store(std::move(c), std::memory_order_release); }

private:
    std::atomic<std::shared_ptr<const tls_context>> current_;
};

} // namespace dockpol::sidecar
