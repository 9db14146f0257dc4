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
#include "dockpol/rt/detail/json_bytes.hpp"

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
        std::uint32_t index = 0;         // position among the parent's children
        std::uint32_t folded_begin = 0;  // folded name in the arena
        std::uint32_t folded_size = 0;
        std::uint32_t hash = 0;          // fold_hash(name)
        std::uint32_t table_begin = 0;   // children's hash table in index_ (sealed)
        std::uint32_t table_mask = 0;    // its size - 1
        std::uint32_t filter_begin = 0;  // children's (length, first byte) bitmap in filters_
    };

    json_projection() { nodes_.emplace_back(); }

    // Adds (or finds) the child `step` of `parent`; nullopt when the node
    // limit is reached. Names are not copied. Unseals the projection.
    // Field steps that fold alike (`Image`, `image`) are one node: dockpol
    // has no copy of Docker's types, and those have no two fields that
    // differ only in case, so such spellings always name the same field —
    // which also makes Go's "exact match first" rule moot here.
    std::optional<node_id> child(node_id parent, path_step step) {
        for (node_id c = nodes_[parent].first_child; c != none; c = nodes_[c].next_sibling) {
            if (nodes_[c].match != step.match) continue;
            if (step.match == key_match::exact ? nodes_[c].name == step.name : detail::fold_equal(step.name, folded(c)))
                return c;
        }
        if (nodes_.size() >= json_max_nodes) return std::nullopt;
        sealed_ = false;
        node n;
        n.name = step.name;
        n.match = step.match;
        n.parent = parent;
        n.folded_begin = static_cast<std::uint32_t>(folded_.size());
        detail::fold_each(step.name, [&](char c) { folded_ += c; return true; });
        n.folded_size = static_cast<std::uint32_t>(folded_.size() - n.folded_begin);
        n.hash = detail::hash_of_folded(std::string_view(folded_).substr(n.folded_begin, n.folded_size));
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

    // Builds each node's hash table of children (open addressing on the
    // folded name, at most half full), so a key costs one hash and a probe
    // or two instead of a compare per wanted child. Scanning an unsealed
    // projection is correct, only slower.
    void seal() {
        index_.clear();
        filters_.clear();
        for (auto& n : nodes_) {
            if (n.child_count == 0) continue;
            n.filter_begin = static_cast<std::uint32_t>(filters_.size());
            filters_.resize(filters_.size() + filter_words, 0);
            for (node_id c = n.first_child; c != none; c = nodes_[c].next_sibling) {
                const std::string_view f = folded(c);
                const unsigned bit = filter_bit(f.size(), f.empty() ? '\0' : f.front());
                filters_[n.filter_begin + bit / 64] |= std::uint64_t{1} << (bit % 64);
            }
            std::uint32_t size = 4;
            while (size < 2 * n.child_count) size *= 2;
            n.table_begin = static_cast<std::uint32_t>(index_.size());
            n.table_mask = size - 1;
            index_.resize(index_.size() + size, none);
            // Insert in declaration order so a probe meets earlier children first.
            for (node_id c = n.first_child; c != none; c = nodes_[c].next_sibling) {
                std::uint32_t h = nodes_[c].hash & n.table_mask;
                while (index_[n.table_begin + h] != none) h = (h + 1) & n.table_mask;
                index_[n.table_begin + h] = c;
            }
        }
        sealed_ = true;
    }
    bool sealed() const { return sealed_; }

    // Calls `visit(child)` for every child of `parent` whose folded name
    // may equal the folded `key` (callers re-check: a hash match, or, when
    // unsealed, every child). `ascii`: the key has no byte >= 0x80.
    template <class Visit>
    void candidates(node_id parent, std::string_view key, bool ascii, Visit&& visit) const {
        const node& p = nodes_[parent];
        if (!sealed_) {
            for (node_id c = p.first_child; c != none; c = nodes_[c].next_sibling) visit(c);
            return;
        }
        // An ASCII key folds to its upper-case self: its length and first
        // byte must be a wanted pair (most keys of a body stop here).
        if (ascii) {
            const unsigned bit = filter_bit(key.size(), key.empty() ? '\0' : detail::ascii_upper(key.front()));
            if (!(filters_[p.filter_begin + bit / 64] >> (bit % 64) & 1)) return;
        }
        const std::uint32_t h = detail::fold_hash(key, ascii);
        for (std::uint32_t i = h & p.table_mask;; i = (i + 1) & p.table_mask) {
            const node_id c = index_[p.table_begin + i];
            if (c == none) return;
            if (nodes_[c].hash == h) visit(c);
        }
    }

    const node& at(node_id id) const { return nodes_[id]; }
    std::string_view folded(node_id id) const {
        return std::string_view(folded_).substr(nodes_[id].folded_begin, nodes_[id].folded_size);
    }
    std::size_t size() const { return nodes_.size(); }
    bool empty() const { return nodes_.size() == 1; }

private:
    // (folded length mod 32, first folded byte mod 32): 1024 bits per node.
    static constexpr std::size_t filter_words = 16;
    static unsigned filter_bit(std::size_t len, char first) {
        return static_cast<unsigned>((len & 31) << 5 | (static_cast<unsigned char>(first) & 31));
    }

    std::vector<node> nodes_;
    std::vector<std::uint64_t> filters_;
    std::string folded_;
    std::vector<node_id> index_;
    bool sealed_ = false;
};

} // namespace dockpol::rt
