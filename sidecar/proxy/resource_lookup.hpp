// What a request's target is called and labelled, for rules on
// `resource.name` / `resource.labels.K` (docs/request-model.md), and which object exactly
// it is (the full id that is forwarded): parse dockerd's inspect answer and
// cache it by (kind, name as sent) for at most 2 s. Misses are never cached
// (a container created a moment later must be found). lookup_op.hpp does the I/O.
#pragma once
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "forward_target.hpp"

namespace dockpol::sidecar {

// Labels change only through re-creation, but names can be renamed: 2 s bounds how stale a decision can be.
inline constexpr std::chrono::milliseconds resource_cache_ttl{2000};
// Entries kept at most; a full cache is cleared (cheap, rare) rather than growing without bound.
inline constexpr std::size_t resource_cache_limit = 4096;
// An inspect answer larger than this is not a container/image/network/volume description.
inline constexpr std::size_t max_inspect_bytes = 8u << 20;
// Raw inspect JSON kept in the cache at most: entries hold whole answers, so the entry count alone does not bound memory.
inline constexpr std::size_t resource_cache_byte_limit = 64u << 20;

struct resource_info {
    std::string id;                          // exact id (volumes: the name); for exec: the exec's ContainerID
    std::optional<std::string> name;
    std::vector<std::pair<std::string, std::string>> labels;
    std::vector<std::string> names;          // images: every RepoTag
    std::string raw;                         // the inspect JSON as dockerd sent it
};

namespace detail {

inline void read_labels(const nlohmann::json& obj, resource_info& out) {
    if (!obj.is_object()) return;
    for (auto it = obj.begin(); it != obj.end(); ++it)
        if (it.value().is_string()) out.labels.emplace_back(it.key(), it.value().get<std::string>());
}

} // namespace detail

// Parses an inspect answer for `kind` ("container", "image", "network", "volume", ...).
// Returns nullopt when the answer is not the JSON object dockerd sends.
inline std::optional<resource_info> parse_inspect(std::string_view kind, std::string_view body) {
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return std::nullopt;
    resource_info r;
    auto str = [&j](const char* key) -> std::optional<std::string> {
        auto it = j.find(key);
        if (it == j.end() || !it->is_string()) return std::nullopt;
        return it->get<std::string>();
    };
    auto config_labels = [&] {
        if (auto c = j.find("Config"); c != j.end() && c->is_object())
            if (auto l = c->find("Labels"); l != c->end()) detail::read_labels(*l, r);
    };
    if (const auto* k = find_kind(kind))
        if (auto id = str(std::string(kind == "exec" ? "ContainerID" : k->id_field).c_str())) r.id = *id;
    r.raw = std::string(body);
    if (kind == "exec") return r;
    if (kind == "container") {
        // dockerd reports container names with a leading "/" (legacy link namespace); users write them without.
        if (auto n = str("Name")) r.name = n->starts_with('/') ? n->substr(1) : *n;
        config_labels();
    } else if (kind == "image") {
        if (auto t = j.find("RepoTags"); t != j.end() && t->is_array())
            for (const auto& tag : *t)
                if (tag.is_string()) r.names.push_back(tag.get<std::string>());
        if (!r.names.empty()) r.name = r.names.front();
        config_labels();
    } else {
        // networks, volumes and swarm objects carry Name/Labels at the top (swarm ones under Spec).
        r.name = str("Name");
        if (auto l = j.find("Labels"); l != j.end()) detail::read_labels(*l, r);
        if (auto s = j.find("Spec"); s != j.end() && s->is_object()) {
            if (!r.name)
                if (auto n = s->find("Name"); n != s->end() && n->is_string()) r.name = n->get<std::string>();
            if (r.labels.empty())
                if (auto l = s->find("Labels"); l != s->end()) detail::read_labels(*l, r);
        }
    }
    return r;
}

// The inspect request for a path from rt::inspect_path (no version prefix: dockerd answers in its own version).
// `extra` is whole header lines ("Name: value\r\n"), made by dockpold itself.
inline std::string inspect_request(std::string_view path, std::string_view extra = {}) {
    std::string s = "GET ";
    s += path;
    s += " HTTP/1.1\r\nHost: docker\r\nUser-Agent: dockpold\r\n";
    s += extra;
    s += "\r\n";
    return s;
}

class resource_cache {
public:
    using clock = std::chrono::steady_clock;

    std::optional<resource_info> get(const std::string& key, clock::time_point now = clock::now()) {
        std::lock_guard lk(mu_);
        auto it = map_.find(key);
        if (it == map_.end()) return std::nullopt;
        if (now - it->second.first > resource_cache_ttl) {
            bytes_ -= it->second.second.raw.size();
            map_.erase(it);
            return std::nullopt;
        }
        return it->second.second;
    }

    void put(const std::string& key, resource_info info, clock::time_point now = clock::now()) {
        std::lock_guard lk(mu_);
        if (map_.size() >= resource_cache_limit || bytes_ + info.raw.size() > resource_cache_byte_limit) {
            map_.clear();
            bytes_ = 0;
        }
        if (auto it = map_.find(key); it != map_.end()) bytes_ -= it->second.second.raw.size();
        bytes_ += info.raw.size();
        map_[key] = {now, std::move(info)};
    }

    static std::string key(std::string_view kind, std::string_view id) {
        std::string k(kind);
        k += '\0';
        k += id;
        return k;
    }

private:
    std::mutex mu_;
    std::unordered_map<std::string, std::pair<clock::time_point, resource_info>> map_;
    std::size_t bytes_ = 0;
};

} // namespace dockpol::sidecar
