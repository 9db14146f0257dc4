// The owner label written into a create body as a splice on the validated
// bytes (never a DOM round trip: every other byte reaches dockerd as the
// client sent it), and the check that an update keeps it.
//
// Keys are found the way dockerd's encoding/json finds them (the projection
// scanner: `labels`, `LABELS`, `\u004cabels` are `Labels`; two spellings of
// one key in an object are refused); the label map's keys are Go map keys,
// matched byte for byte.
#pragma once
#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dockpol/rt/actions.hpp"
#include "dockpol/rt/detail/owner_label_text.hpp"
#include "dockpol/rt/json_scan.hpp"

namespace dockpol::rt {

// A create body with the owner label set: `body` is the bytes to forward
// when `changed`; `rewrites` says what was set, one line per place.
struct splice_result {
    owner_errc error = owner_errc::none;
    std::string reason;                  // why, when error != none
    bool changed = false;
    std::string body;
    std::vector<std::string> rewrites;
};

// The owner label may grow a body by at most this much (one label per
// volume mount, plus the top level): a bound on what a body of thousands of
// mounts could make dockpold allocate.
inline constexpr std::size_t owner_max_splice_growth = 256 * 1024;

} // namespace dockpol::rt

namespace dockpol::rt::detail {

// Where a create body holds labels dockpold sets.
enum class label_places : std::uint8_t {
    top,         // volume, network, secret, config: top-level Labels
    container,   // + HostConfig.Mounts[].VolumeOptions.Labels
    service,     // + TaskTemplate.ContainerSpec.Labels and its Mounts' VolumeOptions.Labels
};

inline std::optional<label_places> label_places_of(std::uint16_t action) {
    using a = action_code;
    switch (static_cast<action_code>(action)) {
    case a::container_create: return label_places::container;
    case a::service_create: return label_places::service;
    case a::volume_create:
    case a::network_create:
    case a::secret_create:
    case a::config_create:
    case a::service_update:
    case a::secret_update:
    case a::config_update: return label_places::top;
    default: return std::nullopt;
    }
}

// The projection of one shape for one label name, and its nodes.
struct label_plan {
    using node_id = json_projection::node_id;
    static constexpr node_id none = json_projection::none;

    std::string name;   // the projection's map-key steps point into it
    json_projection proj;
    // A Labels object and the owner label in it.
    struct labels_nodes { node_id labels = none, value = none; };
    labels_nodes top;
    node_id top_mounts = none;                     // container: top-level Mounts (refused)
    node_id mounts = none;                         // HostConfig.Mounts or ContainerSpec.Mounts
    node_id mount_type = none, volume_options = none;
    labels_nodes volume;                           // VolumeOptions.Labels
    node_id spec = none;                           // service: TaskTemplate.ContainerSpec
    labels_nodes spec_labels;

    label_plan(const label_plan&) = delete;   // `proj` points into `name`
    label_plan& operator=(const label_plan&) = delete;

