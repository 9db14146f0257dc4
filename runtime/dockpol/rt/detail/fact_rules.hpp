// How dockerd (and runc below it) reads the strings facts are made of:
// bind specs, mount options, user specs, capability names, image requests.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "dockpol/rt/image_ref.hpp"
#include "dockpol/rt/path_clean.hpp"
#include "dockpol/rt/request.hpp"

namespace dockpol::rt::detail {

// The source of a `HostConfig.Binds` entry, or "" for an anonymous volume:
// dockerd splits `src:dst[:mode]` at `:` and a single part is only a
// destination. (More than three parts is refused by dockerd; we still report
// the source, which can only deny more.)
inline std::string_view bind_source(std::string_view spec) {
    const auto colon = spec.find(':');
    if (colon == std::string_view::npos) return {};
    return spec.substr(0, colon);
}

// True when an absolute path is already in clean_path's form (the usual
// case), so it can be used as it is without a rebuild.
inline bool is_clean_absolute(std::string_view p) {
    if (p.empty() || p.front() != '/') return false;
    if (p.size() == 1) return true;
    if (p.back() == '/') return false;
    for (std::size_t i = 0; i < p.size(); ++i) {
        if (p[i] != '/') continue;
        // A segment that is empty, "." or "..".
        const std::string_view seg = p.substr(i + 1, p.find('/', i + 1) - (i + 1));
        if (seg.empty() || seg == "." || seg == "..") return false;
    }
    return true;
}

// An absolute path lexically cleaned (`//`, `.`, `..`).
inline std::string clean_absolute(std::string_view p) {
    return is_clean_absolute(p) ? std::string(p) : clean_path(p);
}

// True when a comma-separated mount option string holds `bind` or `rbind`:
// the local volume driver then bind-mounts its `device` from the host.
inline bool has_bind_option(std::string_view o) {
    std::size_t i = 0;
    while (i <= o.size()) {
        std::size_t j = o.find(',', i);
        if (j == std::string_view::npos) j = o.size();
        const auto tok = o.substr(i, j - i);
        if (tok == "bind" || tok == "rbind") return true;
        i = j + 1;
    }
    return false;
}

// A bind device as the host will resolve it, cleaned. The local driver runs
// inside dockerd, whose working directory is `/`, so a relative device is
// taken from the root.
inline std::string host_device_path(std::string_view device) {
    if (!device.empty() && device.front() == '/') return clean_absolute(device);
    return clean_path("/" + std::string(device));
}

// The numeric uid of a `user[:group]` spec as runc resolves it: the part
// before the first `:` passed to Go's strconv.Atoi (optional sign, decimal
// digits, int64 range) is a uid — so "0000" and "+0" are root; anything
// else is a name looked up in the image's /etc/passwd (no fact).
inline std::optional<double> numeric_uid(std::string_view spec) {
    const std::string_view part = spec.substr(0, spec.find(':'));
    std::size_t i = 0;
    bool negative = false;
    if (!part.empty() && (part[0] == '+' || part[0] == '-')) {
        negative = part[0] == '-';
        i = 1;
    }
    if (i == part.size()) return std::nullopt;
    // int64 bounds: magnitude 2^63 only for a negative value.
    constexpr std::uint64_t max_positive = 9223372036854775807ull;
    std::uint64_t acc = 0;
    for (; i < part.size(); ++i) {
        const char c = part[i];
        if (c < '0' || c > '9') return std::nullopt;
        const auto d = static_cast<std::uint64_t>(c - '0');
        if (acc > (max_positive + 1 - d) / 10) return std::nullopt;
        acc = acc * 10 + d;
    }
    if (!negative && acc > max_positive) return std::nullopt;
    const double v = static_cast<double>(acc);
    return negative ? -v : v;
}

// A CapAdd entry as dockerd normalises it: Go's strings.ToUpper (which also
// maps `ı` U+0131 to I and `ſ` U+017F to S, so "ſys_admin" is SYS_ADMIN),
// then the `CAP_` prefix unless present; `ALL` stays `ALL`.
inline std::string normalize_capability(std::string_view cap) {
    std::string up;
    up.reserve(cap.size() + 4);
    for (std::size_t i = 0; i < cap.size();) {
        const char c = cap[i];
        if (c >= 'a' && c <= 'z') {
            up += static_cast<char>(c - 'a' + 'A');
            ++i;
        } else if (cap.compare(i, 2, "\xC4\xB1") == 0) {
            up += 'I';
            i += 2;
        } else if (cap.compare(i, 2, "\xC5\xBF") == 0) {
            up += 'S';
            i += 2;
        } else {
            up += c;
            ++i;
        }
    }
    if (up == "ALL" || up.compare(0, 4, "CAP_") == 0) return up;
    return "CAP_" + up;
}

// The first value of query parameter `key`, as Go's url.Values.Get.
inline std::string_view query_get(const request& req, std::string_view key) {
    for (const auto& [k, v] : req.query)
        if (k == key) return v;
    return {};
}

inline bool query_has(const request& req, std::string_view key) {
    for (const auto& kv : req.query)
        if (kv.first == key) return true;
    return false;
}

// The reference an image request names: dockerd trims a trailing `:` of
// `name`, and a `tag` replaces the name's own tag — a digest tag (it has a
// `:`) also drops the name's digest.
inline std::string join_image_ref(std::string_view name, std::string_view tag) {
    while (!name.empty() && name.back() == ':') name.remove_suffix(1);
    if (tag.empty()) return std::string(name);
    const bool digest_tag = tag.find(':') != std::string_view::npos;
    std::string_view digest;
    if (const auto at = name.find('@'); at != std::string_view::npos) {
        digest = name.substr(at);
        name = name.substr(0, at);
    }
    const auto slash = name.rfind('/');
    const auto colon = name.rfind(':');
    if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash))
        name = name.substr(0, colon);
    std::string out = image_ref_with_tag(name, tag);
    if (!digest_tag) out += digest;
    return out;
}

} // namespace dockpol::rt::detail
