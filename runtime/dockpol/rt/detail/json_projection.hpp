// A projection: the small trie of object paths a scan extracts. Each node is
// one object key below its parent; a node's children apply to the object at
// that node or, when the value there is an array, to each element object.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dockpol/rt/detail/json_limits.hpp"
#include "dockpol/rt/detail/json_text.hpp"

namespace dockpol::rt {

// How a key selects a node: `field` like Go's encoding/json decoding into a
// struct field (exact match preferred, else case-insensitive with simple
// folding); `exact` like decoding into a map (byte-equal keys only).
enum class key_match : std::uint8_t { field, exact };

struct path_step {
    std::string_view name;
    key_match match = key_match::field;
};

class json_projection {
public:
    using node_id = std::uint32_t;
    static constexpr node_id root = 0;
    static constexpr node_id none = 0xFFFFFFFFu;

    struct node {
        std::string_view name;       // as wanted; must outlive the projection
        key_match match = key_match::field;
        node_id parent = none;
        node_id first_child = none;
        node_id next_sibling = none;
        std::uint32_t child_count = 0;
        std::uint32_t index = 0;     // position among the parent's children
        std::uint32_t folded_begin = 0;  // folded name in the arena (field match)
        std::uint32_t folded_size = 0;
    };

    json_projection() { nodes_.emplace_back(); }

    // Adds (or finds) the child `step` of `parent`; nullopt when the node or
    // name limit is reached. Names are not copied.
    std::optional<node_id> child(node_id parent, path_step step) {
        for (node_id c = nodes_[parent].first_child; c != none; c = nodes_[c].next_sibling)
            if (nodes_[c].name == step.name && nodes_[c].match == step.match) return c;
        if (nodes_.size() >= json_max_nodes) return std::nullopt;
        node n;
        n.name = step.name;
        n.match = step.match;
        n.parent = parent;
        if (step.match == key_match::field) {
            char buf[json_max_name_bytes];
            const std::size_t len = detail::fold_key(step.name, buf, sizeof buf);
            if (len > sizeof buf) return std::nullopt;
            n.folded_begin = static_cast<std::uint32_t>(folded_.size());
            n.folded_size = static_cast<std::uint32_t>(len);
            folded_.append(buf, len);
        }
        const auto id = static_cast<node_id>(nodes_.size());
        node& p = nodes_[parent];
        n.index = p.child_count++;
        if (p.first_child == none) {
            p.first_child = id;
        } else {
            node_id last = p.first_child;
            while (nodes_[last].next_sibling != none) last = nodes_[last].next_sibling;
            nodes_[last].next_sibling = id;
        }
        nodes_.push_back(n);
        return id;
    }

    // Adds every step below `from`; returns the last node (or `from` for no steps).
    std::optional<node_id> add(std::span<const path_step> steps, node_id from = root) {
        node_id at = from;
        for (const auto& s : steps) {
            const auto c = child(at, s);
            if (!c) return std::nullopt;
            at = *c;
        }
        return at;
    }

    const node& at(node_id id) const { return nodes_[id]; }
    std::string_view folded(node_id id) const {
        return std::string_view(folded_).substr(nodes_[id].folded_begin, nodes_[id].folded_size);
    }
    std::size_t size() const { return nodes_.size(); }
    bool empty() const { return nodes_.size() == 1; }

    void reserve(std::size_t n) { nodes_.reserve(n); folded_.reserve(n * 12); }

private:
    std::vector<node> nodes_;
    std::string folded_;
};

} // namespace dockpol::rt
