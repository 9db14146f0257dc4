// What a container will be, read once from a create body, a service's
// ContainerSpec or an inspect answer (the same code for all three), then
// completed with the named volumes and joined containers looked up. Every
// container fact and the container's host access come from this summary.
#pragma once
#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dockpol/rt/detail/fact_inputs.hpp"
#include "dockpol/rt/detail/fact_rules.hpp"
#include "dockpol/rt/detail/security_opt.hpp"

namespace dockpol::rt::detail {

struct container_summary {
    bool privileged = false;
    std::vector<std::string> host_paths, volumes, host_namespaces, cap_add, devices, device_cgroup_rules,
        security_opt, volume_types, volume_drivers;
    bool joins_container = false;
    std::vector<std::string> joined;   // containers named by VolumesFrom or a `container:X` mode
    security_profile sec;
    bool systempaths_unconfined = false;
    std::optional<std::string> user, image;
    std::vector<std::string> inherited;   // host access reasons of joined containers, "NAME:reason"
};

// Adds `s` unless present: lists keep the body's order without repeats.
inline void add_unique(std::vector<std::string>& xs, std::string s) {
    if (std::find(xs.begin(), xs.end(), s) == xs.end()) xs.push_back(std::move(s));
}

// A host path as the host sees it: cleaned, and `/proc/PID/root/X`,
// `/proc/self/root/X`, `/proc/thread-self/root/X` (the root a process
// sees — on the host, the host's) read as `/X`.
inline std::string host_path(std::string_view p) {
    std::string s = clean_absolute(p);
    for (;;) {
        if (!s.starts_with("/proc/")) return s;
        const auto seg_end = s.find('/', 6);
        if (seg_end == std::string::npos) return s;
        const std::string_view pid(s.data() + 6, seg_end - 6);
        const bool numeric = !pid.empty() && std::all_of(pid.begin(), pid.end(), [](char c) { return c >= '0' && c <= '9'; });
        if (!numeric && pid != "self" && pid != "thread-self") return s;
        const std::string_view rest(s.data() + seg_end);
        if (rest != "/root" && !rest.starts_with("/root/")) return s;
        s = clean_absolute(rest.size() == 5 ? std::string_view("/") : rest.substr(5));
    }
}

// Docker's default masked and read-only paths (moby oci defaults, as in
// 20.10): a list given in the body replaces them, so one missing is unmasked.
inline constexpr std::array<std::string_view, 10> default_masked_paths = {
    "/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
    "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware"};
inline constexpr std::array<std::string_view, 5> default_readonly_paths = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};

// The local driver's mount options as host paths and filesystem types.
struct local_options {
    const std::string* o = nullptr;
    const std::string* device = nullptr;
    const std::string* type = nullptr;
};

inline void add_local_volume(container_summary& s, const local_options& opt) {
    const bool bind = opt.o && has_bind_option(*opt.o);
    if (opt.device && !opt.device->empty()) {
        if (bind) add_unique(s.host_paths, host_path(host_device_path(*opt.device)));
        else if (opt.device->front() == '/') add_unique(s.host_paths, host_path(*opt.device));
    }
    if (bind) add_unique(s.volume_types, "bind");
    else if (opt.type && !opt.type->empty() && *opt.type != "tmpfs") add_unique(s.volume_types, *opt.type);
}

