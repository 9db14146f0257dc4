// REQUEST.json's "resource" and "objects": the target's inspect JSON and the
// inspect JSON of other objects the request names, as dockpold would have
// fetched them. The name and labels derive from an inspect answer the way
// sidecar/proxy/resource_lookup.hpp reads one, except that an image's name is the
// reference its path gave (dockpold matches what the user wrote).
#pragma once
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "dockpol/rt/request.hpp"

namespace dockpol::dsl::cli::detail {

// The object kinds "objects" may name ("KIND:NAME"): what a request names besides its target.
inline constexpr std::string_view object_kinds[] = {"volume", "container", "network"};

// Why `key` is not "KIND:NAME" with a known kind, or none.
inline std::optional<std::string> check_object_key(std::string_view key) {
    const auto colon = key.find(':');
    const std::string_view kind = key.substr(0, colon);
    bool known = false;
    for (auto k : object_kinds) known = known || k == kind;
    if (colon == std::string_view::npos || !known || colon + 1 == key.size())
        return "\"objects\" key \"" + std::string(key) + "\" must be KIND:NAME with KIND volume, container or network";
    return std::nullopt;
}

inline void labels_from(const nlohmann::json& obj, rt::string_pairs& out) {
    if (!obj.is_object()) return;
    for (const auto& [k, v] : obj.items())
        if (v.is_string()) out.emplace_back(k, v.get<std::string>());
}

inline std::optional<std::string> string_at(const nlohmann::json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
}

// Fills what the request did not give from the target's inspect JSON.
// `kind` is the route's inspect kind ("container", "image", ...; an exec's
// inspect is its container's).
inline void derive_from_inspect(std::string_view kind, const nlohmann::json& j, bool has_name, bool has_labels,
                                bool has_names, rt::request& req) {
    if (!j.is_object()) return;
    const bool container = kind == "container" || kind == "exec";
    const bool image = kind == "image";
    if (!has_name) {
        if (container) {
            // dockerd reports container names with a leading "/" (the legacy link namespace).
            if (auto n = string_at(j, "Name")) req.resource_name = n->starts_with('/') ? n->substr(1) : *n;
        } else if (image) {
            if (!req.resource_id.empty()) req.resource_name = req.resource_id;
        } else if (auto n = string_at(j, "Name")) {
            req.resource_name = *n;
        } else if (auto s = j.find("Spec"); s != j.end() && s->is_object()) {
            if (auto sn = string_at(*s, "Name")) req.resource_name = *sn;
        }
    }
    if (!has_labels) {
        if (container || image) {
            if (auto c = j.find("Config"); c != j.end() && c->is_object())
                if (auto l = c->find("Labels"); l != c->end()) labels_from(*l, req.resource_labels);
        } else if (auto l = j.find("Labels"); l != j.end()) {
            labels_from(*l, req.resource_labels);
        } else if (auto s = j.find("Spec"); s != j.end() && s->is_object()) {
            if (auto sl = s->find("Labels"); sl != s->end()) labels_from(*sl, req.resource_labels);
        }
    }
    if (!has_names && image)
        if (auto t = j.find("RepoTags"); t != j.end() && t->is_array())
            for (const auto& tag : *t)
                if (tag.is_string()) req.resource_names.push_back(tag.get<std::string>());
}

} // namespace dockpol::dsl::cli::detail
