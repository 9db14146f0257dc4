// The JSON documents facts are derived from, and where each value sits in
// each of them: one row per input with its path in every document kind that
// has it. A create body, a service's spec and an inspect answer describe the
// same container with different paths; the facts are computed from the
// inputs, so all three go through the same code (container_summary.hpp).
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dockpol/rt/detail/body_paths.hpp"
#include "dockpol/rt/json_scan.hpp"

namespace dockpol::rt::detail {

// A kind of JSON document a fact reads.
enum class doc_kind : std::uint8_t {
    create,          // container_create body (ContainerConfigWrapper)
    service,         // service_create / service_update body (ServiceSpec)
    inspect,         // GET /containers/ID/json answer
    exec,            // container_exec body
    volume,          // volume_create body
    volume_inspect,  // GET /volumes/NAME answer
    plugin_grants,   // plugin_pull / plugin_upgrade body: [{Name, Value}]
    plugin_settings, // plugin_set body: ["k=v", ...]
    count
};
inline constexpr std::size_t doc_kind_count = static_cast<std::size_t>(doc_kind::count);

enum class fact_input : std::uint8_t {
    // container documents (create, service, inspect)
    privileged, binds, mounts, pid_mode, network_mode, ipc_mode, uts_mode, userns_mode, cgroupns_mode,
    volumes_from, cap_add, capabilities, devices, device_cgroup_rules, device_requests, security_opt,
    masked_paths, readonly_paths, volume_driver_hc, user, image, labels,
    endpoint_host, svc_networks, svc_networks_old, seccomp_mode, seccomp_profile, apparmor_mode, selinux_disable, selinux_type,
    actual_mounts, links,
    // exec, volume, volume_inspect, plugin documents
    exec_privileged, exec_user, exec_cmd, volume_driver, volume_opts, volume_inspect_driver, volume_inspect_opts,
    plugin_grants, plugin_settings,
    count
};
inline constexpr std::size_t fact_input_count = static_cast<std::size_t>(fact_input::count);
inline constexpr std::size_t max_input_children = 6;

// Mount element sub-paths, in the order of the `mounts` row's children.
enum class mount_part : std::uint8_t { type, source, driver_name, opt_o, opt_device, opt_type };
// The inspect answer's top-level Mounts (what is actually mounted).
enum class actual_mount_part : std::uint8_t { type, source, name, driver };
// Local-driver options of a volume document, in the order of its children.
enum class volume_opt : std::uint8_t { o, device, type };

struct input_row {
    fact_input id;
    // Path per document kind, "" when that kind has no such value. A
    // create body is Config at the top plus HostConfig; a ServiceSpec keeps
    // the container under TaskTemplate.ContainerSpec.
    std::string_view create, service, inspect, other;
    doc_kind other_kind;   // the one non-container document `other` belongs to
    std::array<std::string_view, max_input_children> children;   // per array element or object
};

inline constexpr std::string_view spec = "TaskTemplate.ContainerSpec.";

inline constexpr std::array<input_row, fact_input_count> input_table = {{
    {fact_input::privileged, "HostConfig.Privileged", "", "HostConfig.Privileged", "", doc_kind::count, {}},
    {fact_input::binds, "HostConfig.Binds", "", "HostConfig.Binds", "", doc_kind::count, {}},
    {fact_input::mounts, "HostConfig.Mounts", "TaskTemplate.ContainerSpec.Mounts", "HostConfig.Mounts", "",
     doc_kind::count,
     {"Type", "Source", "VolumeOptions.DriverConfig.Name", "VolumeOptions.DriverConfig.Options.o",
      "VolumeOptions.DriverConfig.Options.device", "VolumeOptions.DriverConfig.Options.type"}},
    {fact_input::pid_mode, "HostConfig.PidMode", "", "HostConfig.PidMode", "", doc_kind::count, {}},
    {fact_input::network_mode, "HostConfig.NetworkMode", "", "HostConfig.NetworkMode", "", doc_kind::count, {}},
    {fact_input::ipc_mode, "HostConfig.IpcMode", "", "HostConfig.IpcMode", "", doc_kind::count, {}},
    {fact_input::uts_mode, "HostConfig.UTSMode", "", "HostConfig.UTSMode", "", doc_kind::count, {}},
    {fact_input::userns_mode, "HostConfig.UsernsMode", "", "HostConfig.UsernsMode", "", doc_kind::count, {}},
    {fact_input::cgroupns_mode, "HostConfig.CgroupnsMode", "", "HostConfig.CgroupnsMode", "", doc_kind::count, {}},
    {fact_input::volumes_from, "HostConfig.VolumesFrom", "", "HostConfig.VolumesFrom", "", doc_kind::count, {}},
    {fact_input::cap_add, "HostConfig.CapAdd", "TaskTemplate.ContainerSpec.CapabilityAdd", "HostConfig.CapAdd", "",
     doc_kind::count, {}},
    // API 1.40's HostConfig.Capabilities (and ContainerSpec's) replace the default set: count as added.
    {fact_input::capabilities, "HostConfig.Capabilities", "TaskTemplate.ContainerSpec.Capabilities",
     "HostConfig.Capabilities", "", doc_kind::count, {}},
    {fact_input::devices, "HostConfig.Devices", "", "HostConfig.Devices", "", doc_kind::count, {"PathOnHost"}},
    {fact_input::device_cgroup_rules, "HostConfig.DeviceCgroupRules", "", "HostConfig.DeviceCgroupRules", "",
     doc_kind::count, {}},
    {fact_input::device_requests, "HostConfig.DeviceRequests", "", "HostConfig.DeviceRequests", "", doc_kind::count,
     {}},
    {fact_input::security_opt, "HostConfig.SecurityOpt", "", "HostConfig.SecurityOpt", "", doc_kind::count, {}},
    {fact_input::masked_paths, "HostConfig.MaskedPaths", "", "HostConfig.MaskedPaths", "", doc_kind::count, {}},
    {fact_input::readonly_paths, "HostConfig.ReadonlyPaths", "", "HostConfig.ReadonlyPaths", "", doc_kind::count,
     {}},
    {fact_input::volume_driver_hc, "HostConfig.VolumeDriver", "", "HostConfig.VolumeDriver", "", doc_kind::count,
     {}},
    {fact_input::user, "User", "TaskTemplate.ContainerSpec.User", "Config.User", "", doc_kind::count, {}},
    {fact_input::image, "Image", "TaskTemplate.ContainerSpec.Image", "Config.Image", "", doc_kind::count, {}},
    {fact_input::labels, "Labels", "TaskTemplate.ContainerSpec.Labels", "Config.Labels", "", doc_kind::count, {}},
    // An endpoint on the predefined `host` network (dockerd may take the
    // network mode from the only endpoint named).
    {fact_input::endpoint_host, "NetworkingConfig.EndpointsConfig.host", "", "", "", doc_kind::count, {}},
    // A service on the predefined `host` network uses the host's network stack.
    {fact_input::svc_networks, "", "TaskTemplate.Networks", "", "", doc_kind::count, {"Target"}},
    {fact_input::svc_networks_old, "", "Networks", "", "", doc_kind::count, {"Target"}},
    {fact_input::seccomp_mode, "", "TaskTemplate.ContainerSpec.Privileges.Seccomp.Mode", "", "", doc_kind::count, {}},
    {fact_input::seccomp_profile, "", "TaskTemplate.ContainerSpec.Privileges.Seccomp.Profile", "", "",
     doc_kind::count, {}},
    {fact_input::apparmor_mode, "", "TaskTemplate.ContainerSpec.Privileges.AppArmor.Mode", "", "", doc_kind::count,
     {}},
    {fact_input::selinux_disable, "", "TaskTemplate.ContainerSpec.Privileges.SELinuxContext.Disable", "", "",
     doc_kind::count, {}},
    {fact_input::selinux_type, "", "TaskTemplate.ContainerSpec.Privileges.SELinuxContext.Type", "", "",
     doc_kind::count, {}},
    {fact_input::actual_mounts, "", "", "Mounts", "", doc_kind::count, {"Type", "Source", "Name", "Driver"}},
    // Legacy links name another container (and hand over its environment): an object the request names.
    {fact_input::links, "HostConfig.Links", "", "HostConfig.Links", "", doc_kind::count, {}},
    {fact_input::exec_privileged, "", "", "", "Privileged", doc_kind::exec, {}},
    {fact_input::exec_user, "", "", "", "User", doc_kind::exec, {}},
    {fact_input::exec_cmd, "", "", "", "Cmd", doc_kind::exec, {}},
    {fact_input::volume_driver, "", "", "", "Driver", doc_kind::volume, {}},
    {fact_input::volume_opts, "", "", "", "DriverOpts", doc_kind::volume, {"o", "device", "type"}},
    {fact_input::volume_inspect_driver, "", "", "", "Driver", doc_kind::volume_inspect, {}},
    {fact_input::volume_inspect_opts, "", "", "", "Options", doc_kind::volume_inspect, {"o", "device", "type"}},
    {fact_input::plugin_grants, "", "", "", "", doc_kind::plugin_grants, {"Name", "Value"}},
    {fact_input::plugin_settings, "", "", "", "", doc_kind::plugin_settings, {}},
}};

inline constexpr const input_row& row_of(fact_input i) { return input_table[static_cast<std::size_t>(i)]; }

static_assert([] {
    for (std::size_t i = 0; i < input_table.size(); ++i)
        if (static_cast<std::size_t>(input_table[i].id) != i) return false;
    return true;
}(), "input_table rows must follow the fact_input order");

// Whether document kind `k` has input `i`, and its path there.
inline constexpr std::optional<std::string_view> input_path(fact_input i, doc_kind k) {
    const auto& r = row_of(i);
    switch (k) {
    case doc_kind::create: return r.create.empty() ? std::nullopt : std::optional(r.create);
    case doc_kind::service: return r.service.empty() ? std::nullopt : std::optional(r.service);
    case doc_kind::inspect: return r.inspect.empty() ? std::nullopt : std::optional(r.inspect);
    default: return r.other_kind == k ? std::optional(r.other) : std::nullopt;
    }
}

// Keys of a map-typed input (volume options) are matched exactly; the
// children of those rows are map keys, not struct fields.
inline constexpr bool children_are_map_keys(fact_input i) {
    return i == fact_input::volume_opts || i == fact_input::volume_inspect_opts;
}

// HostConfig's JSON field names (API 1.24 to the newest). dockerd before
// 27.0 reads them from the top level of a create body (all of them when
// "HostConfig" is absent, some even when it is present); no client sends
// them there, so a create body with any of them at the top is refused.
inline constexpr std::array<std::string_view, 72> host_config_fields = {
    "Binds", "ContainerIDFile", "LogConfig", "NetworkMode", "PortBindings", "RestartPolicy", "AutoRemove",
    "VolumeDriver", "VolumesFrom", "ConsoleSize", "Annotations", "CapAdd", "CapDrop", "CgroupnsMode", "Dns",
    "DnsOptions", "DnsSearch", "ExtraHosts", "GroupAdd", "IpcMode", "Cgroup", "Links", "OomScoreAdj", "PidMode",
    "Privileged", "PublishAllPorts", "ReadonlyRootfs", "SecurityOpt", "StorageOpt", "Tmpfs", "UTSMode",
    "UsernsMode", "ShmSize", "Sysctls", "Runtime", "Isolation", "CpuShares", "Memory", "NanoCpus",
    "CgroupParent", "BlkioWeight", "BlkioWeightDevice", "BlkioDeviceReadBps", "BlkioDeviceWriteBps",
    "BlkioDeviceReadIOps", "BlkioDeviceWriteIOps", "CpuPeriod", "CpuQuota", "CpuRealtimePeriod",
    "CpuRealtimeRuntime", "CpusetCpus", "CpusetMems", "Devices", "DeviceCgroupRules", "DeviceRequests",
    "KernelMemory", "KernelMemoryTCP", "MemoryReservation", "MemorySwap", "MemorySwappiness", "OomKillDisable",
    "PidsLimit", "Ulimits", "CpuCount", "CpuPercent", "IOMaximumIOps", "IOMaximumBandwidth", "Mounts",
    "MaskedPaths", "ReadonlyPaths", "Init", "Capabilities"};

// Where each input (and each of its element sub-paths) sits in one
// document kind's projection.
struct input_nodes {
    using node_id = json_projection::node_id;
    using children = std::array<node_id, max_input_children>;
    std::array<node_id, fact_input_count> node;
    std::array<children, fact_input_count> child;
    std::vector<node_id> top_level_host_config;   // create bodies only