namespace summary_impl {

inline void read_mounts(fact_reader& rd, container_summary& s) {
    using mp = mount_part;
    const auto part = [&](const json_value& m, mp p) { return rd.string(m, fact_input::mounts, static_cast<std::size_t>(p)); };
    rd.each_object(fact_input::mounts, [&](const json_value& m) {
        const std::string* type = part(m, mp::type);
        if (!type) return;
        if (*type == "bind") {
            const std::string* src = part(m, mp::source);
            if (src && !src->empty()) add_unique(s.host_paths, src->front() == '/' ? host_path(*src) : clean_path(*src));
        } else if (*type == "volume") {
            const std::string* src = part(m, mp::source);
            if (src && !src->empty()) add_unique(s.volumes, *src);
            const std::string* driver = part(m, mp::driver_name);
            const bool local = !driver || driver->empty() || *driver == "local";
            add_unique(s.volume_drivers, local ? std::string("local") : *driver);
            // Only the local driver mounts `device`; other drivers' options are their own.
            if (local) add_local_volume(s, {part(m, mp::opt_o), part(m, mp::opt_device), part(m, mp::opt_type)});
        } else if (*type == "npipe") {
            const std::string* src = part(m, mp::source);
            if (src && !src->empty()) add_unique(s.host_paths, *src);
        }
    });
}

// Inspect answers list what is actually mounted, inherited mounts included.
inline void read_actual_mounts(fact_reader& rd, container_summary& s) {
    using ap = actual_mount_part;
    const auto part = [&](const json_value& m, ap p) {
        return rd.string(m, fact_input::actual_mounts, static_cast<std::size_t>(p));
    };
    rd.each_object(fact_input::actual_mounts, [&](const json_value& m) {
        const std::string* type = part(m, ap::type);
        if (!type) return;
        if (*type == "bind") {
            const std::string* src = part(m, ap::source);
            if (src && !src->empty() && src->front() == '/') add_unique(s.host_paths, host_path(*src));
        } else if (*type == "volume") {
            if (const std::string* n = part(m, ap::name); n && !n->empty()) add_unique(s.volumes, *n);
            const std::string* d = part(m, ap::driver);
            add_unique(s.volume_drivers, d && !d->empty() ? *d : std::string("local"));
        }
    });
}

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

inline void read_namespaces(fact_reader& rd, container_summary& s) {
    for (const auto& n : namespace_modes) {
        const std::string* mode = rd.string(n.input);
        if (!mode) continue;
        // dockerd's IsHost() compares the mode with "host" exactly.
        if (*mode == "host") add_unique(s.host_namespaces, std::string(n.name));
        if (n.can_join && mode->starts_with("container:")) {
            s.joins_container = true;
            if (mode->size() > 10) add_unique(s.joined, mode->substr(10));
        }
    }
    if (const json_value* ep = rd.get(fact_input::endpoint_host); ep) add_unique(s.host_namespaces, "network");
    for (const auto in : {fact_input::svc_networks, fact_input::svc_networks_old})
        rd.each_object(in, [&](const json_value& n) {
            const std::string* target = rd.string(n, in, 0);
            if (target && *target == "host") add_unique(s.host_namespaces, "network");
        });
    rd.each_string(fact_input::volumes_from, false, [&](std::string_view v) {
        s.joins_container = true;
        // `NAME[:ro|rw]`
        const auto name = v.substr(0, v.find(':'));
        if (!name.empty()) add_unique(s.joined, std::string(name));
    });
}

inline void read_security(fact_reader& rd, container_summary& s) {
    rd.each_string(fact_input::security_opt, false, [&](std::string_view opt) {
        s.security_opt.emplace_back(opt);
        if (auto err = apply_security_opt(opt, s.sec)) rd.fail("HostConfig.SecurityOpt: " + *err);
    });
    // A service says it with Privileges.
    if (const std::string* m = rd.string(fact_input::seccomp_mode)) {
        if (*m == "unconfined") s.sec.seccomp = "unconfined";
        else if (*m == "custom") s.sec.seccomp = "custom";
    }
    if (const std::string* m = rd.string(fact_input::apparmor_mode); m && *m == "disabled") s.sec.apparmor = "unconfined";
    if (rd.boolean(rd.get(fact_input::selinux_disable), rd.name(fact_input::selinux_disable)).value_or(false))
        s.sec.selinux = "disabled";
    else if (const std::string* t = rd.string(fact_input::selinux_type); t && !t->empty())
        s.sec.selinux = *t;
    for (const auto& [in, defaults] : {std::pair{fact_input::masked_paths, std::span<const std::string_view>(default_masked_paths)},
                                      std::pair{fact_input::readonly_paths, std::span<const std::string_view>(default_readonly_paths)}}) {
        const json_value* v = rd.get(in);
        if (!v) continue;
        std::vector<std::string> given;
        rd.each_string(v, rd.name(in), false, [&](std::string_view p) { given.push_back(clean_path(p)); });
        for (const auto d : defaults)
            if (std::find(given.begin(), given.end(), d) == given.end()) s.systempaths_unconfined = true;
    }
}

} // namespace summary_impl

// The summary of one container document (create, service or inspect).
inline container_summary summarize(fact_reader& rd) {
    container_summary s;
    s.privileged = rd.boolean(rd.get(fact_input::privileged), rd.name(fact_input::privileged)).value_or(false);
    // Volumes dockerd creates for Binds names and image VOLUMEs use VolumeDriver (default local).
    const std::string* vd = rd.string(fact_input::volume_driver_hc);
    const std::string bind_driver = vd && !vd->empty() ? *vd : std::string("local");
    rd.each_string(fact_input::binds, false, [&](std::string_view spec) {
        const auto src = bind_source(spec);
        if (src.empty()) return;
        if (src.front() == '/') {
            add_unique(s.host_paths, host_path(src));
        } else {
            add_unique(s.volumes, std::string(src));
            add_unique(s.volume_drivers, bind_driver);
        }
    });
    summary_impl::read_mounts(rd, s);
    summary_impl::read_actual_mounts(rd, s);
    if (vd && !vd->empty()) add_unique(s.volume_drivers, *vd);
    summary_impl::read_namespaces(rd, s);
    for (const auto in : {fact_input::cap_add, fact_input::capabilities})
        // CapAdd is a StrSlice: a single string is one capability.
        rd.each_string(in, true, [&](std::string_view c) {
            if (!c.empty()) add_unique(s.cap_add, normalize_capability(c));
        });
    rd.each_object(fact_input::devices, [&](const json_value& d) {
        const std::string* p = rd.string(d, fact_input::devices, 0);
        if (p && !p->empty()) add_unique(s.devices, p->front() == '/' ? host_path(*p) : *p);
    });
    bool gpu = false;
    rd.each(rd.get(fact_input::device_requests), rd.name(fact_input::device_requests), false,
            [&](const json_value&) { gpu = true; });
    if (gpu) add_unique(s.devices, "gpu");
    rd.each_string(fact_input::device_cgroup_rules, false, [&](std::string_view r) { s.device_cgroup_rules.emplace_back(r); });
    summary_impl::read_security(rd, s);
    if (const std::string* u = rd.string(fact_input::user)) s.user = *u;
    if (const std::string* i = rd.string(fact_input::image)) s.image = *i;
    return s;
}

// A named volume looked up (GET /volumes/NAME): its driver and local options
// count as if the body had written them.
inline void add_volume_inspect(container_summary& s, fact_reader& rd) {
    const std::string* d = rd.string(fact_input::volume_inspect_driver);
    const bool local = !d || d->empty() || *d == "local";
    add_unique(s.volume_drivers, local ? std::string("local") : *d);
    if (!local) return;
    const auto opt = [&](volume_opt o) {
        return rd.string(rd.get_child(fact_input::volume_inspect_opts, static_cast<std::size_t>(o)),
                         rd.name(fact_input::volume_inspect_opts, static_cast<std::size_t>(o)));
    };
    add_local_volume(s, {opt(volume_opt::o), opt(volume_opt::device), opt(volume_opt::type)});
}

} // namespace dockpol::rt::detail
