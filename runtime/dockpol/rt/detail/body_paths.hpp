// How a dotted body path (`HostConfig.Mounts`, `Labels.com.example.team`)
// becomes projection steps.
//
// Approximation: dockpol has no copy of Docker's type definitions, so every
// component is matched as a struct field (Go's case-insensitive rule) except
// after a component that names one of Docker's well-known map-typed fields
// below, whose keys Go matches byte-exactly. For maps of strings the rest of
// the path, dots included, is one key (`Labels.com.example.team`); for maps
// of objects only the next component is (`PortBindings.80/tcp.HostPort`).
// An unknown map read through `body.*` is matched case-insensitively — more
// keys select the value than dockerd would use, and two of them are then an
// "ambiguous key" deny, never a silent miss.
#pragma once
#include <array>
#include <string_view>
#include <vector>

#include "dockpol/rt/detail/json_projection.hpp"

namespace dockpol::rt::detail {

struct map_field {
    std::string_view name;
    bool string_values;   // map[string]string: the rest of the path is the key
};

// Map-typed fields of the create/exec/volume/network bodies.
inline constexpr std::array<map_field, 10> map_fields = {{
    {"Labels", true},
    {"DriverOpts", true},
    {"Options", true},
    {"Sysctls", true},
    {"StorageOpt", true},
    {"Tmpfs", true},
    {"ExposedPorts", false},
    {"Volumes", false},
    {"PortBindings", false},
    {"EndpointsConfig", false},
}};

inline bool ascii_iequal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 'a' + 'A');
        if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 'a' + 'A');
        if (x != y) return false;
    }
    return true;
}

inline const map_field* find_map_field(std::string_view component) {
    for (const auto& m : map_fields)
        if (ascii_iequal(m.name, component)) return &m;
    return nullptr;
}

// Appends the steps of `dotted` to `out`; the views point into `dotted`.
// An empty path is the body itself.
inline void body_path_steps(std::string_view dotted, std::vector<path_step>& out) {
    if (dotted.empty()) return;
    std::size_t i = 0;
    bool next_is_key = false;
    bool key_is_rest = false;
    while (i <= dotted.size()) {
        std::size_t j = key_is_rest ? dotted.size() : dotted.find('.', i);
        if (j == std::string_view::npos) j = dotted.size();
        const std::string_view part = dotted.substr(i, j - i);
        if (next_is_key) {
            out.push_back({part, key_match::exact});
            next_is_key = key_is_rest = false;
        } else {
            out.push_back({part, key_match::field});
            if (const auto* m = find_map_field(part)) {
                next_is_key = true;
                key_is_rest = m->string_values;
            }
        }
        if (j == dotted.size()) break;
        i = j + 1;
    }
}

} // namespace dockpol::rt::detail
