// The objects a request names besides its path target, as "KIND:NAME"
// lookup keys: under `allow own` they must be the caller's too. A create
// body's volumes and joined containers come from the container summary the
// facts use (one reading of the body for both); networks, a service's
// secrets, configs and networks, and the other actions' single names are
// read here.
#pragma once
#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "dockpol/rt/actions.hpp"
#include "dockpol/rt/detail/body_plan.hpp"
#include "dockpol/rt/detail/container_summary.hpp"
#include "dockpol/rt/detail/owner_json_walk.hpp"
#include "dockpol/rt/detail/owner_label_text.hpp"
#include "dockpol/rt/request.hpp"

namespace dockpol::rt {

struct named_objects {
    owner_errc error = owner_errc::none;   // bad_request when the body cannot be read as dockerd would
    std::string reason;
    std::vector<std::string> keys;         // "volume:data", "container:web", "network:n1", "secret:ID", "config:ID"
};

} // namespace dockpol::rt

namespace dockpol::rt::detail {

// Networks every daemon has: nobody owns them, so they are not named
// objects (a container on the default bridge names no network of anyone).
inline bool predefined_network(std::string_view n) {
    return n.empty() || n == "default" || n == "bridge" || n == "host" || n == "none" || n.starts_with("container:");
}

class named_reader {
public:
    explicit named_reader(named_objects& out) : out_(out) {}

    void add(std::string_view kind, std::string_view name) {
        if (name.empty()) return;
        std::string key(kind);
        key += ':';
        key += name;
        add_unique(out_.keys, std::move(key));
    }

    void bad(std::string why) {
        if (out_.error != owner_errc::none) return;
        out_.error = owner_errc::bad_request;
        out_.reason = std::move(why);
    }
    bool failed() const { return out_.error != owner_errc::none; }

    // Scans `body` with `proj`; false (and the reason) when dockerd could not decode it as an object.
    bool scan(std::string_view body, const json_projection& proj, json_value& root) {
        if (auto err = scan_json(body, proj, root)) return bad("request body: " + err->message()), false;
        if (root.type != json_type::object)
            return bad("request body: expected a JSON object, got " + std::string(type_name(root.type))), false;
        return true;
    }

private:
    named_objects& out_;
};

// container_create: named volumes, VolumesFrom and `container:X` modes (the
// summary), user-defined networks of NetworkMode and EndpointsConfig, and
// legacy Links.
inline void create_named(std::string_view body, named_reader& nr) {
    const fact_template& t = template_for(doc_kind::create);
    json_value root;
    if (!nr.scan(body, t.proj, root)) return;
    fact_reader rd(t.proj, root, t.inputs, doc_kind::create);
    for (std::size_t i = 0; i < t.inputs.top_level_host_config.size(); ++i)
        if (rd.present_at_root(t.inputs.top_level_host_config[i]))
            return nr.bad("HostConfig field \"" + std::string(host_config_fields[i]) +
                          "\" at the top level of a create body (put it under \"HostConfig\")");
    const container_summary s = summarize(rd);
    if (const std::string* mode = rd.string(fact_input::network_mode); mode && !predefined_network(*mode))
        nr.add("network", *mode);
    // EndpointsConfig is a map of networks: the parent of its `host` node.
    const auto endpoints = t.proj.at(t.inputs.node[static_cast<std::size_t>(fact_input::endpoint_host)]).parent;
    const json_value* ep = json_at(t.proj, root, json_projection::root, endpoints);
    if (rd.error) return nr.bad("request body: " + *rd.error);
    if (ep && ep->type != json_type::missing && ep->type != json_type::null) {
        if (ep->type != json_type::object)
            return nr.bad("NetworkingConfig.EndpointsConfig: expected an object, got " + std::string(type_name(ep->type)));
        const validated_json j(body);
        j.each_member(j.at(ep->offset), [&](std::string_view net, validated_json::cursor v, const std::string&) {
            if (!predefined_network(net)) nr.add("network", net);
            return j.value_end(v);
        });
    }
    for (const auto& v : s.volumes) nr.add("volume", v);
    for (const auto& c : s.joined) nr.add("container", c);
    // `NAME[:ALIAS]`; dockerd strips a leading `/` (the inspect form `/db:/web/db`).
    rd.each_string(fact_input::links, false, [&](std::string_view link) {
        std::string_view name = link.substr(0, link.find(':'));
        if (name.starts_with('/')) name.remove_prefix(1);
        nr.add("container", name);
    });
    if (rd.error) return nr.bad("request body: " + *rd.error);
}

// A service's networks (TaskTemplate.Networks, and the deprecated top-level
// Networks), its ContainerSpec's secrets, configs and named volume mounts.
struct service_plan {
    using node_id = json_projection::node_id;
    json_projection proj;
    struct list { node_id list, item; std::string_view what, field; };
    std::array<list, 4> lists;
    node_id mounts, mount_type, mount_source;

