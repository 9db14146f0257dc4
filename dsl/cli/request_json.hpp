// REQUEST.json (docs/cli.md) → rt::request. The action and resource id come
// from rt::route exactly as dockpold derives them; an explicit "action"
// overrides. "body" (any JSON) is serialised; "body_raw" is used byte-exact,
// so cases can carry duplicate or case-folded keys the scanner must refuse.
// "resource" carries what dockpold would have looked up about the target
// (name, labels, names, its inspect JSON); "objects" the inspect JSON of
// other objects the request names. dockpolc looks nothing up: an object not
// listed in "objects" counts as not found (objects_known is always set).
#pragma once
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "cli/resource_json.hpp"
#include "dockpol/rt/actions.hpp"
#include "dockpol/rt/request.hpp"
#include "dockpol/rt/routes.hpp"

namespace dockpol::dsl::cli {

// Why a request could not be built: its JSON shape is wrong (malformed),
// or dockpold would refuse it with 400 before any decision (route).
struct request_error {
    enum kind { malformed, route } k = malformed;
    std::string message;
};

// JSON in requests and cases nests at most this deep: nlohmann serialises
// (and compares) recursively, so depth a file controls must be bounded before
// the text is parsed. Docker bodies and inspect answers nest well under 20.
inline constexpr std::size_t max_json_depth = 64;

// The byte where `text` first nests deeper than `limit` arrays/objects, or
// none. A flat scan (strings skipped), so no input can exhaust the stack.
inline std::optional<std::size_t> json_too_deep_at(std::string_view text, std::size_t limit) {
    std::size_t depth = 0;
    bool in_string = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            if (c == '\\') ++i;
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > limit) return i;
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
    }
    return std::nullopt;
}

// Parses JSON text; the error names the file and nlohmann's byte position.
inline std::variant<nlohmann::json, std::string> parse_json_text(const std::string& file, const std::string& text) {
    if (auto at = json_too_deep_at(text, max_json_depth))
        return file + ": JSON nested more than " + std::to_string(max_json_depth) + " levels deep at byte " +
               std::to_string(*at) + " (max_json_depth)";
    try {
        return nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
        std::string what = e.what();
        // Drop nlohmann's "[json.exception.parse_error.101] " tag; keep its line/column text.
        if (auto close = what.find("] "); what.starts_with("[json.exception") && close != std::string::npos)
            what.erase(0, close + 2);
        return file + ": malformed JSON at byte " + std::to_string(e.byte) + ": " + what;
    } catch (const nlohmann::json::exception& e) {
        // A number out of range (`1e999`) is nlohmann's out_of_range, not a parse_error.
        std::string what = e.what();
        if (auto close = what.find("] "); what.starts_with("[json.exception") && close != std::string::npos)
            what.erase(0, close + 2);
        return file + ": malformed JSON: " + what;
    }
}

namespace detail {

inline std::string json_type(const nlohmann::json& v) { return v.type_name(); }

inline std::optional<std::string> want_string(const nlohmann::json& v, std::string_view key, std::string& out) {
    if (!v.is_string()) return "\"" + std::string(key) + "\" must be a string, not " + json_type(v);
    out = v.get<std::string>();
    return std::nullopt;
}

// An object of string values. Labels come out sorted by key: nlohmann's
// object map does not keep file order, and labels are unordered anyway.
inline std::optional<std::string> want_labels(const nlohmann::json& v, std::string_view key, rt::string_pairs& out) {
    if (!v.is_object()) return "\"" + std::string(key) + "\" must be an object of strings, not " + json_type(v);
    for (const auto& [k, val] : v.items()) {
        if (!val.is_string())
            return "\"" + std::string(key) + "\"." + k + " must be a string, not " + json_type(val);
        out.emplace_back(k, val.get<std::string>());
    }
    return std::nullopt;
}

// An array of strings.
inline std::optional<std::string> want_strings(const nlohmann::json& v, std::string_view key,
                                               std::vector<std::string>& out) {
    if (!v.is_array()) return "\"" + std::string(key) + "\" must be an array of strings, not " + json_type(v);
    for (const auto& s : v) {
        if (!s.is_string()) return "\"" + std::string(key) + "\" must hold strings only, found " + json_type(s);
        out.push_back(s.get<std::string>());
    }
    return std::nullopt;
}

} // namespace detail