    label_plan(std::string_view label_name, label_places where) : name(label_name) {
        // Fixed, small trees: far below the projection's node limit.
        const auto add = [&](node_id from, std::initializer_list<std::string_view> steps) {
            node_id at = from;
            for (const auto s : steps) at = *proj.child(at, {s, key_match::field});
            return at;
        };
        const auto labels_in = [&](node_id parent) {
            labels_nodes n;
            n.labels = add(parent, {"Labels"});
            n.value = *proj.child(n.labels, {name, key_match::exact});
            return n;
        };
        top = labels_in(json_projection::root);
        if (where == label_places::container) {
            top_mounts = add(json_projection::root, {"Mounts"});
            mounts = add(json_projection::root, {"HostConfig", "Mounts"});
        } else if (where == label_places::service) {
            spec = add(json_projection::root, {"TaskTemplate", "ContainerSpec"});
            spec_labels = labels_in(spec);
            mounts = add(spec, {"Mounts"});
        }
        if (mounts != none) {
            mount_type = add(mounts, {"Type"});
            volume_options = add(mounts, {"VolumeOptions"});
            volume = labels_in(volume_options);
        }
        proj.seal();
    }
};

// The plan for (shape, label name), rebuilt only when the name changes.
inline const label_plan& plan_for_label(label_places where, std::string_view label_name) {
    thread_local std::array<std::optional<label_plan>, 3> plans;
    auto& p = plans[static_cast<std::size_t>(where)];
    if (!p || p->name != label_name) p.emplace(label_name, where);
    return *p;
}

// The owner label's value in a scanned Labels value: nullopt when the
// label is absent; an error when Go could not decode it as map[string]string.
struct label_read {
    std::optional<std::string> value;
    std::string error;
};

inline label_read read_owner_label(const label_plan& plan, const label_plan::labels_nodes& n, const json_value& parent,
                                   std::string_view where) {
    label_read r;
    const json_value& labels = parent.fields[plan.proj.at(n.labels).index];
    if (labels.type == json_type::missing || labels.type == json_type::null) return r;
    if (labels.type != json_type::object) {
        r.error = std::string(where) + ": expected an object, got " + std::string(type_name(labels.type));
        return r;
    }
    const json_value& v = labels.fields[plan.proj.at(n.value).index];
    if (v.type == json_type::missing) return r;
    if (v.type == json_type::null) r.value = "";   // Go stores "" for null
    else if (v.type == json_type::string) r.value = v.text;
    else r.error = std::string(where) + "[\"" + plan.name + "\"]: expected a string, got " + std::string(type_name(v.type));
    return r;
}

// Collects the edits of one body, then applies them in order.
class label_splicer {
public:
    // `check_only`: find conflicts and bad requests, build no body.
    label_splicer(std::string_view body, const label_plan& plan, std::string_view user, splice_result& out,
                  bool check_only = false)
        : body_(body), plan_(plan), user_(user), out_(out), check_only_(check_only) {}

    void run() {
        json_value root;
        if (auto err = scan_json(body_, plan_.proj, root)) return bad("request body: " + err->message());
        if (root.type != json_type::object)
            return bad("request body: expected a JSON object, got " + std::string(type_name(root.type)));
        if (plan_.top_mounts != label_plan::none && field(root, plan_.top_mounts).type != json_type::missing)
            return bad("HostConfig field \"Mounts\" at the top level of a create body (put it under \"HostConfig\")");
        set_in(root, plan_.top, "Labels");
        if (plan_.spec != label_plan::none) {
            const json_value* container_spec = object_at(root, plan_.spec);
            if (container_spec) set_in(*container_spec, plan_.spec_labels, "TaskTemplate.ContainerSpec.Labels");
        }
        if (plan_.mounts != label_plan::none) label_mounts(root);
        if (out_.error != owner_errc::none || edits_.empty() || check_only_) return;
        apply();
    }

private:
    struct edit {
        std::size_t at;
        std::size_t erase;   // bytes of the original replaced (a `null`)
        std::string text;
    };

    std::string_view body_;
    const label_plan& plan_;
    std::string_view user_;
    splice_result& out_;
    bool check_only_;
    std::vector<edit> edits_;
    std::size_t growth_ = 0;

    void bad(std::string why) {
        if (out_.error != owner_errc::none) return;
        out_.error = owner_errc::bad_request;
        out_.reason = std::move(why);
    }

    const json_value& field(const json_value& parent, label_plan::node_id n) const {
        return parent.fields[plan_.proj.at(n).index];
    }

    // The object at node n (below the root), nullptr when it or an object
    // on the way is missing or null; anything else on the way is refused.
    const json_value* object_at(const json_value& root, label_plan::node_id n) {
        label_plan::node_id chain[4];   // the plans nest objects two deep
        std::size_t k = 0;
        for (auto at = n; at != json_projection::root; at = plan_.proj.at(at).parent) chain[k++] = at;
        const json_value* v = &root;
        std::string where;
        while (k > 0) {
            const auto& node = plan_.proj.at(chain[--k]);
            where += where.empty() ? "" : ".";
            where += node.name;
            v = &v->fields[node.index];
            if (v->type == json_type::missing || v->type == json_type::null) return nullptr;
            if (v->type != json_type::object) {
                bad(where + ": expected an object, got " + std::string(type_name(v->type)));
                return nullptr;
            }
        }
        return v;
    }

    void add(std::size_t at, std::size_t erase, std::string text, std::string rewrite) {
        growth_ += text.size();
        if (growth_ > owner_max_splice_growth)
            return bad("the owner label would grow the body by more than " + std::to_string(owner_max_splice_growth) +
                       " bytes (too many volume mounts)");
        edits_.push_back({at, erase, std::move(text)});
        out_.rewrites.push_back(std::move(rewrite) + ": set label " + plan_.name + "=" + std::string(user_));
    }

