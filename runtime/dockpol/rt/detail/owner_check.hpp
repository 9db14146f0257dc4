// `allow own`: whether a request touches only the caller's objects — its
// target (owner forms target and keep) and every object it names
// (owner_named.hpp), each judged by its owner label in dockerd's inspect
// answer.
#pragma once
#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dockpol/rt/detail/owner_named.hpp"
#include "dockpol/rt/owner_forms.hpp"

namespace dockpol::rt {

enum class ownership : std::uint8_t {
    owned,          // the rule may allow
    not_owned,      // the rule does not match (`reason` says why)
    need_lookups,   // look up `lookups` ("KIND:NAME"), put them in request.objects, ask again
    error,          // cannot decide: deny by rule `error` (`bad_request`: answer 400)
};

struct ownership_result {
    ownership verdict = ownership::not_owned;
    std::string reason;
    std::vector<std::string> lookups;
    bool bad_request = false;
};

} // namespace dockpol::rt

namespace dockpol::rt::detail {

// Where an inspect answer keeps an object's labels.
enum class inspect_labels : std::uint8_t { config_labels, labels, spec_labels };

inline inspect_labels inspect_labels_of(std::string_view kind) {
    if (kind == "container") return inspect_labels::config_labels;
    if (kind == "volume" || kind == "network") return inspect_labels::labels;
    return inspect_labels::spec_labels;   // secret, config, service
}

struct inspect_label_plan {
    std::string name;
    json_projection proj;
    json_projection::node_id labels = json_projection::none, value = json_projection::none;

    inspect_label_plan(const inspect_label_plan&) = delete;   // `proj` points into `name`
    inspect_label_plan& operator=(const inspect_label_plan&) = delete;

    inspect_label_plan(std::string_view label_name, inspect_labels where) : name(label_name) {
        json_projection::node_id at = json_projection::root;
        if (where == inspect_labels::config_labels) at = *proj.child(at, {"Config", key_match::field});
        if (where == inspect_labels::spec_labels) at = *proj.child(at, {"Spec", key_match::field});
        labels = *proj.child(at, {"Labels", key_match::field});
        value = *proj.child(labels, {name, key_match::exact});
        proj.seal();
    }
};

// The owner label of an object from its inspect answer: nullopt when
// unset; `error` when the answer is not what dockerd sends.
inline std::optional<std::string> owner_in_inspect(std::string_view kind, std::string_view json,
                                                   std::string_view label_name, std::string& error) {
    thread_local std::array<std::optional<inspect_label_plan>, 3> plans;
    const auto where = inspect_labels_of(kind);
    auto& plan = plans[static_cast<std::size_t>(where)];
    if (!plan || plan->name != label_name) plan.emplace(label_name, where);
    json_value root;
    if (auto err = scan_json(json, plan->proj, root)) return error = err->message(), std::nullopt;
    const json_value* v = json_at(plan->proj, root, json_projection::root, plan->value);
    if (!v || v->type == json_type::missing || v->type == json_type::null) return std::nullopt;
    if (v->type != json_type::string) return error = "the owner label is not a string", std::nullopt;
    return v->text;
}

inline const std::string* find_pair(const string_pairs& pairs, std::string_view key) {
    for (const auto& [k, v] : pairs)
        if (k == key) return &v;
    return nullptr;
}

inline ownership_result check_owned(std::uint16_t action, const request& req, std::string_view label_name) {
    ownership_result r;
    const auto no = [&](std::string why) {
        r.verdict = ownership::not_owned;
        r.reason = std::move(why);
        return r;
    };
    // An empty user would match an empty label: nobody's object is everybody's.
    if (const auto bad = owner_text_error(label_name, req.user); !bad.empty()) {
        r.verdict = ownership::error;
        r.reason = bad;
        return r;
    }
    const owner_form form = owner_form_of(action);
    switch (form) {
    case owner_form::none: return no("the action has no owner");
    case owner_form::list:
    case owner_form::swarm_list: r.verdict = ownership::owned; return r;   // the filter rewrite restricts it
    case owner_form::target:
    case owner_form::keep: {
        // For an exec id, resource_labels are its container's.
        const std::string* owner = find_pair(req.resource_labels, label_name);
        if (!owner) return no("the target has no owner label " + std::string(label_name));
        if (*owner != req.user) return no("the target belongs to another user");
        break;
    }
    case owner_form::create:
    case owner_form::named: break;
    }
    named_objects named = objects_named(action, req);
    if (named.error != owner_errc::none) {
        r.verdict = ownership::error;
        r.reason = std::move(named.reason);
        r.bad_request = true;
        return r;
    }
    if (form == owner_form::named && named.keys.empty()) return no("the request names no object");
    if (!req.objects_known) {
        for (const auto& k : named.keys)
            if (!find_pair(req.objects, k)) r.lookups.push_back(k);
        if (!r.lookups.empty()) {
            r.verdict = ownership::need_lookups;
            r.reason = "objects the request names were not looked up";
            return r;
        }
    }
    for (const auto& key : named.keys) {
        const auto colon = key.find(':');
        const std::string_view kind = std::string_view(key).substr(0, colon);
        const std::string* json = find_pair(req.objects, key);
        if (!json) {
            // dockerd creates a volume a create names and does not find: a fresh one, labelled for the caller.
            if (kind == "volume" && form == owner_form::create) continue;
            return no(key + " does not exist");
        }
        std::string error;
        const auto owner = owner_in_inspect(kind, *json, label_name, error);
        if (!error.empty()) {
            r.verdict = ownership::error;
            r.reason = key + ": inspect answer: " + error;
            return r;
        }
        if (!owner) return no(key + " has no owner label " + std::string(label_name));
        if (*owner != req.user) return no(key + " belongs to another user");
    }
    r.verdict = ownership::owned;
    return r;
}

} // namespace dockpol::rt::detail
