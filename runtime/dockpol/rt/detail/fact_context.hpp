// Everything one request's facts are computed from, scanned and summarised
// at most once: the body (the document kind its action sends), the target's
// inspect answer, and the named objects looked up.
#pragma once
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dockpol/rt/actions.hpp"
#include "dockpol/rt/detail/body_plan.hpp"
#include "dockpol/rt/detail/container_summary.hpp"
#include "dockpol/rt/detail/host_access.hpp"
#include "dockpol/rt/program.hpp"
#include "dockpol/rt/request.hpp"

namespace dockpol::rt::detail {

// The document kind an action's request body is (doc_kind::count: none a fact reads).
inline doc_kind body_kind(std::uint16_t action) {
    using a = action_code;
    switch (static_cast<action_code>(action)) {
    case a::container_create: return doc_kind::create;
    case a::service_create:
    case a::service_update: return doc_kind::service;
    case a::container_exec: return doc_kind::exec;
    case a::volume_create: return doc_kind::volume;
    case a::plugin_pull:
    case a::plugin_upgrade: return doc_kind::plugin_grants;
    case a::plugin_set: return doc_kind::plugin_settings;
    default: return doc_kind::count;
    }
}

// Which container a container fact describes: the one the body creates, or the target.
enum class side : std::uint8_t { self, target };

// A scanned document and a reader over it.
struct scanned_doc {
    const slot_plan* plan = nullptr;          // nullptr: scanned with the bare template
    const json_projection* proj = nullptr;
    json_value root;
    std::optional<fact_reader> rd;
};

class fact_context {
public:
    fact_context(const request& req, const program_image& prog, std::span<const slot_desc> slots,
                 std::uint16_t action)
        : req(req), prog(prog), slots(slots), action(action),
          safety{prog.safe_host_paths, prog.safe_volume_drivers}, kind_(body_kind(action)) {}

    const request& req;
    const program_image& prog;
    std::span<const slot_desc> slots;
    std::uint16_t action;
    host_safety safety;

    std::optional<std::string> error;   // the first reason the request cannot be decided
    bool bad_request = false;           // the request itself is malformed (dockpold: 400)
    std::vector<std::string> wanted;    // "KIND:NAME" keys of objects not looked up yet

    doc_kind kind() const { return kind_; }

    // The body document; nullptr (and `error`) when it is missing or malformed.
    scanned_doc* body(bool with_raw = false) {
        if (body_) return &*body_;
        if (error) return nullptr;
        if (!req.body || req.body->empty()) return fail("request body required"), nullptr;
        body_.emplace();
        if (!scan(*body_, *req.body, kind_, true, with_raw, "request body: ")) return body_.reset(), nullptr;
        if (kind_ == doc_kind::create) check_top_level(*body_);
        if (error) return body_.reset(), nullptr;
        return &*body_;
    }

    // The target's inspect answer; nullptr (and `error`) when it was not looked up.
    scanned_doc* target() {
        if (target_) return &*target_;
        if (error) return nullptr;
        if (!req.resource_inspect)
            return fail("the target's inspect answer is needed and was not looked up"), nullptr;
        target_.emplace();
        if (!scan(*target_, *req.resource_inspect, doc_kind::inspect, true, false, "target's inspect answer: "))
            return target_.reset(), nullptr;
        return &*target_;
    }

    // A container's summary; `merged`: with named volumes and joined containers.
    const container_summary* container(side sd, bool merged) {
        auto& slot = sd == side::self ? self_ : target_sum_;
        if (!slot) {
            scanned_doc* d = sd == side::self ? body() : target();
            if (!d) return nullptr;
            slot = summarize(*d->rd);
            if (check(*d)) return nullptr;
        }
        auto& done = sd == side::self ? self_merged_ : target_merged_;
        if (merged && !done) {
            done = true;
            merge_objects(*slot);
            if (error) return nullptr;
        }
        return &*slot;
    }

    // A container's host access reasons (merged summary).
    const reasons* container_reasons(side sd) {
        auto& r = sd == side::self ? self_reasons_ : target_reasons_;
        if (!r) {
            const container_summary* s = container(sd, true);
            if (!s) return nullptr;
            r = container_host_access(*s, safety);
        }
        return &*r;
    }

    // A slot's label value in a container document.
    value label(side sd, std::size_t slot) {
        scanned_doc* d = sd == side::self ? body() : target();
        if (!d || !d->plan) return value::absent();
        const auto node = d->plan->slot_node[slot];
        if (node == json_projection::none) return value::absent();
        const json_value* labels = d->rd->get(fact_input::labels);
        if (!d->rd->object(labels, d->rd->name(fact_input::labels))) return check(*d), value::absent();
        const json_value* v = json_at(*d->proj, *labels, d->proj->at(node).parent, node);
        if (!v || v->type == json_type::missing) return value::absent();
        // Go stores "" for a null map value.
        if (v->type == json_type::null) return value::string("");
        const std::string* s = d->rd->string(v, d->rd->name(fact_input::labels));
        check(*d);
        return s ? value::string(*s) : value::absent();
    }

