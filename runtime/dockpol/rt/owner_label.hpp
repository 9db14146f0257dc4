// What `owner label "NAME"` may name: one rule for the compiler (dp-owner-label)
// and the verifier, so a bundle cannot declare a label the compiler refuses.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace dockpol::rt {

// Docker's label key convention: lower-case letters, digits, `.` and `-`,
// starting and ending with a letter, no `..` or `--`. dockpold writes the key
// into `label=NAME=USER` filters, so `=` and `,` must never appear; the `.`
// keeps it namespaced (event filters also match plain attributes like `name`).
inline constexpr std::size_t max_owner_label_bytes = 128;

// Prefixes Docker reserves for its own labels.
inline constexpr std::string_view reserved_label_prefixes[] = {"com.docker.", "io.docker.", "org.dockerproject."};

// Why `name` cannot be the owner label, or none when it can.
inline std::optional<std::string> owner_label_problem(std::string_view name) {
    auto letter = [](char c) { return c >= 'a' && c <= 'z'; };
    auto digit = [](char c) { return c >= '0' && c <= '9'; };
    if (name.empty()) return "the owner label cannot be empty";
    if (name.size() > max_owner_label_bytes)
        return "the owner label is longer than " + std::to_string(max_owner_label_bytes) + " bytes";
    for (std::size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        if (!(letter(c) || digit(c) || c == '.' || c == '-'))
            return "a label key holds only lower-case letters, digits, '.' and '-'";
        if (i && (c == '.' || c == '-') && name[i - 1] == c)
            return std::string("a label key has no \"") + c + c + "\"";
    }
    if (!letter(name.front()) || !letter(name.back())) return "a label key starts and ends with a lower-case letter";
    if (name.find('.') == std::string_view::npos) return "the owner label needs a namespace: a '.' in its name";
    for (auto p : reserved_label_prefixes)
        if (name.substr(0, p.size()) == p) return "labels under \"" + std::string(p) + "\" are reserved for Docker";
    return std::nullopt;
}

} // namespace dockpol::rt