    input_nodes() {
        node.fill(json_projection::none);
        for (auto& c : child) c.fill(json_projection::none);
    }

    // Adds every input kind `k` has to `proj`; false when a projection limit is hit.
    bool add(json_projection& proj, doc_kind k, std::vector<path_step>& scratch) {
        for (const auto& row : input_table) {
            const auto path = input_path(row.id, k);
            if (!path) continue;
            const auto i = static_cast<std::size_t>(row.id);
            scratch.clear();
            body_path_steps(*path, scratch);
            const auto n = proj.add(scratch);
            if (!n) return false;
            node[i] = *n;
            for (std::size_t c = 0; c < max_input_children && !row.children[c].empty(); ++c) {
                scratch.clear();
                if (children_are_map_keys(row.id)) scratch.push_back({row.children[c], key_match::exact});
                else body_path_steps(row.children[c], scratch);
                const auto cn = proj.add(scratch, *n);
                if (!cn) return false;
                child[i][c] = *cn;
            }
        }
        if (k == doc_kind::create)
            for (const auto name : host_config_fields) {
                const auto n = proj.child(json_projection::root, {name, key_match::field});
                if (!n) return false;
                top_level_host_config.push_back(*n);
            }
        return true;
    }
};

// Names an input, or a sub-path of its elements, in error reasons.
struct path_name {
    std::string_view path;
    std::string_view child;   // "" for the input itself