    std::nullopt_t fail(std::string why) {
        if (!error) error = std::move(why);
        return std::nullopt;
    }

    // Moves a reader's type error into `error`; true when there is one.
    bool check(scanned_doc& d) {
        if (d.rd && d.rd->error) fail(prefix_of(d) + *d.rd->error);
        return error.has_value();
    }

private:
    doc_kind kind_;
    std::optional<scanned_doc> body_, target_;
    std::optional<container_summary> self_, target_sum_;
    bool self_merged_ = false, target_merged_ = false;
    std::optional<reasons> self_reasons_, target_reasons_;

    std::string prefix_of(const scanned_doc& d) const {
        return &d == (body_ ? &*body_ : nullptr) ? "request body: " : "target's inspect answer: ";
    }

    bool scan(scanned_doc& d, std::string_view text, doc_kind k, bool with_plan, bool with_raw,
              std::string_view what) {
        const fact_template& t = template_for(k);
        d.proj = &t.proj;
        if (with_plan) {
            const slot_plan& p = plan_for(slots, k, with_raw);
            if (p.error) return fail(*p.error), false;
            if (p.own_paths) {
                d.plan = &p;
                d.proj = &p.proj;
            } else {
                d.plan = &p;   // slot_node all none: labels absent
            }
        }
        if (auto err = scan_json(text, *d.proj, d.root)) return fail(std::string(what) + err->message()), false;
        // dockerd decodes these documents into a struct, or (plugins) a slice: anything else is refused.
        const bool want_array = k == doc_kind::plugin_grants || k == doc_kind::plugin_settings;
        if (k != doc_kind::count && d.root.type != (want_array ? json_type::array : json_type::object))
            return fail(std::string(what) + "expected a JSON " + (want_array ? "array" : "object") + ", got " +
                        std::string(type_name(d.root.type))),
                   false;
        d.rd.emplace(*d.proj, d.root, t.inputs, k);
        return true;
    }

    // dockerd before 27.0 reads HostConfig fields from the top level of a
    // create body; no client puts them there, so such a body is refused.
    void check_top_level(scanned_doc& d) {
        const auto& nodes = template_for(doc_kind::create).inputs.top_level_host_config;
        for (std::size_t i = 0; i < nodes.size(); ++i)
            if (d.rd->present_at_root(nodes[i])) {
                bad_request = true;
                fail("HostConfig field \"" + std::string(host_config_fields[i]) +
                     "\" at the top level of a create body (put it under \"HostConfig\")");
                return;
            }
    }

    // The inspect answer of a named object; nullptr when it does not exist
    // or was not looked up yet (then its key is added to `wanted`).
    const std::string* object(std::string_view kind, std::string_view name) {
        std::string key(kind);
        key += ':';
        key += name;
        for (const auto& [k, v] : req.objects)
            if (k == key) return &v;
        if (!req.objects_known) add_unique(wanted, std::move(key));
        return nullptr;
    }

    void merge_objects(container_summary& s) {
        const std::size_t wanted_before = wanted.size();
        for (const auto& vol : std::vector<std::string>(s.volumes)) {
            const std::string* json = object("volume", vol);
            if (!json) continue;   // dockerd creates it with the options already counted
            scanned_doc d;
            if (!scan(d, *json, doc_kind::volume_inspect, false, false, "volume \"" + vol + "\": ")) return;
            add_volume_inspect(s, *d.rd);
            if (d.rd->error) return static_cast<void>(fail("volume \"" + vol + "\": " + *d.rd->error));
        }
        for (const auto& name : std::vector<std::string>(s.joined)) {
            const std::string* json = object("container", name);
            if (!json) continue;   // dockerd refuses to join a container that does not exist
            scanned_doc d;
            if (!scan(d, *json, doc_kind::inspect, false, false, "container \"" + name + "\": ")) return;
            const container_summary x = summarize(*d.rd);
            if (d.rd->error) return static_cast<void>(fail("container \"" + name + "\": " + *d.rd->error));
            // Its mounts become ours (VolumesFrom); its host access is inherited either way.
            for (const auto& p : x.host_paths) add_unique(s.host_paths, p);
            for (const auto& t : x.volume_types) add_unique(s.volume_types, t);
            for (const auto& v : x.volume_drivers) add_unique(s.volume_drivers, v);
            for (const auto& r : container_host_access(x, safety)) add_unique(s.inherited, name + ":" + r);
        }
        // Decided only once every object is known: the caller looks up `wanted` and asks again.
        if (wanted.size() > wanted_before) {
            std::string names;
            for (std::size_t i = wanted_before; i < wanted.size(); ++i) names += (names.empty() ? "" : ", ") + wanted[i];
            fail("objects the request names were not looked up: " + names);
        }
    }
};

} // namespace dockpol::rt::detail
