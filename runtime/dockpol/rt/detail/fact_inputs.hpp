// The body values derived facts are computed from, as one table of paths,
// and a reader that fetches them from a scan with dockerd's type rules
// (a JSON type Go could not decode into the field is an error; null and
// missing both leave the field at its zero value).
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

enum class fact_input : std::uint8_t {
    privileged, binds, mounts, pid_mode, network_mode, ipc_mode, uts_mode, userns_mode, cgroupns_mode,
    volumes_from, cap_add, devices, device_requests, security_opt, user, image, labels,
    exec_privileged, exec_user, exec_cmd, volume_driver, volume_opt_o, volume_opt_device,
    count
};
inline constexpr std::size_t fact_input_count = static_cast<std::size_t>(fact_input::count);
inline constexpr std::size_t max_input_children = 5;

// Mount element sub-paths, in the order of input_row::children for `mounts`.
enum class mount_part : std::uint8_t { type, source, driver_name, opt_o, opt_device };

struct input_row {
    fact_input id;
    std::string_view path;   // from the body root; container_create's body is a
                             // ContainerConfigWrapper: Config fields at the top
    std::array<std::string_view, max_input_children> children;   // per array element
};

inline constexpr std::array<input_row, fact_input_count> input_table = {{
    {fact_input::privileged, "HostConfig.Privileged", {}},
    {fact_input::binds, "HostConfig.Binds", {}},
    {fact_input::mounts, "HostConfig.Mounts",
     {"Type", "Source", "VolumeOptions.DriverConfig.Name", "VolumeOptions.DriverConfig.Options.o",
      "VolumeOptions.DriverConfig.Options.device"}},
    {fact_input::pid_mode, "HostConfig.PidMode", {}},
    {fact_input::network_mode, "HostConfig.NetworkMode", {}},
    {fact_input::ipc_mode, "HostConfig.IpcMode", {}},
    {fact_input::uts_mode, "HostConfig.UTSMode", {}},
    {fact_input::userns_mode, "HostConfig.UsernsMode", {}},
    {fact_input::cgroupns_mode, "HostConfig.CgroupnsMode", {}},
    {fact_input::volumes_from, "HostConfig.VolumesFrom", {}},
    {fact_input::cap_add, "HostConfig.CapAdd", {}},
    {fact_input::devices, "HostConfig.Devices", {"PathOnHost"}},
    {fact_input::device_requests, "HostConfig.DeviceRequests", {}},
    {fact_input::security_opt, "HostConfig.SecurityOpt", {}},
    {fact_input::user, "User", {}},
    {fact_input::image, "Image", {}},
    {fact_input::labels, "Labels", {}},
    {fact_input::exec_privileged, "Privileged", {}},
    {fact_input::exec_user, "User", {}},
    {fact_input::exec_cmd, "Cmd", {}},
    {fact_input::volume_driver, "Driver", {}},
    {fact_input::volume_opt_o, "DriverOpts.o", {}},
    {fact_input::volume_opt_device, "DriverOpts.device", {}},
}};

inline constexpr std::uint32_t input_bit(fact_input i) { return 1u << static_cast<unsigned>(i); }

inline const input_row& row_of(fact_input i) { return input_table[static_cast<std::size_t>(i)]; }

// The prefix of inputs read from the create body's HostConfig.
inline constexpr std::string_view host_config_prefix = "HostConfig.";

inline bool in_host_config(const input_row& row) { return row.path.starts_with(host_config_prefix); }

// An input's path at the top level of the body (HostConfig inputs only).
inline std::string_view top_level_path(const input_row& row) { return row.path.substr(host_config_prefix.size()); }

// Where each input (and each of its element sub-paths) sits in a projection.
//
// Each HostConfig input also has a top-level twin: on Linux, dockerd's
// ContainerConfigWrapper (up to at least API 1.41 / Docker 20.10) embeds a
// deprecated *HostConfig, so `{"Privileged":true,"Binds":["/:/h"]}` without
// a "HostConfig" key creates a privileged container. dockerd uses the
// top-level fields exactly when "HostConfig" is missing or null.
struct input_nodes {
    using node_id = json_projection::node_id;
    using children = std::array<node_id, max_input_children>;
    std::array<node_id, fact_input_count> node;
    std::array<children, fact_input_count> child;
    std::array<node_id, fact_input_count> twin;
    std::array<children, fact_input_count> twin_child;
    node_id host_config = json_projection::none;

