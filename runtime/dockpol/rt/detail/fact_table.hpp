// The derived facts (DESIGN §3.1): one row per fact field, naming the body
// inputs it needs and the function that computes it the way dockerd would
// interpret the body.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "dockpol/rt/detail/fact_inputs.hpp"
#include "dockpol/rt/detail/fact_rules.hpp"
#include "dockpol/rt/fields.hpp"
#include "dockpol/rt/image_ref.hpp"
#include "dockpol/rt/program.hpp"
#include "dockpol/rt/request.hpp"
#include "dockpol/rt/value.hpp"

namespace dockpol::rt::detail {

struct fact_env {
    const request& req;
    fact_reader& rd;
    const json_projection& proj;
    const json_value& root;
    json_projection::node_id key_node;   // container.labels.K: the node of key K
};

using fact_fn = value (*)(fact_env&);

// Collects a list fact's strings.
struct list_builder {
    std::vector<value> items;
    void add(std::string s) { items.push_back(value::string(std::move(s))); }
    value done() { return value::list(std::move(items)); }
};

inline value optional_string(const std::string* s) { return s ? value::string(*s) : value::absent(); }

// --- container_create --------------------------------------------------------

inline value container_privileged(fact_env& e) {
    return value::boolean(e.rd.boolean(e.rd.get(fact_input::privileged), e.rd.name(fact_input::privileged)).value_or(false));
}

inline value container_host_paths(fact_env& e) {
    list_builder out;
    e.rd.each_string(e.rd.get(fact_input::binds), e.rd.name(fact_input::binds), false, [&](std::string_view spec) {
        const auto src = bind_source(spec);
        if (!src.empty() && src.front() == '/') out.add(clean_absolute(src));
    });
    auto part = [&](const json_value& m, mount_part p) {
        const auto c = static_cast<std::size_t>(p);
        return e.rd.string(e.rd.get(m, fact_input::mounts, c), e.rd.name(fact_input::mounts, c));
    };
    e.rd.each(e.rd.get(fact_input::mounts), e.rd.name(fact_input::mounts), false, [&](const json_value& m) {
        if (!e.rd.object(&m, e.rd.name(fact_input::mounts))) return;
        const std::string* type = part(m, mount_part::type);
        if (!type) return;
        if (*type == "bind") {
            const std::string* src = part(m, mount_part::source);
            if (src && !src->empty()) out.add(src->front() == '/' ? clean_absolute(*src) : clean_path(*src));
        } else if (*type == "volume") {
            // Only the local driver (the default when no driver is named) bind-mounts `device`.
            const std::string* driver = part(m, mount_part::driver_name);
            if (driver && !driver->empty() && *driver != "local") return;
            const std::string* o = part(m, mount_part::opt_o);
            const std::string* device = part(m, mount_part::opt_device);
            if (o && device && has_bind_option(*o)) out.add(host_device_path(*device));
        }
    });
    return out.done();
}

inline value container_volumes(fact_env& e) {
    list_builder out;
    e.rd.each_string(e.rd.get(fact_input::binds), e.rd.name(fact_input::binds), false, [&](std::string_view spec) {
        const auto src = bind_source(spec);
        if (!src.empty() && src.front() != '/') out.add(std::string(src));
    });
    const auto t = static_cast<std::size_t>(mount_part::type);
    const auto s = static_cast<std::size_t>(mount_part::source);
    e.rd.each(e.rd.get(fact_input::mounts), e.rd.name(fact_input::mounts), false, [&](const json_value& m) {
        if (!e.rd.object(&m, e.rd.name(fact_input::mounts))) return;
        const std::string* type = e.rd.string(e.rd.get(m, fact_input::mounts, t), e.rd.name(fact_input::mounts, t));
        if (!type || *type != "volume") return;
        const std::string* src = e.rd.string(e.rd.get(m, fact_input::mounts, s), e.rd.name(fact_input::mounts, s));
        if (src && !src->empty()) out.add(*src);
    });
    return out.done();
}

// The namespace modes, in the order host_namespaces lists them.
struct namespace_mode {
    fact_input input;
    std::string_view name;
    bool can_join;   // `container:<id>` shares another container's namespace
};
inline constexpr std::array<namespace_mode, 6> namespace_modes = {{
    {fact_input::pid_mode, "pid", true},
    {fact_input::network_mode, "network", true},
    {fact_input::ipc_mode, "ipc", true},
    {fact_input::uts_mode, "uts", false},
    {fact_input::userns_mode, "userns", false},
    {fact_input::cgroupns_mode, "cgroup", false},
}};

inline constexpr std::uint32_t namespace_inputs(bool joinable_only) {
    std::uint32_t m = 0;
    for (const auto& n : namespace_modes)
        if (!joinable_only || n.can_join) m |= input_bit(n.input);
    return m;
}

inline value container_host_namespaces(fact_env& e) {
    list_builder out;
    for (const auto& n : namespace_modes) {
        // dockerd's IsHost() compares the mode with "host" exactly.
        const std::string* mode = e.rd.string(e.rd.get(n.input), e.rd.name(n.input));
        if (mode && *mode == "host") out.add(std::string(n.name));
    }
    return out.done();
}

inline value container_joins_container(fact_env& e) {
    bool joins = false;
    for (const auto& n : namespace_modes) {
        if (!n.can_join) continue;
        const std::string* mode = e.rd.string(e.rd.get(n.input), e.rd.name(n.input));
        joins = joins || (mode && mode->compare(0, 10, "container:") == 0);
    }
    e.rd.each_string(e.rd.get(fact_input::volumes_from), e.rd.name(fact_input::volumes_from), false,
                     [&](std::string_view) { joins = true; });
    return value::boolean(joins);
}

inline value container_cap_add(fact_env& e) {
    list_builder out;
    // CapAdd is a StrSlice: a single string is one capability.
    e.rd.each_string(e.rd.get(fact_input::cap_add), e.rd.name(fact_input::cap_add), true,
                     [&](std::string_view c) { out.add(normalize_capability(c)); });
    return out.done();
}

inline value container_devices(fact_env& e) {
    list_builder out;
    e.rd.each(e.rd.get(fact_input::devices), e.rd.name(fact_input::devices), false, [&](const json_value& d) {
        if (!e.rd.object(&d, e.rd.name(fact_input::devices))) return;
        const std::string* p = e.rd.string(e.rd.get(d, fact_input::devices, 0), e.rd.name(fact_input::devices, 0));
        if (p && !p->empty()) out.add(p->front() == '/' ? clean_absolute(*p) : *p);
    });
    // Any device request (`--gpus`) hands the container GPUs.
    bool gpu = false;
    e.rd.each(e.rd.get(fact_input::device_requests), e.rd.name(fact_input::device_requests), false,
              [&](const json_value&) { gpu = true; });
    if (gpu) out.add("gpu");
    return out.done();
}

inline value container_security_opt(fact_env& e) {
    list_builder out;
    e.rd.each_string(e.rd.get(fact_input::security_opt), e.rd.name(fact_input::security_opt), false,
                     [&](std::string_view s) { out.add(std::string(s)); });
    return out.done();
}

inline value container_user(fact_env& e) {
    return optional_string(e.rd.string(e.rd.get(fact_input::user), e.rd.name(fact_input::user)));
}

inline value container_uid(fact_env& e) {
    const std::string* u = e.rd.string(e.rd.get(fact_input::user), e.rd.name(fact_input::user));
    if (!u) return value::absent();
    const auto uid = numeric_uid(*u);
    return uid ? value::number(*uid) : value::absent();
}

inline value container_image(fact_env& e) {
    return optional_string(e.rd.string(e.rd.get(fact_input::image), e.rd.name(fact_input::image)));
}

inline value container_image_registry(fact_env& e) {
    const std::string* img = e.rd.string(e.rd.get(fact_input::image), e.rd.name(fact_input::image));
    if (!img || img->empty()) return value::absent();
    return value::string(image_registry(*img));
}

inline value container_labels(fact_env& e) {
    const json_value* labels = e.rd.get(fact_input::labels);
    if (!e.rd.object(labels, e.rd.name(fact_input::labels)) || e.key_node == json_projection::none)
        return value::absent();
    const json_value* v = json_at(e.proj, *labels, e.proj.at(e.key_node).parent, e.key_node);
    if (!v || v->type == json_type::missing) return value::absent();
    // Go stores "" for a null map value.
    if (v->type == json_type::null) return value::string("");
    const std::string* s = e.rd.string(v, e.rd.name(fact_input::labels));
    return optional_string(s);
}

// --- image_create / image_push (query and path, no body) -----------------------

inline std::optional<std::string> image_request_ref(const request& req) {
    if (req.action == "image_push") return join_image_ref(req.resource_id, query_get(req, "tag"));
    // dockerd pulls when fromImage is set, else imports from fromSrc.
    if (const auto from = query_get(req, "fromImage"); !from.empty()) return join_image_ref(from, query_get(req, "tag"));
    if (query_has(req, "fromSrc"))
        if (const auto repo = query_get(req, "repo"); !repo.empty()) return join_image_ref(repo, query_get(req, "tag"));
    return std::nullopt;
}

inline value image_ref(fact_env& e) {
    const auto ref = image_request_ref(e.req);
    return ref ? value::string(*ref) : value::absent();
}

inline value image_registry_fact(fact_env& e) {
    const auto ref = image_request_ref(e.req);
    return ref && !ref->empty() ? value::string(image_registry(*ref)) : value::absent();
}

// --- container_exec --------------------------------------------------------------

inline value exec_privileged(fact_env& e) {
    return value::boolean(
        e.rd.boolean(e.rd.get(fact_input::exec_privileged), e.rd.name(fact_input::exec_privileged)).value_or(false));
}

// An empty or missing User means the container's own user: reported as "".
inline value exec_user(fact_env& e) {
    const std::string* u = e.rd.string(e.rd.get(fact_input::exec_user), e.rd.name(fact_input::exec_user));
    return value::string(u ? *u : std::string());
}

inline value exec_uid(fact_env& e) {
    const std::string* u = e.rd.string(e.rd.get(fact_input::exec_user), e.rd.name(fact_input::exec_user));
    if (!u) return value::absent();
    const auto uid = numeric_uid(*u);
    return uid ? value::number(*uid) : value::absent();
}

inline value exec_cmd(fact_env& e) {
    list_builder out;
    e.rd.each_string(e.rd.get(fact_input::exec_cmd), e.rd.name(fact_input::exec_cmd), false,
                     [&](std::string_view s) { out.add(std::string(s)); });
    return out.done();
}

// --- volume_create ---------------------------------------------------------------

inline value volume_driver(fact_env& e) {
    const std::string* d = e.rd.string(e.rd.get(fact_input::volume_driver), e.rd.name(fact_input::volume_driver));
    return value::string(d && !d->empty() ? *d : std::string("local"));
}

inline value volume_host_path(fact_env& e) {
    const std::string* o = e.rd.string(e.rd.get(fact_input::volume_opt_o), e.rd.name(fact_input::volume_opt_o));
    const std::string* device =
        e.rd.string(e.rd.get(fact_input::volume_opt_device), e.rd.name(fact_input::volume_opt_device));
    if (!o || !device || !has_bind_option(*o)) return value::absent();
    return value::string(host_device_path(*device));
}

struct fact_row {
    field_id field;
    std::uint32_t inputs;   // input_bit mask of the body values it reads
    fact_fn compute;
};

inline constexpr std::uint32_t mounts_and_binds = input_bit(fact_input::binds) | input_bit(fact_input::mounts);

inline constexpr std::array<fact_row, 21> fact_table = {{
    {field_id::container_privileged, input_bit(fact_input::privileged), container_privileged},
    {field_id::container_host_paths, mounts_and_binds, container_host_paths},
    {field_id::container_volumes, mounts_and_binds, container_volumes},
    {field_id::container_host_namespaces, namespace_inputs(false), container_host_namespaces},
    {field_id::container_joins_container, namespace_inputs(true) | input_bit(fact_input::volumes_from),
     container_joins_container},
    {field_id::container_cap_add, input_bit(fact_input::cap_add), container_cap_add},
    {field_id::container_devices, input_bit(fact_input::devices) | input_bit(fact_input::device_requests),
     container_devices},
    {field_id::container_security_opt, input_bit(fact_input::security_opt), container_security_opt},
    {field_id::container_user, input_bit(fact_input::user), container_user},
    {field_id::container_uid, input_bit(fact_input::user), container_uid},
    {field_id::container_image, input_bit(fact_input::image), container_image},
    {field_id::container_image_registry, input_bit(fact_input::image), container_image_registry},
    {field_id::container_labels, input_bit(fact_input::labels), container_labels},
    {field_id::image_ref, 0, image_ref},
    {field_id::image_registry, 0, image_registry_fact},
    {field_id::exec_privileged, input_bit(fact_input::exec_privileged), exec_privileged},
    {field_id::exec_user, input_bit(fact_input::exec_user), exec_user},
    {field_id::exec_uid, input_bit(fact_input::exec_user), exec_uid},
    {field_id::exec_cmd, input_bit(fact_input::exec_cmd), exec_cmd},
    {field_id::volume_driver, input_bit(fact_input::volume_driver), volume_driver},
    {field_id::volume_host_path,
     input_bit(fact_input::volume_opt_o) | input_bit(fact_input::volume_opt_device), volume_host_path},
}};

inline const fact_row* find_fact(field_id f) {
    for (const auto& r : fact_table)
        if (r.field == f) return &r;
    return nullptr;
}

} // namespace dockpol::rt::detail
