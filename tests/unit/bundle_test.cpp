// Bundle format: byte-identical round trip; every single-byte change and every
// truncation rejected with a reason (never a crash, never a changed
// decision); signed / unsigned / wrong key / tampered; section structure;
// the bundle size limit.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>

#include "dockpol/dsl/lower.hpp"
#include "dockpol/rt/bundle.hpp"
#include "dockpol/rt/disasm.hpp"
#include "fixtures/backend/sample_policy.hpp"

// Each test file is its own namespace: the test executables are unity builds.
namespace bundle_test {

using namespace dockpol;
using bytes = std::vector<std::uint8_t>;

namespace {

rt::program_image sample_image() {
    auto im = dsl::lower(test_ast::sample_policy(), test_ast::test_manifest());
    im.safe_host_paths = {"/srv/builds", "/srv/data"};
    im.safe_volume_drivers = {"nfs"};
    // Ownership: an owner label and one `allow own` rule, so every byte of both is covered.
    im.owner_label = "dockpol.owner";
    for (auto& r : im.rules)
        if (im.strings[r.name] == "admins") r.own = true;
    auto e = rt::verify(im);
    INFO((e ? *e : ""));
    REQUIRE_FALSE(e);
    return im;
}

const rt::signing_key& test_key(int which = 0) {
    static const rt::signing_key keys[2] = {std::get<rt::signing_key>(rt::generate_signing_key()),
                                            std::get<rt::signing_key>(rt::generate_signing_key())};
    return keys[which];
}

// Recomputes the trailing digest, as an attacker (or a buggy tool) could.
void redigest(bytes& b) {
    auto d = rt::sha256(std::span<const std::uint8_t>(b.data(), b.size() - 32));
    std::copy(d.begin(), d.end(), b.end() - 32);
}

std::uint32_t get_u32(const bytes& b, std::size_t at) {
    return b[at] | b[at + 1] << 8 | b[at + 2] << 16 | static_cast<std::uint32_t>(b[at + 3]) << 24;
}
void put_u32(bytes& b, std::size_t at, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) b[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
}

// The payload's sections (tag, body), for structural tampering.
using sections = std::vector<std::pair<std::uint32_t, bytes>>;
sections split(const bytes& b) {
    sections out;
    std::size_t at = 16, end = 16 + get_u32(b, 12);
    while (at < end) {
        auto t = get_u32(b, at), n = get_u32(b, at + 4);
        out.push_back({t, bytes(b.begin() + at + 8, b.begin() + at + 8 + n)});
        at += 8 + n;
    }
    return out;
}
// An unsigned bundle from (possibly tampered) sections, with a correct digest.
bytes join(const bytes& like, const sections& ss) {
    bytes b(like.begin(), like.begin() + 16);
    b[10] = 0;  // unsigned
    for (const auto& [t, body] : ss) {
        bytes h(8);
        put_u32(h, 0, t);
        put_u32(h, 4, static_cast<std::uint32_t>(body.size()));
        b.insert(b.end(), h.begin(), h.end());
        b.insert(b.end(), body.begin(), body.end());
    }
    put_u32(b, 12, static_cast<std::uint32_t>(b.size() - 16));
    b.resize(b.size() + 32);
    redigest(b);
    return b;
}

std::string load_error(const bytes& b, std::span<const rt::public_key> keys = {}) {
    auto r = rt::load_bundle(b, keys);
    if (r.prog) return "loaded";
    return r.error;
}

} // namespace

TEST_CASE("round trip is byte-identical") {
    const auto im = sample_image();
    const auto b = rt::write_bundle(im);
    auto d = rt::decode_bundle(b);
    REQUIRE(d.index() == 0);
    CHECK(std::get<0>(d).image == im);
    CHECK_FALSE(std::get<0>(d).key_id.has_value());
    CHECK(rt::write_bundle(std::get<0>(d).image) == b);
    auto r = rt::load_bundle(b);
    REQUIRE(r.prog);
    CHECK(rt::image_of(*r.prog) == im);
    // Header: magic, version 3, flags 0, payload length.
    CHECK(std::equal(rt::bundle_format::magic.begin(), rt::bundle_format::magic.end(), b.begin()));
    CHECK(b[8] == 3);
    CHECK(b[9] == 0);
    CHECK(get_u32(b, 12) == b.size() - 16 - 32);
}

TEST_CASE("every single-byte change and every truncation is rejected with a reason") {
    const auto b = rt::write_bundle(sample_image());
    for (std::size_t i = 0; i < b.size(); ++i) {
        for (std::uint8_t x : {std::uint8_t{0x01}, std::uint8_t{0x80}, std::uint8_t{0xff}}) {
            auto m = b;
            m[i] ^= x;
            auto e = load_error(m);
            INFO("byte " << i << " ^ " << int(x));
            REQUIRE(e != "loaded");
            REQUIRE_FALSE(e.empty());
        }
    }
    for (std::size_t n = 0; n < b.size(); ++n) {
        auto e = load_error(bytes(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n)));
        INFO("truncated to " << n);
        REQUIRE(e != "loaded");
        REQUIRE_FALSE(e.empty());
    }
    auto longer = b;
    longer.push_back(0);
    CHECK(load_error(longer) == "trailing bytes: header announces " + std::to_string(b.size()) + " bytes, got " +
                                    std::to_string(b.size() + 1));
    auto m = b;
    m[100] ^= 1;
    CHECK(load_error(m) == "digest mismatch: the bundle is corrupt or was modified");
    CHECK(load_error(bytes(b.begin(), b.begin() + 60)) ==
          "truncated bundle: header announces " + std::to_string(b.size()) + " bytes, got 60");
    CHECK(load_error(bytes(b.begin(), b.begin() + 10)) == "truncated bundle: 10 bytes is shorter than header and digest");
}