    input_nodes() {
        node.fill(json_projection::none);
        twin.fill(json_projection::none);
        for (auto& c : child) c.fill(json_projection::none);
        for (auto& c : twin_child) c.fill(json_projection::none);
    }

    // Adds the inputs in `mask` to `proj`; false when a projection limit is hit.
    bool add(json_projection& proj, std::uint32_t mask, std::vector<path_step>& scratch) {
        for (const auto& row : input_table) {
            const auto k = static_cast<std::size_t>(row.id);
            if (!(mask & input_bit(row.id)) || node[k] != json_projection::none) continue;
            if (!add_path(proj, row, row.path, scratch, node[k], child[k])) return false;
            if (!in_host_config(row)) continue;
            if (!add_path(proj, row, top_level_path(row), scratch, twin[k], twin_child[k])) return false;
            host_config = proj.at(node[k]).parent;
        }
        return true;
    }

private:
    static bool add_path(json_projection& proj, const input_row& row, std::string_view path,
                         std::vector<path_step>& scratch, node_id& at, children& kids) {
        scratch.clear();
        body_path_steps(path, scratch);
        const auto n = proj.add(scratch);
        if (!n) return false;
        at = *n;
        for (std::size_t c = 0; c < max_input_children && !row.children[c].empty(); ++c) {
            scratch.clear();
            body_path_steps(row.children[c], scratch);
            const auto cn = proj.add(scratch, *n);
            if (!cn) return false;
            kids[c] = *cn;
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


// Reads typed inputs from one scan; the first type error is kept in `error`.
class fact_reader {
public:
    using node_id = json_projection::node_id;

    fact_reader(const json_projection& proj, const json_value& root, const input_nodes& nodes)
        : proj_(proj), root_(root), nodes_(nodes) {
        // dockerd reads the top-level twins when "HostConfig" is missing or null.
        if (nodes.host_config != json_projection::none) {
            const json_value* hc = json_at(proj, root, json_projection::root, nodes.host_config);
            top_level_ = !hc || hc->type == json_type::missing || hc->type == json_type::null;
        }
    }

    std::optional<std::string> error;

    // The value of an input; nullptr when it (or an object on its way) is
    // missing or null.
    const json_value* get(fact_input i) { return walk(root_, json_projection::root, node(i), name(i)); }

    // The value of sub-path `c` of input `i` inside one of its elements.
    const json_value* get(const json_value& element, fact_input i, std::size_t c) {
        if (element.type != json_type::object) return nullptr;
        return walk(element, node(i), child(i, c), name(i, c));
    }

    // How errors name an input: where it was read from.
    path_name name(fact_input i) const { return {path(i), {}}; }
    path_name name(fact_input i, std::size_t c) const { return {path(i), row_of(i).children[c]}; }

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

    bool failed() const { return error.has_value(); }

private:
    const json_projection& proj_;
    const json_value& root_;
    const input_nodes& nodes_;

    bool top_level_ = false;   // HostConfig inputs come from the top-level twins

    static std::size_t idx(fact_input i) { return static_cast<std::size_t>(i); }
    bool twin(fact_input i) const { return top_level_ && in_host_config(row_of(i)); }
    node_id node(fact_input i) const { return twin(i) ? nodes_.twin[idx(i)] : nodes_.node[idx(i)]; }
    node_id child(fact_input i, std::size_t c) const {
        return twin(i) ? nodes_.twin_child[idx(i)][c] : nodes_.child[idx(i)][c];
    }
    std::string_view path(fact_input i) const { return twin(i) ? top_level_path(row_of(i)) : row_of(i).path; }

    std::nullopt_t bad(const json_value& v, path_name what, std::string_view expected) {
        if (!error)
            error = what.text() + ": expected " + std::string(expected) + ", got " +
                    std::string(type_name(v.type)) + " at byte " + std::to_string(v.offset);
        return std::nullopt;
    }

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
