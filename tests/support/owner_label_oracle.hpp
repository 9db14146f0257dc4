// The oracle for the owner label splice, shared by tests/unit/ownership_test.cpp
// and fuzz/ownership_fuzz.cpp: what a spliced create body must decode to,
// with object keys matched the way dockerd's Go encoding/json matches struct
// fields. Written apart from the runtime's scanner, on an nlohmann DOM, so a
// mistake in the runtime's key folding cannot also hide in its check.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace dockpol::test_support {

// The label the splice sets, e.g. dockpol.owner=alice.
struct owner_label {
    std::string_view key, value;
};

// Go's encoding/json key folding: ASCII letters, `ſ` as S and the Kelvin sign as K.
inline std::string go_fold(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s.substr(i).starts_with("\xC5\xBF")) { out += 'S'; ++i; continue; }
        if (s.substr(i).starts_with("\xE2\x84\xAA")) { out += 'K'; i += 2; continue; }
        const char c = s[i];
        out += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c;
    }
    return out;
}

// The key of `obj` dockerd reads as struct field `field`: exact first, else folded.
inline std::optional<std::string> go_key(const nlohmann::json& obj, std::string_view field) {
    if (!obj.is_object()) return std::nullopt;
    if (obj.contains(std::string(field))) return std::string(field);
    for (auto it = obj.begin(); it != obj.end(); ++it)
        if (go_fold(it.key()) == go_fold(field)) return it.key();
    return std::nullopt;
}

// `obj` with the label set in its Labels, as dockerd would read it.
inline void expect_label(nlohmann::json& obj, owner_label label) {
    const auto k = go_key(obj, "Labels");
    if (!k || obj[*k].is_null()) obj[k.value_or("Labels")] = nlohmann::json{{std::string(label.key), label.value}};
    else obj[*k][std::string(label.key)] = label.value;
}

// Every volume mount in `parent`'s Mounts with the label in its VolumeOptions.
inline void expect_mounts(nlohmann::json& parent, owner_label label) {
    const auto mk = go_key(parent, "Mounts");
    if (!mk || !parent[*mk].is_array()) return;
    for (auto& m : parent[*mk]) {
        const auto tk = go_key(m, "Type");
        if (!tk || m[*tk] != "volume") continue;
        const auto vk = go_key(m, "VolumeOptions");
        if (!vk || m[*vk].is_null())
            m[vk.value_or("VolumeOptions")] = nlohmann::json{{"Labels", {{std::string(label.key), label.value}}}};
        else expect_label(m[*vk], label);
    }
}

// What the forwarded body must decode to: the original `j` plus the label in
// every place dockerd reads it for `action` (the object itself; a container's
// HostConfig mounts; a service's ContainerSpec and its mounts).
inline nlohmann::json expected_after_splice(nlohmann::json j, std::string_view action, owner_label label) {
    expect_label(j, label);
    if (action == "container_create") {
        if (const auto h = go_key(j, "HostConfig"); h && j[*h].is_object()) expect_mounts(j[*h], label);
    } else if (action == "service_create") {
        if (const auto t = go_key(j, "TaskTemplate"); t && j[*t].is_object())
            if (const auto c = go_key(j[*t], "ContainerSpec"); c && j[*t][*c].is_object()) {
                expect_label(j[*t][*c], label);
                expect_mounts(j[*t][*c], label);
            }
    }
    return j;
}

} // namespace dockpol::test_support
