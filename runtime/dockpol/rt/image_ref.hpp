// Image references the way Docker reads them: which registry a reference
// names, and the reference an image pull (`fromImage` + `tag`) asks for.
#pragma once
#include <string>
#include <string_view>

namespace dockpol::rt {

// Docker Hub's canonical domain, and the legacy spelling Docker folds into it.
inline constexpr std::string_view default_registry = "docker.io";
inline constexpr std::string_view legacy_default_registry = "index.docker.io";

// The registry of `ref` by Docker's reference rule: the part before the first
// `/` is a registry when it contains `.` or `:`, is `localhost`, or has an
// upper-case letter (repository paths are lower-case, host names need not
// be); otherwise — and when there is no `/` — the image is on Docker Hub.
// Returned lower-cased: host names are case-insensitive, so a policy's
// comparison must not be dodged by spelling `EVIL.example`.
inline std::string image_registry(std::string_view ref) {
    const auto slash = ref.find('/');
    if (slash == std::string_view::npos) return std::string(default_registry);
    const std::string_view first = ref.substr(0, slash);
    bool upper = false;
    for (const char c : first) upper = upper || (c >= 'A' && c <= 'Z');
    const bool is_registry = first.find_first_of(".:") != std::string_view::npos || first == "localhost" || upper;
    if (!is_registry) return std::string(default_registry);
    std::string out(first);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (out == legacy_default_registry) return std::string(default_registry);
    return out;
}

// The reference an image request names: `name` plus `tag` as dockerd joins
// them — a tag that parses as a digest (`algorithm:hex`, so it has a `:`)
// is appended with `@`, any other non-empty tag with `:`.
inline std::string image_ref_with_tag(std::string_view name, std::string_view tag) {
    std::string out(name);
    if (tag.empty()) return out;
    out += tag.find(':') != std::string_view::npos ? '@' : ':';
    out += tag;
    return out;
}

} // namespace dockpol::rt