TEST_CASE("re-digested mutations never crash; accepted ones re-encode identically and decide safely") {
    const auto b = rt::write_bundle(sample_image());
    std::size_t accepted = 0;
    for (std::size_t i = 16; i < b.size() - 32; ++i) {
        for (std::uint8_t x : {std::uint8_t{0x01}, std::uint8_t{0x40}, std::uint8_t{0xff}}) {
            auto m = b;
            m[i] ^= x;
            redigest(m);
            auto r = rt::load_bundle(m);
            if (!r.prog) {
                REQUIRE_FALSE(r.error.empty());
                continue;
            }
            ++accepted;
            INFO("byte " << i << " ^ " << int(x));
            // Canonical: the accepted image serialises to exactly these bytes.
            REQUIRE(rt::write_bundle(rt::image_of(*r.prog)) == m);
            // And it evaluates (verified ⇒ safe) on an input of the right shape.
            rt::input in{1, std::vector<rt::value>(rt::image_of(*r.prog).slots.size())};
            (void)rt::evaluate(*r.prog, in);
        }
    }
    // String bytes and the manifest can change without breaking anything; most other bytes cannot.
    CHECK(accepted > 0);
}

TEST_CASE("signatures: required iff keys are given") {
    const auto im = sample_image();
    const auto pub0 = rt::public_of(test_key(0));
    const auto pub1 = rt::public_of(test_key(1));
    const auto s = rt::write_bundle(im, &test_key(0));
    const auto u = rt::write_bundle(im);
    CHECK(s.size() == u.size() + 72);
    CHECK(s[10] == 1);  // flags: signed

    std::vector<rt::public_key> good{pub1, pub0}, wrong{pub1};
    CHECK(load_error(s, good) == "loaded");
    CHECK(load_error(s) == "loaded");  // no keys: signature not required (digest still checked)
    auto d = rt::decode_bundle(s, good);
    REQUIRE(d.index() == 0);
    CHECK(std::get<0>(d).key_id == pub0.key_id);
    CHECK(std::get<0>(d).signature_checked);
    CHECK(load_error(s, wrong) == "bundle is signed by key " + pub0.key_id + ", which is not a trusted key");
    CHECK(load_error(u, good) == "bundle is not signed, but a public key was given");
    // Ed25519 is deterministic: re-signing the decoded image gives the same bytes.
    CHECK(rt::write_bundle(std::get<0>(d).image, &test_key(0)) == s);

    SECTION("tampered payload with a recomputed digest") {
        auto m = s;
        m[40] ^= 1;
        redigest(m);
        CHECK(load_error(m, good) == "bad signature for key " + pub0.key_id);
    }
    SECTION("tampered signature with a recomputed digest") {
        auto m = s;
        m[m.size() - 32 - 5] ^= 1;
        redigest(m);
        CHECK(load_error(m, good) == "bad signature for key " + pub0.key_id);
    }
    SECTION("signature stripped, flag cleared, digest recomputed") {
        bytes m(s.begin(), s.end() - 32 - 72);
        m[10] = 0;
        m.resize(m.size() + 32);
        redigest(m);
        CHECK(load_error(m, good) == "bundle is not signed, but a public key was given");
    }
}