    service_plan() {
        const auto add = [&](node_id from, std::initializer_list<std::string_view> steps) {
            node_id at = from;
            for (const auto s : steps) at = *proj.child(at, {s, key_match::field});
            return at;
        };
        const node_id spec_node = add(json_projection::root, {"TaskTemplate", "ContainerSpec"});
        const node_id tt = proj.at(spec_node).parent;
        const auto make = [&](node_id from, std::string_view name, std::string_view field, std::string_view kind) {
            const node_id l = add(from, {name});
            return list{l, add(l, {field}), kind, field};
        };
        lists = {make(tt, "Networks", "Target", "network"), make(json_projection::root, "Networks", "Target", "network"),
                 make(spec_node, "Secrets", "SecretID", "secret"), make(spec_node, "Configs", "ConfigID", "config")};
        mounts = add(spec_node, {"Mounts"});
        mount_type = add(mounts, {"Type"});
        mount_source = add(mounts, {"Source"});
        proj.seal();
    }
};

// The path of node n, for reasons.
inline std::string node_path(const json_projection& proj, json_projection::node_id n) {
    std::string p;
    for (auto at = n; at != json_projection::root; at = proj.at(at).parent)
        p = std::string(proj.at(at).name) + (p.empty() ? "" : ".") + p;
    return p;
}

// The value of node n below the root; nullptr when missing or null, or
// (with the reason) when something on the way is not an object.
inline const json_value* value_at(const json_projection& proj, const json_value& root, json_projection::node_id n,
                                  named_reader& nr) {
    json_projection::node_id chain[8];
    std::size_t k = 0;
    for (auto at = n; at != json_projection::root && k < 8; at = proj.at(at).parent) chain[k++] = at;
    const json_value* v = &root;
    while (k > 0) {
        if (v->type != json_type::object) return nr.bad(node_path(proj, chain[k]) + ": expected an object"), nullptr;
        v = &v->fields[proj.at(chain[--k]).index];
        if (v->type == json_type::missing || v->type == json_type::null) return nullptr;
    }
    return v;
}

// Calls fn(element, "PATH[i]") for each object element of the array at node n.
template <class Fn>
inline void each_element_object(const json_projection& proj, const json_value& root, json_projection::node_id n,
                                named_reader& nr, Fn&& fn) {
    const json_value* a = value_at(proj, root, n, nr);
    if (!a) return;
    const std::string path = node_path(proj, n);
    if (a->type != json_type::array) return nr.bad(path + ": expected an array, got " + std::string(type_name(a->type)));
    for (std::size_t i = 0; i < a->elements.size() && !nr.failed(); ++i) {
        const json_value& e = a->elements[i];
        if (e.type == json_type::null) continue;
        if (e.type != json_type::object)
            return nr.bad(path + "[" + std::to_string(i) + "]: expected an object, got " + std::string(type_name(e.type)));
        fn(e, path + "[" + std::to_string(i) + "]");
    }
}

// A string field of an element: nullptr when missing or null.
inline const std::string* element_string(const json_projection& proj, const json_value& e, json_projection::node_id n,
                                         const std::string& at, named_reader& nr) {
    const json_value& v = e.fields[proj.at(n).index];
    if (v.type == json_type::missing || v.type == json_type::null) return nullptr;
    if (v.type != json_type::string)
        return nr.bad(at + "." + std::string(proj.at(n).name) + ": expected a string, got " + std::string(type_name(v.type))),
               nullptr;
    return &v.text;
}

inline void service_named(std::string_view body, named_reader& nr) {
    static const service_plan plan;
    json_value root;
    if (!nr.scan(body, plan.proj, root)) return;
    for (const auto& l : plan.lists)
        each_element_object(plan.proj, root, l.list, nr, [&](const json_value& e, const std::string& at) {
            const std::string* name = element_string(plan.proj, e, l.item, at, nr);
            if (name && !(l.what == "network" && predefined_network(*name))) nr.add(l.what, *name);
        });
    each_element_object(plan.proj, root, plan.mounts, nr, [&](const json_value& m, const std::string& at) {
        const std::string* type = element_string(plan.proj, m, plan.mount_type, at, nr);
        const std::string* source = element_string(plan.proj, m, plan.mount_source, at, nr);
        if (type && *type == "volume" && source) nr.add("volume", *source);
    });
}

// network_connect / network_disconnect: the body's Container.
inline void network_member_named(std::string_view body, named_reader& nr) {
    static const auto plan = [] {
        std::pair<json_projection, json_projection::node_id> p;
        p.second = *p.first.child(json_projection::root, {"Container", key_match::field});
        p.first.seal();
        return p;
    }();
    json_value root;
    if (!nr.scan(body, plan.first, root)) return;
    const json_value& c = root.fields[plan.first.at(plan.second).index];
    if (c.type == json_type::missing || c.type == json_type::null) return;
    if (c.type != json_type::string) return nr.bad("Container: expected a string, got " + std::string(type_name(c.type)));
    nr.add("container", c.text);
}

inline named_objects objects_named(std::uint16_t action, const request& req) {
    named_objects out;
    named_reader nr(out);
    const bool body = req.body && !req.body->empty();
    using a = action_code;
    switch (static_cast<action_code>(action)) {
    case a::container_create:
        if (body) create_named(*req.body, nr);
        break;
    case a::service_create:
    case a::service_update:
        if (body) service_named(*req.body, nr);
        break;
    case a::network_connect:
    case a::network_disconnect:
        if (body) network_member_named(*req.body, nr);
        break;
    case a::image_commit:
        // dockerd reads the first value (Form.Get).
        for (const auto& [k, v] : req.query)
            if (k == "container") {
                nr.add("container", v);
                break;
            }
        break;
    default: break;
    }
    if (out.error != owner_errc::none) out.keys.clear();
    return out;
}

} // namespace dockpol::rt::detail
