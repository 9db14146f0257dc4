// The projection scanner: strict validation (fixture table), Go-style key
// matching, ambiguity, extraction shapes and every named limit.
#include <catch2/catch.hpp>

#include <sstream>
#include <string>
#include <vector>

#include "dockpol/rt/json_scan.hpp"
#include "runtime_test_util.hpp"

// Each test file is its own namespace: the test executables are unity builds.
namespace json_scan_test {

using namespace dockpol::rt;
using runtime_test::body_fixture;

namespace {

// Scans with a projection of the given dotted field paths (no map keys).
struct scan_result {
    json_projection proj;
    std::vector<json_projection::node_id> nodes;
    json_value root;
    std::optional<json_error> err;
};

scan_result scan(std::string_view text, std::vector<std::vector<path_step>> paths, bool seal = true) {
    scan_result r;
    for (const auto& p : paths) {
        const auto n = r.proj.add(p);
        REQUIRE(n);
        r.nodes.push_back(*n);
    }
    if (seal) r.proj.seal();
    r.err = scan_json(text, r.proj, r.root);
    return r;
}

const json_value* at(const scan_result& r, std::size_t i) {
    return json_at(r.proj, r.root, json_projection::root, r.nodes[i]);
}

path_step field(std::string_view n) { return {n, key_match::field}; }
path_step exact(std::string_view n) { return {n, key_match::exact}; }

} // namespace

TEST_CASE("json scan: strict RFC 8259 validation, fixture table", "[json_scan]") {
    std::istringstream table(body_fixture("scan/cases.tsv"));
    std::string line;
    int cases = 0;
    while (std::getline(table, line)) {
        if (line.empty() || line[0] == '#') continue;
        std::istringstream cols(line);
        std::string file, expect, offset;
        std::getline(cols, file, '\t');
        std::getline(cols, expect, '\t');
        std::getline(cols, offset, '\t');
        const std::string text = body_fixture("scan/" + file);
        INFO(file);
        for (const bool with_projection : {false, true}) {
            // Validation must not depend on what is extracted.
            auto r = with_projection ? scan(text, {{field("a")}, {field("b"), field("c")}}) : scan(text, {});
            if (expect == "ok") {
                CHECK_FALSE(r.err);
            } else {
                REQUIRE(r.err);
                CHECK(errc_name(r.err->code) == expect);
                CHECK(r.err->offset == std::stoul(offset));
            }
        }
        ++cases;
    }
    CHECK(cases >= 40);
}

TEST_CASE("json scan: every proper prefix of a valid body is rejected", "[json_scan]") {
    const std::string body = body_fixture("container_create.json");
    REQUIRE_FALSE(scan(body, {{field("HostConfig"), field("Binds")}}).err);
    // Stop before the trailing newline: the object is complete there.
    const std::size_t end = body.find_last_not_of("\n") + 1;
    for (std::size_t n = 0; n < end; ++n) {
        const auto r = scan(std::string_view(body).substr(0, n), {{field("HostConfig"), field("Binds")}});
        INFO(n);
        REQUIRE(r.err);
        CHECK(r.err->offset <= n);
    }
}

TEST_CASE("json scan: extraction of scalars, lists and element fields", "[json_scan]") {
    const std::string text = body_fixture("raw_paths.json");
    auto r = scan(text, {{field("Image")},
                         {field("StopTimeout")},
                         {field("Env")},
                         {field("HostConfig"), field("Mounts"), field("Type")},
                         {field("HostConfig"), field("Mounts"), field("VolumeOptions"), field("NoCopy")},
                         {field("Missing")}});
    REQUIRE_FALSE(r.err);
    REQUIRE(at(r, 0));
    CHECK(at(r, 0)->type == json_type::string);
    CHECK(at(r, 0)->text == "alpine");
    CHECK(text.compare(at(r, 0)->offset, 8, "\"alpine\"") == 0);
    CHECK(at(r, 1)->type == json_type::number);
    CHECK(at(r, 1)->number == 10);
    REQUIRE(at(r, 2)->type == json_type::array);
    REQUIRE(at(r, 2)->elements.size() == 2);
    CHECK(at(r, 2)->elements[1].text == "B=2");
    CHECK(at(r, 5)->type == json_type::missing);

    // Mounts: an array; the element fields follow the Mounts node's children.
    const auto mounts_node = r.proj.at(r.nodes[3]).parent;
    const json_value* mounts = json_at(r.proj, r.root, json_projection::root, mounts_node);
    REQUIRE(mounts);
    REQUIRE(mounts->type == json_type::array);
    REQUIRE(mounts->elements.size() == 3);
    const json_value* t0 = json_at(r.proj, mounts->elements[0], mounts_node, r.nodes[3]);
    REQUIRE(t0);
    CHECK(t0->text == "bind");
    const json_value* nc1 = json_at(r.proj, mounts->elements[1], mounts_node, r.nodes[4]);
    REQUIRE(nc1);
    CHECK(nc1->type == json_type::boolean);
    CHECK(nc1->boolean);
    CHECK(mounts->elements[2].type == json_type::string);
    CHECK(json_at(r.proj, mounts->elements[2], mounts_node, r.nodes[3]) == nullptr);
}

TEST_CASE("json scan: decoded strings", "[json_scan]") {
    // The root's array elements are kept: the root is always wanted.
    json_projection proj;
    proj.seal();
    json_value root;
    REQUIRE_FALSE(scan_json(body_fixture("scan/ok_escapes.json"), proj, root));
    REQUIRE(root.type == json_type::array);
    REQUIRE(root.elements.size() == 4);
    CHECK(root.elements[0].text == "\"\\/\b\f\n\r\t");
    CHECK(root.elements[1].text == "\xC3\xA9\xE2\x82\xAC");
    CHECK(root.elements[2].text == "\xF0\x9F\x98\x80");
    CHECK(root.elements[3].text == std::string(1, '\0'));
}

TEST_CASE("json scan: keys match like Go's encoding/json", "[json_scan]") {
    SECTION("case-insensitive struct fields, ASCII and the two special folds") {
        for (const std::string key : {"Privileged", "privileged", "PRIVILEGED", "pRiViLeGeD"}) {
            auto r = scan("{\"" + key + "\":true}", {{field("Privileged")}});
            REQUIRE_FALSE(r.err);
            CHECK(at(r, 0)->boolean);
        }
        // ſ (U+017F) folds to s, the Kelvin sign (U+212A) to k.
        auto s = scan("{\"Bind\xC5\xBF\":[\"x\"],\"Networ\xE2\x84\xAAMode\":\"host\"}",
                      {{field("Binds")}, {field("NetworkMode")}});
        REQUIRE_FALSE(s.err);
        CHECK(at(s, 0)->type == json_type::array);
        CHECK(at(s, 1)->text == "host");
        // Escaped keys are matched after decoding.
        auto e = scan(R"({"Privil\u0065ged":true,"\u017Fecurityopt":["a"]})", {{field("Privileged")}, {field("SecurityOpt")}});
        REQUIRE_FALSE(e.err);
        CHECK(at(e, 0)->boolean);
        CHECK(at(e, 1)->elements.size() == 1);
    }
    SECTION("other look-alikes do not match") {
        // Dotless ı (U+0131) and İ (U+0130) are not in i's simple-fold orbit.
        auto r = scan("{\"Pr\xC4\xB1vileged\":true,\"Pr\xC4\xB0vileged\":true,\"Privileged \":true}",
                      {{field("Privileged")}});
        REQUIRE_FALSE(r.err);
        CHECK(at(r, 0)->type == json_type::missing);
    }
    SECTION("map keys match exactly") {
        auto r = scan(R"({"Labels":{"Owner":"m","owner":"b"}})", {{field("Labels"), exact("owner")}});
        REQUIRE_FALSE(r.err);
        CHECK(at(r, 0)->text == "b");
    }
    SECTION("field spellings that fold alike are one field") {
        json_projection proj;
        const auto a = proj.child(json_projection::root, field("Image"));
        const auto b = proj.child(json_projection::root, field("IMAGE"));
        const auto c = proj.child(json_projection::root, field("image"));
        REQUIRE(a);
        CHECK(b == a);
        CHECK(c == a);
        CHECK(proj.child(json_projection::root, exact("image")) != a);
        // So two keys that fold alike always collide (Go keeps the last).
        auto r = scan(R"({"FOO":1,"foo":2})", {{field("Foo")}, {field("FOO")}});
        REQUIRE(r.err);
        CHECK(r.err->code == json_errc::ambiguous_key);
        CHECK(r.err->offset == 9);
    }
    SECTION("a key wanted both as field and as map key is read for both") {
        auto r = scan(R"({"m":{"k":{"a":1}}})", {{field("m"), field("k"), field("a")}, {field("m"), exact("k")}});
        REQUIRE_FALSE(r.err);
        CHECK(at(r, 0)->number == 1);
        CHECK(at(r, 1)->type == json_type::object);
    }
    SECTION("sealed and unsealed projections agree") {
        const std::string text = body_fixture("create_fold_keys.json");
        for (const bool seal : {true, false}) {
            auto r = scan(text, {{field("HostConfig"), field("Privileged")}, {field("HostConfig"), field("Binds")},
                                 {field("HostConfig"), field("NetworkMode")}, {field("HostConfig"), field("PidMode")},
                                 {field("User")}},
                          seal);
            REQUIRE_FALSE(r.err);
            CHECK(at(r, 0)->boolean);
            CHECK(at(r, 1)->elements.at(0).text == "/:/host");
            CHECK(at(r, 2)->text == "host");
            CHECK(at(r, 3)->text == "host");
            CHECK(at(r, 4)->text == "+0");
        }
    }
}

TEST_CASE("json scan: two keys for one wanted field are ambiguous", "[json_scan]") {
    const std::vector<std::vector<path_step>> paths = {{field("HostConfig"), field("Privileged")},
                                                       {field("HostConfig"), field("Binds")},
                                                       {field("Labels"), exact("owner")}};
    // Each fixture and where its second, ambiguous key starts.
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"create_dup_case.json", "\"privileged\""},
        {"create_dup_exact.json", "\"Privileged\":false"},
        {"create_dup_fold.json", "\"BIND"},
        {"create_dup_hostconfig.json", "\"hostConfig\""},
        {"create_dup_label.json", "\"owner\":\"b\""},
    };
    for (const auto& [file, needle] : cases) {
        const std::string text = body_fixture(file);
        auto r = scan(text, paths);
        INFO(file);
        REQUIRE(r.err);
        CHECK(r.err->code == json_errc::ambiguous_key);
        CHECK(r.err->offset == text.find(needle));
        CHECK(r.err->message().find("ambiguous key") == 0);
    }
    // Duplicates nobody reads are dockerd's business, not an error here.
    CHECK_FALSE(scan(body_fixture("create_dup_unwanted.json"), paths).err);
    // An ambiguous key with a null value still counts (null is a value for Go).
    CHECK(scan(R"({"HostConfig":{"Privileged":true,"privileged":null}})", paths).err);
}