    std::string text() const {
        return child.empty() ? std::string(path) : std::string(path) + "[]." + std::string(child);
    }
};

// Reads typed inputs from one scanned document; the first type error is
// kept in `error`.
class fact_reader {
public:
    using node_id = json_projection::node_id;

    fact_reader(const json_projection& proj, const json_value& root, const input_nodes& nodes, doc_kind kind)
        : proj_(proj), root_(root), nodes_(nodes), kind_(kind) {}

    std::optional<std::string> error;

    doc_kind kind() const { return kind_; }
    const json_value& root() const { return root_; }
    const json_projection& projection() const { return proj_; }

    // The value of an input; nullptr when this document kind has no such
    // input, or it (or an object on its way) is missing or null.
    const json_value* get(fact_input i) {
        return walk(root_, json_projection::root, nodes_.node[idx(i)], name(i));
    }

    // The value of sub-path `c` of input `i` inside one of its elements.
    const json_value* get(const json_value& element, fact_input i, std::size_t c) {
        if (element.type != json_type::object) return nullptr;
        return walk(element, nodes_.node[idx(i)], nodes_.child[idx(i)][c], name(i, c));
    }

    // The same for a sub-path of the input's object value itself (map inputs).
    const json_value* get_child(fact_input i, std::size_t c) {
        const json_value* v = get(i);
        if (!v || !object(v, name(i))) return nullptr;
        return walk(*v, nodes_.node[idx(i)], nodes_.child[idx(i)][c], name(i, c));
    }

