// Helpers shared by the front-end tests: fixture loading and diagnostic lookup.
#pragma once
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "dockpol/dsl/front.hpp"

namespace dsl_test {

inline std::string read_text(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

inline std::string fixture_path(const std::string& name) {
    return std::string(DOCKPOL_SOURCE_ROOT) + "/tests/unit/fixtures/dsl/" + name;
}

inline dockpol::dsl::source_file fixture(const std::string& name) {
    return {name, read_text(fixture_path(name))};
}

inline dockpol::dsl::front_result analyze_text(const std::string& text, const dockpol::dsl::front_options& o = {}) {
    return dockpol::dsl::analyze({dockpol::dsl::source_file{"t.dpol", text}}, o);
}

// Diagnostics with a given code.
inline std::vector<dockpol::dsl::diagnostic> with_code(const std::vector<dockpol::dsl::diagnostic>& ds,
                                                       const std::string& code) {
    std::vector<dockpol::dsl::diagnostic> out;
    for (const auto& d : ds)
        if (dockpol::dsl::code_name(d.code) == code) out.push_back(d);
    return out;
}

inline std::size_t error_count(const std::vector<dockpol::dsl::diagnostic>& ds) {
    std::size_t n = 0;
    for (const auto& d : ds) n += d.sev == dockpol::dsl::severity::error;
    return n;
}

} // namespace dsl_test