inline std::variant<rt::request, request_error> request_from_json(const nlohmann::json& j) {
    using E = request_error;
    auto bad = [](std::string m) { return E{E::malformed, std::move(m)}; };
    if (!j.is_object()) return bad("a request must be a JSON object, not " + detail::json_type(j));

    rt::request req;
    // dockpolc looks nothing up: what "objects" does not list does not exist.
    req.objects_known = true;
    std::string method, target, action;
    bool has_path = false, has_action = false;
    bool has_name = false, has_labels = false, has_names = false;
    const nlohmann::json* inspect = nullptr;
    std::optional<std::string> err;
    for (const auto& [key, v] : j.items()) {
        if (key == "user") {
            err = detail::want_string(v, key, req.user);
        } else if (key == "groups") {
            if (!v.is_array()) {
                err = "\"groups\" must be an array of strings, not " + detail::json_type(v);
            } else {
                for (const auto& g : v) {
                    if (!g.is_string()) { err = "\"groups\" must hold strings only, found " + detail::json_type(g); break; }
                    req.groups.push_back(g.get<std::string>());
                }
            }
        } else if (key == "host") {
            err = detail::want_string(v, key, req.host);
        } else if (key == "host_labels") {
            err = detail::want_labels(v, key, req.host_labels);
        } else if (key == "method") {
            err = detail::want_string(v, key, method);
        } else if (key == "path") {
            has_path = true;
            err = detail::want_string(v, key, target);
        } else if (key == "action") {
            has_action = true;
            err = detail::want_string(v, key, action);
        } else if (key == "body") {
            if (j.contains("body_raw")) err = "give \"body\" or \"body_raw\", not both";
            else req.body = v.dump();
        } else if (key == "body_raw") {
            std::string raw;
            err = detail::want_string(v, key, raw);
            req.body = std::move(raw);
        } else if (key == "resource") {
            if (!v.is_object()) {
                err = "\"resource\" must be an object, not " + detail::json_type(v);
            } else {
                for (const auto& [rk, rv] : v.items()) {
                    if (rk == "name") {
                        std::string name;
                        has_name = true;
                        err = detail::want_string(rv, "resource.name", name);
                        req.resource_name = std::move(name);
                    } else if (rk == "labels") {
                        has_labels = true;
                        err = detail::want_labels(rv, "resource.labels", req.resource_labels);
                    } else if (rk == "names") {
                        has_names = true;
                        err = detail::want_strings(rv, "resource.names", req.resource_names);
                    } else if (rk == "inspect") {
                        if (!rv.is_object()) {
                            err = "\"resource.inspect\" must be the target's inspect JSON object, not " +
                                  detail::json_type(rv);
                        } else {
                            inspect = &rv;
                            req.resource_inspect = rv.dump();
                        }
                    } else {
                        err = "unknown key \"resource." + rk + "\" (expected name, labels, names, inspect)";
                    }
                    if (err) break;
                }
            }
        } else if (key == "objects") {
            if (!v.is_object()) {
                err = "\"objects\" must be an object of KIND:NAME → inspect JSON, not " + detail::json_type(v);
            } else {
                for (const auto& [ok, ov] : v.items()) {
                    if ((err = detail::check_object_key(ok))) break;
                    if (!ov.is_object()) {
                        err = "\"objects\".\"" + ok + "\" must be an inspect JSON object, not " + detail::json_type(ov);
                        break;
                    }
                    req.objects.emplace_back(ok, ov.dump());
                }
            }
        } else {
            // A typo ("grups") would silently test another request; refuse it.
            err = "unknown key \"" + key +
                  "\" (expected user, groups, host, host_labels, method, path, body, body_raw, resource, objects, "
                  "action)";
        }
        if (err) return bad(*err);
    }
    if (!has_path && !has_action) return bad("a request needs \"path\" (with \"method\") or \"action\"");
    std::string_view kind;   // what the path's target is, for reading its inspect JSON

    if (has_path) {
        // A path without a method is read the way most probes are sent.
        if (method.empty()) method = "GET";
        rt::route_result r = rt::route(method, target);
        if (!r.ok) return E{E::route, "bad request: " + r.error};
        req.method = method;
        req.target = target;
        req.path = std::move(r.path);
        req.api_version = std::move(r.api_version);
        req.query = std::move(r.query);
        req.action = std::string(r.action);
        req.resource_id = std::move(r.resource_id);
        kind = r.inspect_kind;
    } else {
        req.method = method;
    }
    if (has_action) {
        if (!rt::find_action(action)) {
            std::string m = "unknown action \"" + action + "\"";
            if (auto alias = rt::action_alias(action)) m += "; did you mean \"" + std::string(*alias) + "\"?";
            return bad(m + " (see dockpolc actions)");
        }
        req.action = action;
        // Without a path, the action's resource says what the inspect JSON describes.
        if (kind.empty()) kind = rt::all_actions()[*rt::find_action(action)].resource;
    }
    if (inspect) detail::derive_from_inspect(kind, *inspect, has_name, has_labels, has_names, req);
    return req;
}

} // namespace dockpol::dsl::cli
