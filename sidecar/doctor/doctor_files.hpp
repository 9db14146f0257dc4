// Doctor checks of dockpold's own files: a readable private key lets anyone
// act as the sidecar, an expiring certificate takes every user down, and an
// old or unsigned bundle means the policy hosts enforce is not the reviewed one.
#pragma once
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "dockpol/rt/bundle.hpp"
#include "dockpol/rt/signature.hpp"
#include "doctor_access.hpp"
#include "doctor_env.hpp"
#include "doctor_finding.hpp"

namespace dockpol::sidecar::doctor {

// Renewal needs lead time: certificates closer than this to expiry are reported.
inline constexpr int cert_warn_days = 30;
// A host polls every 30 s; a bundle a week old means distribution stopped (or nobody changed policy — check).
inline constexpr int bundle_warn_days = 7;

inline std::string octal_mode(mode_t m) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(m & 07777));
    return buf;
}

inline void check_tls_key(const environment& env, findings& out) {
    if (!env.tls_key) return;
    struct stat st {};
    if (::stat(env.tls_key->c_str(), &st) != 0) {
        out.push_back({"tls_key", severity::error, "dockpold's key " + *env.tls_key + " does not exist",
                       "point --tls-key at the server key"});
        return;
    }
    std::string own_gid;
    for (const auto& g : detail::read_groups(env))
        if (g.name == env.account) own_gid = g.gid;
    const bool others = (st.st_mode & (S_IROTH | S_IWOTH)) != 0;
    // Group read is how the service account gets the key when root owns it; any other group is too wide.
    const bool foreign_group = (st.st_mode & (S_IRGRP | S_IWGRP)) != 0 && std::to_string(st.st_gid) != own_gid;
    if (others || foreign_group)
        out.push_back({"tls_key", severity::error,
                       "dockpold's private key " + *env.tls_key + " has mode " + octal_mode(st.st_mode) +
                           (others ? ": every local user can read it" : ": a group other than '" + env.account +
                                                                            "' can read it") +
                           " and impersonate the sidecar",
                       "chmod 0640 " + *env.tls_key + " and chown root:" + env.account + " " + *env.tls_key});
}

inline void check_tls_cert(const environment& env, findings& out, std::time_t now = std::time(nullptr)) {
    if (!env.tls_cert) return;
    std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(env.tls_cert->c_str(), "r"), &std::fclose);
    if (!f) {
        out.push_back({"tls_cert", severity::error, "dockpold's certificate " + *env.tls_cert + " cannot be read",
                       "point --tls-cert at the server certificate"});
        return;
    }
    std::unique_ptr<X509, void (*)(X509*)> cert(PEM_read_X509(f.get(), nullptr, nullptr, nullptr), &X509_free);
    if (!cert) {
        out.push_back({"tls_cert", severity::error, *env.tls_cert + " is not a PEM certificate",
                       "point --tls-cert at the server certificate"});
        return;
    }
    int days = 0, secs = 0;
    std::unique_ptr<ASN1_TIME, void (*)(ASN1_TIME*)> now_t(ASN1_TIME_set(nullptr, now), &ASN1_TIME_free);
    if (!now_t || ASN1_TIME_diff(&days, &secs, now_t.get(), X509_get0_notAfter(cert.get())) != 1) return;
    if (days < 0 || (days == 0 && secs <= 0)) {
        out.push_back({"tls_cert", severity::error,
                       "dockpold's certificate " + *env.tls_cert + " expired " + std::to_string(-days) +
                           " day(s) ago: every docker client is refused",
                       "issue a new server certificate (examples/certs/make-certs.sh) and reload: systemctl reload "
                       "dockpold or docker kill -s HUP dockpold"});
    } else if (days < cert_warn_days) {
        out.push_back({"tls_cert", severity::warning,
                       "dockpold's certificate " + *env.tls_cert + " expires in " + std::to_string(days) + " day(s)",
                       "issue a new server certificate now and reload dockpold (SIGHUP)"});
    }
}

inline void check_bundle(const environment& env, findings& out, std::time_t now = std::time(nullptr)) {
    if (!env.bundle) return;
    const std::string& path = *env.bundle;
    struct stat st {};
    // One byte past the loader's bound: a bundle too big is then refused by the loader, with the limit named.
    auto bytes_text = read_host_file(path, rt::limits::max_bundle_bytes + 1);
    if (::stat(path.c_str(), &st) != 0 || !bytes_text) {
        out.push_back({"bundle", severity::error, "bundle " + path + " cannot be read",
                       "point --bundle at the file dockpold loads (or its --bundle-cache)"});
        return;
    }
    const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(bytes_text->data()),
                                              bytes_text->size());
    std::vector<rt::public_key> keys;
    for (const auto& k : env.bundle_pubkeys) {
        auto pk = rt::load_public_key_pem(k);
        if (auto* e = std::get_if<std::string>(&pk)) {
            out.push_back({"bundle_signature", severity::error, "public key " + k + ": " + *e,
                           "pass the PEM public key that matches the CI signing key"});
            return;
        }
        keys.push_back(std::get<rt::public_key>(std::move(pk)));
    }
    auto loaded = rt::load_bundle(bytes, keys);
    if (!loaded.prog) {
        out.push_back({"bundle_signature", severity::error, "bundle " + path + " is rejected: " + loaded.error,
                       "publish a bundle built and signed by the policy repository's CI"});
        return;
    }
    // The header's flags word (offset 10, little-endian) says whether a signature block follows.
    const bool is_signed = bytes.size() > 10 && (bytes[10] & rt::bundle_format::flag_signed) != 0;
    if (keys.empty())
        out.push_back({"bundle_signature", severity::warning,
                       std::string("bundle ") + path + (is_signed ? " is signed, but" : " is unsigned, and") +
                           " no --bundle-pubkey was given: whoever can replace the file or its URL sets the policy",
                       "run dockpold with --bundle-pubkey naming the CI signing key's public half"});
    const auto age_days = static_cast<long>((now - st.st_mtime) / 86400);
    if (age_days >= bundle_warn_days)
        out.push_back({"bundle_age", severity::warning,
                       "bundle " + path + " was last written " + std::to_string(age_days) + " days ago",
                       "check that --bundle-url polling works (GET /v1/status on the admin port shows last_error)"});
}

} // namespace dockpol::sidecar::doctor