    // How errors name an input: its path in this document.
    path_name name(fact_input i) const { return {input_path(i, kind_).value_or(""), {}}; }
    path_name name(fact_input i, std::size_t c) const {
        return {input_path(i, kind_).value_or(""), row_of(i).children[c]};
    }

    // A JSON value Go decodes into a bool.
    std::optional<bool> boolean(const json_value* v, path_name what) {
        if (!v) return std::nullopt;
        if (v->type != json_type::boolean) return bad(*v, what, "a boolean");
        return v->boolean;
    }

    // A JSON value Go decodes into a string; nullptr when missing or null.
    const std::string* string(const json_value* v, path_name what) {
        if (!v) return nullptr;
        if (v->type != json_type::string) {
            bad(*v, what, "a string");
            return nullptr;
        }
        return &v->text;
    }

    const std::string* string(fact_input i) { return string(get(i), name(i)); }
    const std::string* string(const json_value& element, fact_input i, std::size_t c) {
        return string(get(element, i, c), name(i, c));
    }

    // Calls fn(element) for each element of a JSON array Go decodes into a
    // slice; nothing for missing or null. `single_string`: Docker's StrSlice
    // also takes one string, which is then the only element.
    template <class Fn>
    void each(const json_value* v, path_name what, bool single_string, Fn&& fn) {
        if (!v) return;
        if (single_string && v->type == json_type::string) {
            fn(*v);
            return;
        }
        if (v->type != json_type::array) {
            bad(*v, what, single_string ? "an array or a string" : "an array");
            return;
        }
        for (const auto& e : v->elements) fn(e);
    }

