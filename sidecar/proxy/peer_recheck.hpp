// Checks an open connection's client certificate again against a newly loaded
// CA/CRL (SIGHUP): revocation must reach keep-alive connections and tunnels,
// not only new handshakes. The chain is kept from the handshake.
#pragma once
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <memory>
#include <optional>
#include <string>

#include "identity.hpp"

namespace dockpol::sidecar {

// The peer's leaf and the intermediates it sent, with their own references.
class peer_chain {
public:
    peer_chain() = default;
    explicit peer_chain(SSL* ssl) {
        if (X509* leaf = SSL_get0_peer_certificate(ssl)) {
            X509_up_ref(leaf);
            leaf_.reset(leaf);
        }
        // On the server side the stack excludes the leaf; it may be null.
        if (STACK_OF(X509)* c = SSL_get_peer_cert_chain(ssl)) chain_.reset(X509_chain_up_ref(c));
    }
    X509* leaf() const { return leaf_.get(); }
    STACK_OF(X509)* chain() const { return chain_.get(); }

private:
    struct x509_free { void operator()(X509* x) const { X509_free(x); } };
    struct chain_free { void operator()(STACK_OF(X509)* s) const { sk_X509_pop_free(s, X509_free); } };
    std::unique_ptr<X509, x509_free> leaf_;
    std::unique_ptr<STACK_OF(X509), chain_free> chain_;
};

// nullopt when `ctx`'s trust store (CA, CRL, flags) still accepts the peer; else why not.
inline std::optional<std::string> recheck_peer(SSL_CTX* ctx, const peer_chain& p) {
    if (!p.leaf()) return std::string("no client certificate");
    X509_STORE_CTX* vc = X509_STORE_CTX_new();
    if (!vc) return std::string("cannot allocate a verification context");
    std::optional<std::string> why;
    if (X509_STORE_CTX_init(vc, SSL_CTX_get_cert_store(ctx), p.leaf(), p.chain()) != 1) {
        why = "cannot initialise verification";
    } else {
        // The handshake verified with the TLS client purpose; the re-check must not be laxer.
        X509_STORE_CTX_set_purpose(vc, X509_PURPOSE_SSL_CLIENT);
        if (X509_verify_cert(vc) != 1) why = X509_verify_cert_error_string(X509_STORE_CTX_get_error(vc));
    }
    X509_STORE_CTX_free(vc);
    if (!why && identity_from_cert(p.leaf()).index() != 0) why = "certificate carries no usable identity";
    return why;
}

} // namespace dockpol::sidecar
