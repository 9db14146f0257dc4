// The action vocabulary (actions.def) against docs/actions.md's list
// (fixtures/actions.tsv) and the route table.
#include <catch2/catch.hpp>

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "dockpol/rt/actions.hpp"
#include "dockpol/rt/routes.hpp"

// Each test file is its own namespace: the test executables are unity builds.
namespace actions_test {

using namespace dockpol::rt;

namespace {

struct expected_action {
    std::string name, resource;
    bool json_body = false, hijack = false;
};

std::vector<expected_action> load_expected() {
    std::ifstream in(DOCKPOL_SOURCE_ROOT "/tests/unit/fixtures/actions.tsv");
    REQUIRE(in.good());
    std::vector<expected_action> out;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        std::istringstream fields(line);
        expected_action e;
        std::string json, hijack;
        REQUIRE(std::getline(fields, e.name, '\t'));
        REQUIRE(std::getline(fields, e.resource, '\t'));
        REQUIRE(std::getline(fields, json, '\t'));
        REQUIRE(std::getline(fields, hijack, '\t'));
        if (e.resource == "-") e.resource.clear();
        e.json_body = json == "1";
        e.hijack = hijack == "1";
        out.push_back(e);
    }
    return out;
}

} // namespace

TEST_CASE("the vocabulary is exactly docs/actions.md's, with its body and hijack facts") {
    const auto expected = load_expected();
    REQUIRE(expected.size() > 100);
    REQUIRE(all_actions().size() == expected.size());
    for (const auto& e : expected) {
        INFO(e.name);
        const auto id = find_action(e.name);
        REQUIRE(id.has_value());
        const action_info& a = all_actions()[*id];
        CHECK(a.name == e.name);
        CHECK(a.resource == e.resource);
        CHECK(a.json_body == e.json_body);
        CHECK(a.hijack == e.hijack);
    }
}

TEST_CASE("unknown is id 0") {
    REQUIRE(find_action("unknown") == std::optional<std::uint16_t>(unknown_action_id));
    CHECK(unknown_action_id == 0);
    CHECK(all_actions()[0].name == "unknown");
    CHECK(all_actions()[0].resource.empty());
    CHECK(action_id(action_code::container_create) == *find_action("container_create"));
}

TEST_CASE("names are unique snake_case and start with their resource") {
    std::set<std::string_view> seen;
    for (const auto& a : all_actions()) {
        INFO(a.name);
        CHECK(seen.insert(a.name).second);
        CHECK(!a.name.empty());
        for (const char c : a.name) CHECK(((c >= 'a' && c <= 'z') || c == '_'));
        CHECK(a.name.front() != '_');
        CHECK(a.name.back() != '_');
        if (a.name == "unknown") continue;
        REQUIRE(!a.resource.empty());
        const bool exact = a.name == a.resource;   // session, grpc
        const bool prefixed = a.name.size() > a.resource.size() && a.name.starts_with(a.resource) &&
                              a.name[a.resource.size()] == '_';
        CHECK((exact || prefixed));
    }
}

TEST_CASE("find_action round-trips and is exact") {
    for (std::size_t i = 0; i < all_actions().size(); ++i) {
        INFO(all_actions()[i].name);
        CHECK(find_action(all_actions()[i].name) == std::optional<std::uint16_t>(static_cast<std::uint16_t>(i)));
    }
    CHECK_FALSE(find_action("").has_value());
    CHECK_FALSE(find_action("Container_list").has_value());
    CHECK_FALSE(find_action("container_list ").has_value());
    CHECK_FALSE(find_action("container").has_value());
    CHECK_FALSE(find_action("docker_ping").has_value());
}

TEST_CASE("every routed action exists and every action but unknown is routed") {
    std::set<std::uint16_t> routed;
    for (const auto& r : all_routes()) {
        INFO(r.pattern);
        REQUIRE(r.action_id < all_actions().size());
        routed.insert(r.action_id);
    }
    for (std::size_t i = 0; i < all_actions().size(); ++i) {
        INFO(all_actions()[i].name);
        CHECK(routed.count(static_cast<std::uint16_t>(i)) == 1);
    }
}

TEST_CASE("other products' names map to dockpol actions for did-you-mean only") {
    CHECK(action_alias("docker_ping") == std::optional<std::string_view>("system_ping"));
    CHECK(action_alias("container_exec_start") == std::optional<std::string_view>("exec_start"));
    CHECK(action_alias("container_commit") == std::optional<std::string_view>("image_commit"));
    CHECK(action_alias("container_remove") == std::optional<std::string_view>("container_delete"));
    CHECK_FALSE(action_alias("system_ping").has_value());
    CHECK_FALSE(action_alias("").has_value());
    // The docker CLI's commands too: a pull is a create, never the push edit distance would offer.
    CHECK(action_alias("image_pull") == std::optional<std::string_view>("image_create"));
    CHECK(action_alias("pull") == std::optional<std::string_view>("image_create"));
    CHECK(action_alias("run") == std::optional<std::string_view>("container_create"));
    CHECK(action_alias_note("run").find("container_start") != std::string_view::npos);
    CHECK(action_alias_note("docker_ping").empty());
    REQUIRE(detail::action_alias_table.size() == 37);
    for (const auto& row : detail::action_alias_table) {
        INFO(row.other);
        CHECK(find_action(row.action).has_value());
        // An alias that is also an action would make one name mean two things.
        CHECK_FALSE(find_action(row.other).has_value());
    }
}

} // namespace actions_test