TEST_CASE("keys round-trip through PEM files; key id is 16 hex digits") {
    const auto& sk = test_key(0);
    CHECK(sk.key_id.size() == 16);
    const std::string dir = DOCKPOL_BUILD_ROOT;
    const std::string priv = dir + "/bundle_test_key.pem", pub = dir + "/bundle_test_key.pub.pem";
    std::ofstream(priv) << rt::signing_key_pem(sk);
    std::ofstream(pub) << rt::public_key_pem(rt::public_of(sk));
    auto lk = rt::load_signing_key_pem(priv);
    auto lp = rt::load_public_key_pem(pub);
    REQUIRE(lk.index() == 0);
    REQUIRE(lp.index() == 0);
    CHECK(std::get<0>(lk).key_id == sk.key_id);
    CHECK(std::get<0>(lp).key_id == sk.key_id);
    const auto b = rt::write_bundle(sample_image(), &std::get<0>(lk));
    std::vector<rt::public_key> keys{std::get<0>(lp)};
    CHECK(load_error(b, keys) == "loaded");
    // A private key is not a public key and vice versa; a missing file is reported.
    CHECK(std::get<1>(rt::load_public_key_pem(priv)) == priv + ": not a PEM public key");
    CHECK(std::get<1>(rt::load_signing_key_pem(pub)) == pub + ": not a PEM private key");
    CHECK(std::get<1>(rt::load_public_key_pem(dir + "/nope.pem")) == "cannot open " + dir + "/nope.pem");
    std::remove(priv.c_str());
    std::remove(pub.c_str());
}

TEST_CASE("header checks") {
    const auto b = rt::write_bundle(sample_image());
    auto m = b;
    m[0] = 'X';
    CHECK(load_error(m) == "not a dockpol bundle (bad magic)");
    m = b;
    m[8] = 1;
    CHECK(load_error(m) == "unsupported bundle format version 1 (this build reads 3)");
    m = b;
    m[11] = 0x80;
    CHECK(load_error(m) == "unknown bundle flags 0x8000");
}

TEST_CASE("section structure: unknown, duplicate, missing, slack, trailing") {
    const auto b = rt::write_bundle(sample_image());
    const auto ss = split(b);
    REQUIRE(ss.size() == 13);
    CHECK(load_error(join(b, ss)) == "loaded");  // the harness itself is faithful
    SECTION("unknown tag") {
        auto t = ss;
        t[1].first = 99;
        CHECK(load_error(join(b, t)) == "bad bundle: unknown section tag 99, expected section sets (at offset " +
                                           std::to_string(16 + 8 + ss[0].second.size()) + ")");
    }
    SECTION("duplicate") {
        auto t = ss;
        t[1] = t[0];
        CHECK_THAT(load_error(join(b, t)),
                   Catch::StartsWith("bad bundle: section strings is duplicated or out of order, expected section sets"));
    }
    SECTION("missing") {
        auto t = ss;
        t.pop_back();
        CHECK_THAT(load_error(join(b, t)),
                   Catch::StartsWith("bad bundle: truncated: reading section tag (expecting owner) needs 4 bytes, 0 left"));
    }
    SECTION("slack inside a section") {
        auto t = ss;
        t[9].second.push_back(0);
        CHECK_THAT(load_error(join(b, t)), Catch::StartsWith("bad bundle: policy section has 1 unread bytes"));
    }
    SECTION("extra section after the last") {
        auto t = ss;
        t.push_back({14, bytes{1, 2, 3}});
        CHECK_THAT(load_error(join(b, t)), Catch::StartsWith("bad bundle: 11 bytes after the last section"));
    }
    SECTION("non-canonical effect byte") {
        auto t = ss;
        t[9].second[0] = 2;  // policy: default effect
        CHECK_THAT(load_error(join(b, t)),
                   Catch::StartsWith("bad bundle: policy section: default effect: 2 is neither deny (0) nor allow (1)"));
    }
    SECTION("count larger than the section") {
        auto t = ss;
        put_u32(t[0].second, 0, 1000000);
        CHECK_THAT(load_error(join(b, t)), Catch::StartsWith("bad bundle: strings section: string count: count 1000000 "
                                                             "exceeds limit 65536"));
        put_u32(t[0].second, 0, 60000);
        CHECK_THAT(load_error(join(b, t)), Catch::Contains("string count: count 60000 does not fit in the"));
    }
    SECTION("verifier runs after decoding") {
        auto t = ss;
        // code section: first instruction's reserved byte.
        t[7].second[4 + 3] = 1;
        CHECK_THAT(load_error(join(b, t)), Catch::StartsWith("bundle rejected by the verifier: rule 0 'no_privileged': "));
    }
}