    // `"NAME":"USER"` plus a comma when the object at `obj` has members.
    std::string first_member(std::string_view member, std::size_t obj) const {
        std::string t(member);
        std::size_t p = obj + 1;
        while (ws_table[static_cast<unsigned char>(body_[p])]) ++p;
        if (body_[p] != '}') t += ',';
        return t;
    }

    std::string label_member() const {
        std::string m;
        append_label_member(m, plan_.name, user_);
        return m;
    }

    // Sets the owner label in the Labels member `n` of `parent` (an object).
    void set_in(const json_value& parent, const label_plan::labels_nodes& n, std::string_view where) {
        const json_value& labels = field(parent, n.labels);
        if (labels.type == json_type::missing)
            return add(parent.offset + 1, 0, first_member("\"Labels\":{" + label_member() + "}", parent.offset),
                       std::string(where));
        if (labels.type == json_type::null) return add(labels.offset, 4, "{" + label_member() + "}", std::string(where));
        if (labels.type != json_type::object)
            return bad(std::string(where) + ": expected an object, got " + std::string(type_name(labels.type)));
        const json_value& v = field(labels, n.value);
        if (v.type == json_type::missing)
            return add(labels.offset + 1, 0, first_member(label_member(), labels.offset), std::string(where));
        if (v.type == json_type::string && v.text == user_) return;
        if (v.type == json_type::string || v.type == json_type::null) {
            out_.error = owner_errc::conflict;
            out_.reason = std::string(where) + " sets the owner label " + plan_.name + " to \"" +
                          (v.type == json_type::null ? std::string() : v.text) + "\", not the caller";
            return;
        }
        bad(std::string(where) + "[\"" + plan_.name + "\"]: expected a string, got " + std::string(type_name(v.type)));
    }

    // Volume mounts: the label in VolumeOptions.Labels, so volumes dockerd
    // creates for them are the caller's too.
    void label_mounts(const json_value& root) {
        const bool container = plan_.spec == label_plan::none;
        const std::string path = container ? "HostConfig.Mounts" : "TaskTemplate.ContainerSpec.Mounts";
        const json_value* parent = object_at(root, plan_.proj.at(plan_.mounts).parent);
        if (!parent) return;
        const json_value& mounts = field(*parent, plan_.mounts);
        if (mounts.type == json_type::missing || mounts.type == json_type::null) return;
        if (mounts.type != json_type::array)
            return bad(path + ": expected an array, got " + std::string(type_name(mounts.type)));
        for (std::size_t i = 0; i < mounts.elements.size() && out_.error == owner_errc::none; ++i) {
            const json_value& m = mounts.elements[i];
            const std::string at = path + "[" + std::to_string(i) + "]";
            if (m.type == json_type::null) continue;
            if (m.type != json_type::object) return bad(at + ": expected an object, got " + std::string(type_name(m.type)));
            const json_value& type = field(m, plan_.mount_type);
            if (type.type == json_type::missing || type.type == json_type::null) continue;
            if (type.type != json_type::string)
                return bad(at + ".Type: expected a string, got " + std::string(type_name(type.type)));
            if (type.text != "volume") continue;
            const json_value& vo = field(m, plan_.volume_options);
            const std::string labels = "{\"Labels\":{" + label_member() + "}}";
            if (vo.type == json_type::missing)
                add(m.offset + 1, 0, first_member("\"VolumeOptions\":" + labels, m.offset), at + ".VolumeOptions.Labels");
            else if (vo.type == json_type::null)
                add(vo.offset, 4, labels, at + ".VolumeOptions.Labels");
            else if (vo.type != json_type::object)
                bad(at + ".VolumeOptions: expected an object, got " + std::string(type_name(vo.type)));
            else
                set_in(vo, plan_.volume, at + ".VolumeOptions.Labels");
        }
    }

    void apply() {
        std::stable_sort(edits_.begin(), edits_.end(), [](const edit& a, const edit& b) { return a.at < b.at; });
        out_.body.reserve(body_.size() + growth_);
        std::size_t from = 0;
        for (const auto& e : edits_) {
            out_.body.append(body_.substr(from, e.at - from));
            out_.body += e.text;
            from = e.at + e.erase;
        }
        out_.body.append(body_.substr(from));
        out_.changed = true;
    }
};

} // namespace dockpol::rt::detail
