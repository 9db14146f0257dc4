// Which host paths a policy may declare safe (`safe host paths {...}`), and
// the message and help of dp-unsafe-path for the others: not absolute, not
// clean, `/`, or inside or above a directory of rt::never_safe_dirs.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "dockpol/rt/path_clean.hpp"
#include "dockpol/rt/safe_paths.hpp"

namespace dockpol::dsl {

// Why a declared safe path is refused: the message and its help line.
struct unsafe_path {
    std::string message;
    std::string help;
};

// Why `p` cannot be declared a safe host path, or none when it can.
inline std::optional<unsafe_path> check_safe_host_path(std::string_view p) {
    static constexpr std::string_view symlinks =
        "the kernel follows symlinks when it mounts, so a safe prefix must not be writable by anyone the policy "
        "does not trust";
    const std::string shown = "\"" + std::string(p) + "\"";
    if (p.empty() || p.front() != '/')
        return unsafe_path{"safe host path " + shown + " is not absolute",
                           "bind sources are absolute host paths; write the full path"};
    const std::string clean = rt::clean_path(p);
    if (clean != p)
        return unsafe_path{"safe host path " + shown + " is not clean", "write \"" + clean + "\""};
    if (clean == "/")
        return unsafe_path{"`/` can never be declared safe",
                           "it holds every host path; declare the directories binds may use"};
    if (const auto hit = rt::never_safe_for(clean); hit.dir)
        return unsafe_path{"safe host path " + shown + (hit.inside ? " is inside " : " contains ") +
                               std::string(hit.dir->path) + ", which can never be declared safe",
                           std::string(hit.dir->why) + "; " + std::string(symlinks)};
    return std::nullopt;
}

} // namespace dockpol::dsl
