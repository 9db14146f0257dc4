// What a request's target is called and labelled, for rules on
// `resource.name` / `resource.labels.K` (DESIGN §5): parse dockerd's inspect
// answer and cache it by id for at most 2 s. Misses are never cached (a
// container created a moment later must be found). The session does the I/O.
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

namespace dockpol::sidecar {

// Labels change only through re-creation, but names can be renamed: 2 s bounds how stale a decision can be.
inline constexpr std::chrono::milliseconds resource_cache_ttl{2000};
// Entries kept at most; a full cache is cleared (cheap, rare) rather than growing without bound.
inline constexpr std::size_t resource_cache_limit = 4096;
// An inspect answer larger than this is not a container/image/network/volume description.
inline constexpr std::size_t max_inspect_bytes = 8u << 20;

struct resource_info {
    std::optional<std::string> name;
    std::vector<std::pair<std::string, std::string>> labels;
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
    if (kind == "container") {
        // dockerd reports container names with a leading "/" (legacy link namespace); users write them without.
        if (auto n = str("Name")) r.name = n->starts_with('/') ? n->substr(1) : *n;
        config_labels();
    } else if (kind == "image") {
        if (auto t = j.find("RepoTags"); t != j.end() && t->is_array() && !t->empty() && t->front().is_string())
            r.name = t->front().get<std::string>();
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
inline std::string inspect_request(std::string_view path) {
    std::string s = "GET ";
    s += path;
    s += " HTTP/1.1\r\nHost: docker\r\nUser-Agent: dockpold\r\n\r\n";
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
            map_.erase(it);
            return std::nullopt;
        }
        return it->second.second;
    }

    void put(const std::string& key, resource_info info, clock::time_point now = clock::now()) {
        std::lock_guard lk(mu_);
        if (map_.size() >= resource_cache_limit) map_.clear();
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
};

} // namespace dockpol::sidecar
