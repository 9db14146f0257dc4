// The Docker Engine API router: request method + request-target -> action,
// target id, canonical path, API version and decoded query, the way dockerd
// (Go net/url + gorilla/mux) would see them; anything dockerd would redirect,
// decode differently or guess about is refused with a reason for a 400.
#pragma once
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "dockpol/rt/actions.hpp"
#include "dockpol/rt/detail/percent.hpp"
#include "dockpol/rt/detail/query.hpp"
#include "dockpol/rt/detail/request_target.hpp"
#include "dockpol/rt/detail/route_pattern.hpp"
#include "dockpol/rt/limits.hpp"
#include "dockpol/rt/request.hpp"

namespace dockpol::rt {

// One row of routes.def.
struct route_info {
    std::string_view method;
    std::string_view pattern;        // gorilla/mux template, without the version prefix
    std::uint16_t action_id;
    std::string_view inspect_kind;   // what the first path variable names, "" for nothing
};

namespace detail {
inline constexpr std::array route_table = {
#define ROUTE(method, pattern, action, kind) route_info{method, pattern, action_id(action_code::action), kind},
#include "dockpol/rt/routes.def"
#undef ROUTE
};

inline constexpr std::array<route_pattern, route_table.size()> route_patterns = {
#define ROUTE(method, pattern, action, kind) compile_pattern(pattern),
#include "dockpol/rt/routes.def"
#undef ROUTE
};

inline constexpr bool all_patterns_valid() {
    for (const auto& p : route_patterns)
        if (!p.valid) return false;
    return true;
}
static_assert(all_patterns_valid(), "routes.def holds a template the matcher cannot mirror exactly");
} // namespace detail

// The route table in dockerd's registration order (row N of docs/actions.md is index N-1).
inline std::span<const route_info> all_routes() { return detail::route_table; }

struct route_result {
    bool ok = false;
    std::string error;             // when !ok: reason for a 400
    std::uint16_t action_id = 0;   // unknown_action_id when no route matched
    std::string_view action;       // name
    std::string resource_id;       // first path variable as dockerd decodes it; "" for none and for `unknown`
    std::string path;              // canonical, version prefix stripped, decoded, no query
    std::string api_version;       // "1.41" or ""
    string_pairs query;            // decoded (Go url.ParseQuery semantics), in order
    std::string_view inspect_kind; // what resource_id names, "" for nothing
    std::uint16_t route_index = 0; // 1-based row of docs/actions.md that matched, 0 for none (audit, tests)
};

namespace detail {

// Fills `r` (except ok/error); returns "" or the reason for a 400.
inline std::string_view route_into(std::string_view method, std::string_view target, route_result& r) {
    if (method.empty()) return "empty method";
    for (const char c : method)
        if (!is_tchar(c)) return "invalid method";
    if (auto why = check_target_length(target); !why.empty()) return why;
    // Only origin-form reaches routing: absolute-form and `*` name no Docker endpoint.
    if (target.empty() || target.front() != '/') return "request target is not origin-form (must start with '/')";
    if (auto why = check_target_bytes(target); !why.empty()) return why;

    const std::size_t qmark = target.find('?');
    const std::string_view raw_path = target.substr(0, qmark);
    const std::string_view raw_query = qmark == std::string_view::npos ? std::string_view{} : target.substr(qmark + 1);

    if (auto why = check_clean(raw_path); !why.empty()) return why;
    if (auto why = decode_path(raw_path, r.path); !why.empty()) return why;
    // Cannot differ from the raw check given the refused escapes; kept as a second line of defence.
    if (auto why = check_clean(r.path); !why.empty()) return why;

    // dockerd registers every route with and without `/v{version:[0-9.]+}`; no
    // unversioned route starts with such a segment, so stripping it is exact.
    const std::size_t seg_end = std::min(r.path.find('/', 1), r.path.size());
    const std::string_view first = std::string_view(r.path).substr(1, seg_end - 1);
    if (looks_like_version(first)) {
        unsigned major = 0, minor = 0;
        if (auto why = parse_version(first.substr(1), major, minor); !why.empty()) return why;
        if (seg_end == r.path.size()) return "API version prefix without a path";
        r.api_version.assign(first.substr(1));
        r.path.erase(0, seg_end);
    }

    if (auto why = parse_query(raw_query, limits::max_query_pairs, r.query); !why.empty()) return why;

    r.action_id = unknown_action_id;
    for (std::size_t i = 0; i < route_table.size(); ++i) {
        const route_info& ri = route_table[i];
        std::string_view var;
        if (ri.method != method || !match_pattern(route_patterns[i], r.path, var)) continue;
        r.action_id = ri.action_id;
        r.route_index = static_cast<std::uint16_t>(i + 1);
        // `unknown` carries no target: nothing about it is meaningful to a policy.
        if (ri.action_id != unknown_action_id) {
            r.resource_id.assign(var);
            r.inspect_kind = ri.inspect_kind;
        }
        break;
    }
    r.action = action_table[r.action_id].name;
    return "";
}

// Where each inspect kind is read and which action that path must route to.
struct inspect_row {
    std::string_view kind;
    std::string_view prefix;
    std::string_view suffix;
    bool keep_slash;          // the GET route's variable is `.*`/`.+`, so `/` may stay raw
    action_code action;
};

inline constexpr std::array inspect_table = {
    inspect_row{"container", "/containers/", "/json", true, action_code::container_inspect},
    inspect_row{"image", "/images/", "/json", true, action_code::image_inspect},
    inspect_row{"network", "/networks/", "", true, action_code::network_inspect},
    inspect_row{"volume", "/volumes/", "", true, action_code::volume_inspect},
    inspect_row{"exec", "/exec/", "/json", true, action_code::exec_inspect},
    inspect_row{"service", "/services/", "", false, action_code::service_inspect},
    inspect_row{"node", "/nodes/", "", false, action_code::node_inspect},
    inspect_row{"task", "/tasks/", "", false, action_code::task_inspect},
    inspect_row{"secret", "/secrets/", "", false, action_code::secret_inspect},
    inspect_row{"config", "/configs/", "", false, action_code::config_inspect},
    inspect_row{"plugin", "/plugins/", "/json", true, action_code::plugin_inspect},
};

} // namespace detail

// Routes one request. `target` is the request-target of the request line.
inline route_result route(std::string_view method, std::string_view target) {
    route_result r;
    const std::string_view why = detail::route_into(method, target, r);
    if (!why.empty()) {
        r = route_result{};
        r.error.assign(why);
        r.action = detail::action_table[unknown_action_id].name;
        return r;
    }
    r.ok = true;
    return r;
}

// The path (no version prefix, no query) that inspects `id` of `inspect_kind`
// over the upstream connection; "" when the kind has no inspect endpoint or
// the id cannot be addressed so that dockerd routes it back to exactly this
// id (empty, `/` in a one-segment id, dot segments, control bytes, ...).
inline std::string inspect_path(std::string_view inspect_kind, std::string_view id) {
    if (id.empty()) return "";
    for (const auto& row : detail::inspect_table) {
        if (row.kind != inspect_kind) continue;
        if (!row.keep_slash && id.find('/') != std::string_view::npos) return "";
        std::string p;
        p.reserve(row.prefix.size() + id.size() + row.suffix.size() + 16);
        p += row.prefix;
        detail::encode_path_bytes(id, row.keep_slash, p);
        p += row.suffix;
        // Proof by the router itself: the built path must name this id for this action.
        const route_result back = route("GET", p);
        if (!back.ok || back.action_id != action_id(row.action) || back.resource_id != id) return "";
        return p;
    }
    return "";
}

} // namespace dockpol::rt
