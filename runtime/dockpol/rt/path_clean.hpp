// Lexical path cleaning (like Go's path.Clean) and the `covers` relation:
// `a covers b` when cleaned `a` equals cleaned `b` or is a directory above it,
// compared segment-wise ("/var" covers "/var/run", not "/variable").
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace dockpol::rt {

// Cleans a slash-separated path: collapses `//`, drops `.`, resolves `..`
// lexically (never above the root for absolute paths), no trailing slash.
inline std::string clean_path(std::string_view p) {
    if (p.empty()) return ".";
    const bool rooted = p.front() == '/';
    std::vector<std::string_view> parts;
    std::size_t i = 0;
    while (i < p.size()) {
        while (i < p.size() && p[i] == '/') ++i;
        std::size_t j = i;
        while (j < p.size() && p[j] != '/') ++j;
        std::string_view seg = p.substr(i, j - i);
        i = j;
        if (seg.empty() || seg == ".") continue;
        if (seg == "..") {
            if (!parts.empty() && parts.back() != "..") parts.pop_back();
            else if (!rooted) parts.push_back(seg);
            continue;
        }
        parts.push_back(seg);
    }
    std::string out = rooted ? "/" : "";
    for (std::size_t k = 0; k < parts.size(); ++k) {
        if (k) out += '/';
        out += parts[k];
    }
    if (out.empty()) out = ".";
    return out;
}

// True when `a` covers `b` after cleaning both: equal, or `a` is an ancestor
// directory of `b`. Relative and absolute paths never cover each other.
inline bool covers(std::string_view a, std::string_view b) {
    const std::string ca = clean_path(a), cb = clean_path(b);
    if (ca.empty() || cb.empty() || (ca.front() == '/') != (cb.front() == '/')) return false;
    if (ca == cb) return true;
    if (ca == "/") return true;
    return cb.size() > ca.size() && cb.compare(0, ca.size(), ca) == 0 && cb[ca.size()] == '/';
}

} // namespace dockpol::rt