TEST_CASE("json scan: limits", "[json_scan]") {
    SECTION("depth") {
        const auto nested = [](std::size_t n) { return std::string(n, '[') + std::string(n, ']'); };
        CHECK_FALSE(scan(nested(json_max_depth), {}).err);
        auto r = scan(nested(json_max_depth + 1), {});
        REQUIRE(r.err);
        CHECK(r.err->code == json_errc::too_deep);
        CHECK(r.err->offset == json_max_depth);
        // Objects count the same, also below a wanted field.
        std::string deep = "{\"a\":";
        for (std::size_t i = 1; i < json_max_depth; ++i) deep += "{\"a\":";
        deep += "{}" + std::string(json_max_depth, '}');
        auto d = scan(deep, {{field("a"), field("a")}});
        REQUIRE(d.err);
        CHECK(d.err->code == json_errc::too_deep);
    }
    SECTION("elements per wanted list") {
        const auto list = [](std::size_t n) {
            std::string s = "{\"Binds\":[";
            for (std::size_t i = 0; i < n; ++i) s += i ? ",\"/x:/y\"" : "\"/x:/y\"";
            return s + "]}";
        };
        auto ok = scan(list(json_max_list_elements), {{field("Binds")}});
        REQUIRE_FALSE(ok.err);
        CHECK(at(ok, 0)->elements.size() == json_max_list_elements);
        auto r = scan(list(json_max_list_elements + 1), {{field("Binds")}});
        REQUIRE(r.err);
        CHECK(r.err->code == json_errc::too_many_elements);
        // A list nobody reads is only validated.
        CHECK_FALSE(scan(list(json_max_list_elements + 1), {{field("Other")}}).err);
    }
    SECTION("extracted values") {
        // Many wanted lists, each within its own limit, exceed the total.
        std::string s = "{";
        const std::size_t lists = json_max_values / json_max_list_elements + 1;
        std::vector<std::string> names;
        for (std::size_t l = 0; l < lists; ++l) names.push_back("L" + std::to_string(l));
        std::vector<std::vector<path_step>> paths;
        for (std::size_t l = 0; l < lists; ++l) {
            s += (l ? ",\"" : "\"") + names[l] + "\":[";
            for (std::size_t i = 0; i < json_max_list_elements; ++i) s += i ? ",0" : "0";
            s += "]";
            paths.push_back({field(names[l])});
        }
        s += "}";
        auto r = scan(s, paths);
        REQUIRE(r.err);
        CHECK(r.err->code == json_errc::too_many_values);
    }
    SECTION("string length, for extracted strings only") {
        const std::string big(json_max_string_bytes + 1, 'x');
        auto r = scan("{\"Image\":\"" + big + "\"}", {{field("Image")}});
        REQUIRE(r.err);
        CHECK(r.err->code == json_errc::string_too_long);
        CHECK_FALSE(scan("{\"Hostname\":\"" + big + "\"}", {{field("Image")}}).err);
        auto ok = scan("{\"Image\":\"" + big.substr(1) + "\"}", {{field("Image")}});
        REQUIRE_FALSE(ok.err);
        CHECK(at(ok, 0)->text.size() == json_max_string_bytes);
    }
    SECTION("projection nodes") {
        json_projection proj;
        std::vector<std::string> names;
        for (std::size_t i = 0; i < json_max_nodes; ++i) names.push_back("k" + std::to_string(i));
        std::size_t added = 0;
        for (const auto& n : names)
            if (proj.child(json_projection::root, field(n))) ++added;
        CHECK(added == json_max_nodes - 1);   // the root is a node too
        CHECK(proj.size() == json_max_nodes);
    }
    SECTION("numbers beyond float64 when extracted") {
        auto r = scan(R"({"N":1e400,"M":1e400})", {{field("N")}});
        REQUIRE(r.err);
        CHECK(r.err->code == json_errc::number_range);
        CHECK(r.err->offset == 5);
    }
}

TEST_CASE("json scan: error messages name the reason and the offset", "[json_scan]") {
    auto r = scan("[1,]", {});
    REQUIRE(r.err);
    CHECK(r.err->message() == "trailing comma at byte 3");
    auto d = scan(std::string(json_max_depth + 1, '['), {});
    REQUIRE(d.err);
    CHECK(d.err->message() == "nesting too deep (limit 64) at byte 64");
}

} // namespace json_scan_test
