// Helpers shared by the runtime tests: reading fixture files.
#pragma once
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

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

} // namespace runtime_test