    // Calls fn(text) for each element of a []string (null decodes to "").
    template <class Fn>
    void each_string(const json_value* v, path_name what, bool single_string, Fn&& fn) {
        each(v, what, single_string, [&](const json_value& e) {
            if (failed()) return;
            if (e.type == json_type::null) return fn(std::string_view{});
            if (e.type != json_type::string) return static_cast<void>(bad(e, what, "a list of strings"));
            fn(std::string_view(e.text));
        });
    }
    template <class Fn>
    void each_string(fact_input i, bool single_string, Fn&& fn) {
        each_string(get(i), name(i), single_string, std::forward<Fn>(fn));
    }

    // Calls fn(element) for each element that is an object (Go decodes
    // struct slices); a non-object element is an error, null is skipped.
    template <class Fn>
    void each_object(fact_input i, Fn&& fn) {
        each(get(i), name(i), false, [&](const json_value& e) {
            if (failed() || !object(&e, name(i))) return;
            fn(e);
        });
    }

    // A value Go decodes into a struct or a map: true for an object, false
    // for nothing/null, false and an error for anything else.
    bool object(const json_value* v, path_name what) {
        if (!v || v->type == json_type::null) return false;
        if (v->type != json_type::object) {
            bad(*v, what, "an object");
            return false;
        }
        return true;
    }

    // True when a present (even null) value of the node exists at the top:
    // the create body's top-level HostConfig field check.
    bool present_at_root(node_id n) const {
        if (n == json_projection::none || root_.type != json_type::object) return false;
        const auto& f = root_.fields;
        const auto k = proj_.at(n).index;
        return k < f.size() && f[k].type != json_type::missing;
    }

    bool failed() const { return error.has_value(); }

    std::nullopt_t bad(const json_value& v, path_name what, std::string_view expected) {
        if (!error)
            error = what.text() + ": expected " + std::string(expected) + ", got " +
                    std::string(type_name(v.type)) + " at byte " + std::to_string(v.offset);
        return std::nullopt;
    }
    void fail(std::string why) {
        if (!error) error = std::move(why);
    }

private:
    const json_projection& proj_;
    const json_value& root_;
    const input_nodes& nodes_;
    doc_kind kind_;

    static std::size_t idx(fact_input i) { return static_cast<std::size_t>(i); }

    // From `base` (the value of node `from`) down to `target`, requiring
    // every container on the way to be an object (Go cannot decode another
    // JSON type into a struct or map).
    const json_value* walk(const json_value& base, node_id from, node_id target, path_name what) {
        if (target == json_projection::none) return nullptr;
        node_id chain[json_max_depth + 1];
        std::size_t n = 0;
        for (node_id at = target; at != from; at = proj_.at(at).parent) {
            if (at == json_projection::none || n == json_max_depth + 1) return nullptr;
            chain[n++] = at;
        }
        const json_value* v = &base;
        while (n > 0) {
            if (v->type == json_type::missing || v->type == json_type::null) return nullptr;
            if (v->type != json_type::object) return bad(*v, what, "an object on the way"), nullptr;
            v = &v->fields[proj_.at(chain[--n]).index];
        }
        if (v->type == json_type::missing || v->type == json_type::null) return nullptr;
        return v;
    }
};

} // namespace dockpol::rt::detail