TEST_CASE("safe lists round-trip and the verifier checks them") {
    const auto im = sample_image();
    auto d = rt::decode_bundle(rt::write_bundle(im));
    REQUIRE(d.index() == 0);
    CHECK(std::get<0>(d).image.safe_host_paths == im.safe_host_paths);
    CHECK(std::get<0>(d).image.safe_volume_drivers == im.safe_volume_drivers);
    struct row { std::vector<std::string> paths, drivers; std::string error; };
    const row rows[] = {
        {{"/"}, {}, "safe host path 0 '/': not a clean absolute path below /"},
        {{"srv"}, {}, "safe host path 0 'srv': not a clean absolute path below /"},
        {{"/srv/"}, {}, "safe host path 0 '/srv/': not a clean absolute path below /"},
        {{"/srv/../etc"}, {}, "safe host path 0 '/srv/../etc': not a clean absolute path below /"},
        {{"/srv/b", "/srv/a"}, {}, "safe host path 1 '/srv/a': not sorted and unique"},
        {{"/srv", "/srv"}, {}, "safe host path 1 '/srv': not sorted and unique"},
        {{"/var/lib/docker"}, {}, "safe host path 0 '/var/lib/docker': inside /var/lib, which can never be safe"},
        {{"/var"}, {}, "safe host path 0 '/var': contains /var/lib, which can never be safe"},
        {{"/lib64/x"}, {}, "safe host path 0 '/lib64/x': inside /lib*, which can never be safe"},
        {{}, {""}, "safe volume driver 0 '': empty name"},
        {{}, {"nfs", "nfs"}, "safe volume driver 1 'nfs': not sorted and unique"},
    };
    for (const auto& r : rows) {
        auto bad = im;
        bad.safe_host_paths = r.paths;
        bad.safe_volume_drivers = r.drivers;
        const auto e = rt::verify(bad);
        INFO(r.error);
        REQUIRE(e);
        CHECK(*e == r.error);
    }
}

TEST_CASE("ownership round-trips and the verifier checks it") {
    const auto im = sample_image();
    auto d = rt::decode_bundle(rt::write_bundle(im));
    REQUIRE(d.index() == 0);
    const auto& got = std::get<0>(d).image;
    CHECK(got.owner_label == "dockpol.owner");
    REQUIRE(got.rules.size() == im.rules.size());
    for (std::size_t i = 0; i < im.rules.size(); ++i) CHECK(got.rules[i].own == (im.strings[im.rules[i].name] == "admins"));

    SECTION("the own byte is 0 or 1") {
        const auto b = rt::write_bundle(im);
        auto ss = split(b);
        // rules section: count, then per rule name (4), effect (1), own (1).
        ss[5].second[4 + 5] = 2;
        CHECK_THAT(load_error(join(b, ss)), Catch::StartsWith("bad bundle: rules section: rule 0 own: 2 is neither 0 nor 1"));
    }
    SECTION("no owner label: the empty string") {
        auto none = im;
        none.owner_label.clear();
        for (auto& r : none.rules) r.own = false;
        auto dn = rt::decode_bundle(rt::write_bundle(none));
        REQUIRE(dn.index() == 0);
        CHECK(std::get<0>(dn).image == none);
        CHECK(rt::verify(none) == std::nullopt);
    }
    struct row { std::string label; std::string error; };
    const row labels[] = {
        {"owner", "owner label 'owner': the owner label needs a namespace: a '.' in its name"},
        {"Dockpol.owner", "owner label 'Dockpol.owner': a label key holds only lower-case letters, digits, '.' and '-'"},
        {"dockpol..owner", "owner label 'dockpol..owner': a label key has no \"..\""},
        {"dockpol.owner=x", "owner label 'dockpol.owner=x': a label key holds only lower-case letters, digits, '.' and '-'"},
        {"io.docker.owner", "owner label 'io.docker.owner': labels under \"io.docker.\" are reserved for Docker"},
        {".owner", "owner label '.owner': a label key starts and ends with a lower-case letter"},
    };
    for (const auto& r : labels) {
        auto bad = im;
        bad.owner_label = r.label;
        INFO(r.label);
        CHECK(rt::verify(bad) == r.error);
    }
    SECTION("own needs allow and an owner label") {
        auto bad = im;
        bad.owner_label.clear();
        CHECK(rt::verify(bad) == "rule 5 'admins': `allow own` without an owner label");
        bad = im;
        for (auto& r : bad.rules)
            if (bad.strings[r.name] == "admins") r.eff = rt::effect::deny;
        CHECK(rt::verify(bad) == "rule 5 'admins': `own` on a deny rule");
        bad = im;
        bad.rules.back().own = true;
        CHECK(rt::verify(bad) == "builtin_ping must be `allow` (not `own`) with no source position");
    }
}

TEST_CASE("bundle size limit") {
    bytes big(rt::limits::max_bundle_bytes + 1, 0);
    CHECK(load_error(big) == "bundle is 16777217 bytes, over the limit of 16777216");
}

} // namespace bundle_test
