// Who a client is: user = the subject's single non-empty CN, groups = its O
// values (the Kubernetes convention). Taken from the verified client
// certificate only; never from headers.
#pragma once
#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace dockpol::sidecar {

// A CN or O longer than this is not a name a person or team would use (X.509's ub-common-name is 64).
inline constexpr std::size_t max_identity_text = 256;
// More O values than this is a malformed or hostile certificate, not a real group list.
inline constexpr std::size_t max_groups = 64;

struct identity {
    std::string user;
    std::vector<std::string> groups;
};

namespace detail {

// Names end up in denials and audit lines: reject control bytes and invalid UTF-8 instead of escaping surprises.
inline bool clean_utf8_text(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f) return false;
            ++i;
            continue;
        }
        std::size_t len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
        if (len == 0 || i + len > s.size()) return false;
        std::uint32_t cp = c & (len == 2 ? 0x1f : len == 3 ? 0x0f : 0x07);
        for (std::size_t k = 1; k < len; ++k) {
            auto d = static_cast<unsigned char>(s[i + k]);
            if ((d & 0xc0) != 0x80) return false;
            cp = (cp << 6) | (d & 0x3f);
        }
        // Overlong forms, surrogates and values above U+10FFFF are not text.
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        // C1 controls (U+0080..U+009F) are as invisible as C0 ones.
        if (cp >= 0x80 && cp <= 0x9f) return false;
        i += len;
    }
    return true;
}

// One name entry as UTF-8, or an error when it is not clean text.
inline std::variant<std::string, std::string> entry_text(X509_NAME_ENTRY* e, std::string_view what) {
    unsigned char* out = nullptr;
    int n = ASN1_STRING_to_UTF8(&out, X509_NAME_ENTRY_get_data(e));
    if (n < 0) return std::variant<std::string, std::string>(std::in_place_index<1>, std::string(what) + " is not decodable text");
    std::string s(reinterpret_cast<const char*>(out), static_cast<std::size_t>(n));
    OPENSSL_free(out);
    if (s.size() > max_identity_text)
        return std::variant<std::string, std::string>(std::in_place_index<1>, std::string(what) + " is longer than 256 bytes");
    if (!clean_utf8_text(s))
        return std::variant<std::string, std::string>(std::in_place_index<1>,
                                                      std::string(what) + " contains control characters or invalid UTF-8");
    return std::variant<std::string, std::string>(std::in_place_index<0>, std::move(s));
}

} // namespace detail

// The identity a certificate carries, or why it carries none.
inline std::variant<identity, std::string> identity_from_cert(X509* cert) {
    using result = std::variant<identity, std::string>;
    if (!cert) return result(std::in_place_index<1>, "no client certificate");
    X509_NAME* subject = X509_get_subject_name(cert);
    if (!subject) return result(std::in_place_index<1>, "certificate has no subject");
    identity id;
    int cn_count = 0;
    for (int i = 0, n = X509_NAME_entry_count(subject); i < n; ++i) {
        X509_NAME_ENTRY* e = X509_NAME_get_entry(subject, i);
        int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
        if (nid == NID_commonName) {
            // Two CNs would make "the user" ambiguous; refuse rather than pick one.
            if (++cn_count > 1) return result(std::in_place_index<1>, "subject has more than one CN");
            auto t = detail::entry_text(e, "subject CN");
            if (t.index() == 1) return result(std::in_place_index<1>, std::get<1>(t));
            id.user = std::move(std::get<0>(t));
        } else if (nid == NID_organizationName) {
            auto t = detail::entry_text(e, "subject O");
            if (t.index() == 1) return result(std::in_place_index<1>, std::get<1>(t));
            if (std::get<0>(t).empty()) continue;
            if (id.groups.size() >= max_groups) return result(std::in_place_index<1>, "subject has more than 64 O values");
            id.groups.push_back(std::move(std::get<0>(t)));
        }
    }
    if (cn_count == 0) return result(std::in_place_index<1>, "subject has no CN");
    if (id.user.empty()) return result(std::in_place_index<1>, "subject CN is empty");
    return result(std::in_place_index<0>, std::move(id));
}

} // namespace dockpol::sidecar
