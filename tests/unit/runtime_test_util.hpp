// Helpers shared by the runtime tests: reading fixture files, compiled policies, routed requests.
#pragma once
#include <catch2/catch.hpp>

#include <filesystem>
#include <memory>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "dockpol/dsl.hpp"
#include "dockpol/rt/request.hpp"
#include "dockpol/rt/routes.hpp"

namespace runtime_test {

// The bytes of a file; the test case fails when it cannot be opened.
inline std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    REQUIRE(in.good());
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// A request body (or scanner case) under tests/unit/fixtures/bodies/.
inline std::string body_fixture(const std::string& name) {
    return read_file(std::filesystem::path(DOCKPOL_SOURCE_ROOT) / "tests/unit/fixtures/bodies" / name);
}

// The loaded program of one policy text (the compiler and the loader both must accept it).
inline std::shared_ptr<const dockpol::rt::program> compile_program(const std::string& text) {
    auto res = dockpol::dsl::compile({dockpol::dsl::source_file{"p.dpol", text}}, {}, "t");
    REQUIRE(res.image);
    auto r = dockpol::rt::load_image(*res.image);
    REQUIRE(r.prog);
    return r.prog;
}

// A request as dockpold builds it for a decision: method and target routed by rt::route (the test
// case fails when they do not route), the caller and the body as given.
inline dockpol::rt::request routed_request(std::string user, std::vector<std::string> groups, const std::string& method,
                                           const std::string& target, std::optional<std::string> body = std::nullopt) {
    dockpol::rt::request r;
    r.user = std::move(user);
    r.groups = std::move(groups);
    r.method = method;
    r.target = target;
    auto route = dockpol::rt::route(method, target);
    REQUIRE(route.ok);
    r.path = route.path;
    r.api_version = route.api_version;
    r.query = route.query;
    r.action = std::string(route.action);
    r.resource_id = route.resource_id;
    r.body = std::move(body);
    return r;
}

} // namespace runtime_test
