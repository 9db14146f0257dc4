// Identity from client certificates generated here: user = the single CN, groups = the O values.
#include <catch2/catch.hpp>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>

#include "proxy/identity.hpp"

// Each test file is its own namespace: the test executables are unity builds.
namespace sidecar_identity_test {

using namespace dockpol::sidecar;

namespace {

using x509_ptr = std::unique_ptr<X509, decltype(&X509_free)>;

struct entry {
    int nid;
    std::string value;
    // A plain ASN.1 type stores the bytes as given (no length table), so hostile subjects can be built.
    int type = V_ASN1_UTF8STRING;
};

// A self-signed P-256 certificate with the subject entries in order.
x509_ptr make_cert(const std::vector<entry>& subject) {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    REQUIRE(key);
    x509_ptr cert(X509_new(), X509_free);
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
    X509_set_pubkey(cert.get(), key);
    X509_NAME* name = X509_get_subject_name(cert.get());
    for (const auto& e : subject)
        REQUIRE(X509_NAME_add_entry_by_NID(name, e.nid, e.type,
                                           reinterpret_cast<const unsigned char*>(e.value.data()),
                                           static_cast<int>(e.value.size()), -1, 0) == 1);
    X509_set_issuer_name(cert.get(), name);
    REQUIRE(X509_sign(cert.get(), key, EVP_sha256()) > 0);
    EVP_PKEY_free(key);
    return cert;
}

std::string refusal(const std::vector<entry>& subject) {
    auto cert = make_cert(subject);
    auto r = identity_from_cert(cert.get());
    REQUIRE(r.index() == 1);
    return std::get<1>(r);
}

} // namespace

TEST_CASE("CN is the user and every O is a group, in order") {
    auto cert = make_cert({{NID_organizationName, "admins"}, {NID_organizationName, "dev"},
                           {NID_organizationalUnitName, "not-a-group"}, {NID_commonName, "alice"}});
    auto r = identity_from_cert(cert.get());
    REQUIRE(r.index() == 0);
    const auto& id = std::get<0>(r);
    CHECK(id.user == "alice");
    CHECK(id.groups == std::vector<std::string>{"admins", "dev"});
}

TEST_CASE("a certificate without O has no groups") {
    auto cert = make_cert({{NID_commonName, "bruce@example.com"}});
    auto r = identity_from_cert(cert.get());
    REQUIRE(r.index() == 0);
    CHECK(std::get<0>(r).user == "bruce@example.com");
    CHECK(std::get<0>(r).groups.empty());
}

TEST_CASE("non-ASCII names arrive as UTF-8 whatever the ASN.1 string type") {
    auto cert = make_cert({{NID_commonName, "J\xc3\xbcrgen"}, {NID_organizationName, "\xc3\xa9quipe", MBSTRING_UTF8}, {NID_organizationName, "ops", MBSTRING_ASC}});
    auto r = identity_from_cert(cert.get());
    REQUIRE(r.index() == 0);
    CHECK(std::get<0>(r).user == "J\xc3\xbcrgen");
    CHECK(std::get<0>(r).groups == std::vector<std::string>{"\xc3\xa9quipe", "ops"});
}

TEST_CASE("certificates without a usable identity are refused with a reason") {
    CHECK(identity_from_cert(nullptr).index() == 1);
    CHECK(refusal({{NID_organizationName, "dev"}}) == "subject has no CN");
    CHECK(refusal({{NID_commonName, "a"}, {NID_commonName, "b"}}) == "subject has more than one CN");
    CHECK(refusal({{NID_commonName, ""}}) == "subject CN is empty");
    CHECK(refusal({{NID_commonName, "ali\nce"}}) == "subject CN contains control characters or invalid UTF-8");
    CHECK(refusal({{NID_commonName, "alice"}, {NID_organizationName, "d\x7f" "ev"}}) ==
          "subject O contains control characters or invalid UTF-8");
    CHECK(refusal({{NID_commonName, std::string(max_identity_text + 1, 'a')}}) ==
          "subject CN is longer than 256 bytes");
}

TEST_CASE("the group count limit holds at its bound") {
    std::vector<entry> subject{{NID_commonName, "many"}};
    for (std::size_t i = 0; i < max_groups; ++i) subject.push_back({NID_organizationName, "g" + std::to_string(i)});
    auto ok = make_cert(subject);
    auto r = identity_from_cert(ok.get());
    REQUIRE(r.index() == 0);
    CHECK(std::get<0>(r).groups.size() == max_groups);
    subject.push_back({NID_organizationName, "one-too-many"});
    CHECK(refusal(subject) == "subject has more than 64 O values");
}

TEST_CASE("UTF-8 validation rejects overlongs, surrogates and C1 controls") {
    CHECK(detail::clean_utf8_text("plain"));
    CHECK(detail::clean_utf8_text("\xe2\x82\xac"));          // €
    CHECK(detail::clean_utf8_text("\xf0\x9f\x90\xb3"));      // 🐳
    CHECK_FALSE(detail::clean_utf8_text("\xc0\xaf"));        // overlong '/'
    CHECK_FALSE(detail::clean_utf8_text("\xe0\x80\xaf"));    // overlong 3-byte
    CHECK_FALSE(detail::clean_utf8_text("\xed\xa0\x80"));    // surrogate
    CHECK_FALSE(detail::clean_utf8_text("\xc2\x85"));        // NEL, a C1 control
    CHECK_FALSE(detail::clean_utf8_text("\xf5\x80\x80\x80")); // beyond U+10FFFF
    CHECK_FALSE(detail::clean_utf8_text("\xe2\x82"));        // truncated
}

} // namespace sidecar_identity_test
