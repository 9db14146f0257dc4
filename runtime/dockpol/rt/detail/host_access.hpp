// Host access (docs/facts.md (Host access) is generated from the tables here): every
// way a request, if allowed, hands the caller the host, one row per way out
// with the stable reason string it adds to `host_access_reasons`.
#pragma once
#include <algorithm>
#include <array>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dockpol/rt/detail/container_summary.hpp"
#include "dockpol/rt/path_clean.hpp"

namespace dockpol::rt::detail {

// What the policy declared harmless (`safe host paths`, `safe volume drivers`).
struct host_safety {
    std::span<const std::string> paths;
    std::span<const std::string> drivers;

    bool safe_path(std::string_view p) const {
        return std::any_of(paths.begin(), paths.end(), [&](const std::string& s) { return covers(s, p); });
    }
    bool safe_driver(std::string_view d) const {
        return d.empty() || d == "local" || std::find(drivers.begin(), drivers.end(), d) != drivers.end();
    }
};

// Capabilities outside Docker's default set that give control of the host
// (NET_ADMIN only together with the host network: row `cap` below).
inline constexpr std::array<std::string_view, 14> host_capabilities = {
    "ALL", "CAP_SYS_ADMIN", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_PTRACE", "CAP_DAC_READ_SEARCH",
    "CAP_BPF", "CAP_PERFMON", "CAP_MAC_ADMIN", "CAP_MAC_OVERRIDE", "CAP_SYS_BOOT", "CAP_SYS_TIME",
    "CAP_SYSLOG", "CAP_LINUX_IMMUTABLE"};

inline bool has_capability(std::string_view c) {
    return std::find(host_capabilities.begin(), host_capabilities.end(), c) != host_capabilities.end();
}

using reasons = std::vector<std::string>;
using container_check = void (*)(const container_summary&, const host_safety&, reasons&);

// One way out of a container. `reason` is the stable string (a `:VALUE`
// follows where the row has one); `why` is the docs' explanation.
struct container_access_row {
    std::string_view reason;
    std::string_view why;
    container_check check;
};

inline bool has(const std::vector<std::string>& xs, std::string_view x) {
    return std::find(xs.begin(), xs.end(), x) != xs.end();
}

inline constexpr std::array<container_access_row, 16> container_access_rows = {{
    {"privileged", "every capability, every device, no seccomp, AppArmor or SELinux confinement",
     [](const container_summary& s, const host_safety&, reasons& out) {
         if (s.privileged) out.emplace_back("privileged");
     }},
    {"host_path:PATH", "a bind of a host path (Binds, Mounts, a local volume's device) outside `safe host paths`",
     [](const container_summary& s, const host_safety& safe, reasons& out) {
         for (const auto& p : s.host_paths)
             if (p.empty() || p.front() != '/' || !safe.safe_path(p)) out.push_back("host_path:" + p);
     }},
    {"device:PATH", "a host device (`Devices`), or `gpu` for `DeviceRequests`",
     [](const container_summary& s, const host_safety&, reasons& out) {
         for (const auto& d : s.devices) out.push_back("device:" + d);
     }},
    {"device_cgroup_rule:RULE", "a device cgroup rule: with mknod, the host's disks",
     [](const container_summary& s, const host_safety&, reasons& out) {
         for (const auto& r : s.device_cgroup_rules) out.push_back("device_cgroup_rule:" + r);
     }},
    {"cap:CAP", "a capability that controls the host: ALL, SYS_ADMIN, SYS_MODULE, SYS_RAWIO, SYS_PTRACE, "
                "DAC_READ_SEARCH, BPF, PERFMON, MAC_ADMIN, MAC_OVERRIDE, SYS_BOOT, SYS_TIME, SYSLOG, "
                "LINUX_IMMUTABLE; NET_ADMIN with the host network",
     [](const container_summary& s, const host_safety&, reasons& out) {
         const bool host_net = has(s.host_namespaces, "network");
         for (const auto& c : s.cap_add)
             if (has_capability(c) || (host_net && c == "CAP_NET_ADMIN")) out.push_back("cap:" + c);
     }},
    {"namespace:NS", "the host's pid, ipc, uts or user namespace (not cgroup: dockerd records `host` for "
                     "every container on cgroup v1)",
     [](const container_summary& s, const host_safety&, reasons& out) {
         for (const auto& n : s.host_namespaces)
             if (n != "network" && n != "cgroup") out.push_back("namespace:" + n);
     }},
    {"network:host", "the host's network stack (NetworkMode, an endpoint or a service network named `host`)",
     [](const container_summary& s, const host_safety&, reasons& out) {
         if (has(s.host_namespaces, "network")) out.emplace_back("network:host");
     }},
    {"seccomp:MODE", "seccomp unconfined, or a custom profile",
     [](const container_summary& s, const host_safety&, reasons& out) {
         if (s.sec.seccomp != "default") out.push_back("seccomp:" + s.sec.seccomp);
     }},
    {"apparmor:PROFILE", "an AppArmor profile other than docker-default",
     [](const container_summary& s, const host_safety&, reasons& out) {
         if (s.sec.apparmor != "default") out.push_back("apparmor:" + s.sec.apparmor);
     }},
    {"selinux:TYPE", "SELinux labelling disabled, or the unconfined types spc_t and unconfined_t",
     [](const container_summary& s, const host_safety&, reasons& out) {
         if (s.sec.selinux == "disabled" || s.sec.selinux == "spc_t" || s.sec.selinux == "unconfined_t")
             out.push_back("selinux:" + s.sec.selinux);
     }},
    {"systempaths:unconfined", "MaskedPaths or ReadonlyPaths without Docker's defaults: /proc and /sys "
                               "files of the host kernel writable or readable",
     [](const container_summary& s, const host_safety&, reasons& out) {
         if (s.systempaths_unconfined) out.emplace_back("systempaths:unconfined");
     }},
    {"writable_cgroups", "`writable-cgroups=true`: the cgroup tree of the host writable",
     [](const container_summary& s, const host_safety&, reasons& out) {
         if (s.sec.writable_cgroups) out.emplace_back("writable_cgroups");
     }},
    {"security_opt:OPT", "a security option this version of dockpol does not know (fail closed)",
     [](const container_summary& s, const host_safety&, reasons& out) {
         for (const auto& o : s.sec.unknown) out.push_back("security_opt:" + o);
     }},
    {"volume_type:TYPE", "a local volume mounting a file system (ext4, proc, nfs, …; `tmpfs` is exempt)",
     [](const container_summary& s, const host_safety&, reasons& out) {
         for (const auto& t : s.volume_types)
             if (t != "bind") out.push_back("volume_type:" + t);
     }},
    {"volume_driver:DRIVER", "a volume driver other than `local` not declared in `safe volume drivers`",
     [](const container_summary& s, const host_safety& safe, reasons& out) {
         for (const auto& d : s.volume_drivers)
             if (!safe.safe_driver(d)) out.push_back("volume_driver:" + d);
     }},
    {"inherited:NAME:REASON", "a container joined by VolumesFrom or a `container:NAME` mode has host access",
     [](const container_summary& s, const host_safety&, reasons& out) {
         for (const auto& r : s.inherited) out.push_back("inherited:" + r);
     }},
}};

inline reasons container_host_access(const container_summary& s, const host_safety& safe) {
    reasons out;
    for (const auto& row : container_access_rows) row.check(s, safe, out);
    return out;
}

// The action-level rows: which actions have host access, and how.
struct action_access_row {
    std::string_view actions;
    std::string_view reason;
    std::string_view why;
};

inline constexpr std::array<action_access_row, 9> action_access_rows = {{
    {"container_create, service_create, service_update", "(the container rows)",
     "the container the request creates or updates, with named volumes and joined containers looked up"},
    {"container_exec", "exec:privileged", "`Privileged: true` gives the exec every capability"},
    {"container_exec, exec_start, container_attach, container_attach_websocket, container_archive_put, "
     "container_start, container_restart, container_unpause, container_update, checkpoint_create",
     "target:REASON", "acting inside, or starting, an existing container that has host access"},
    {"volume_create", "host_path:PATH, volume_type:TYPE, volume_driver:DRIVER",
     "the volume's driver and local options, as the container rows judge them"},
    {"plugin_pull, plugin_upgrade", "plugin:NAME:VALUE",
     "every privilege the plugin asks for (mounts, devices, capabilities, host namespaces) except a "
     "network other than `host`"},
    {"plugin_set", "plugin:mount:SOURCE, plugin:device:PATH", "re-pointing a plugin's mount or device"},
    {"plugin_create", "plugin:create", "its privileges are inside the uploaded tar, where dockpol cannot see them"},
    {"image_build", "build:network:host", "a classic build with `networkmode=host` (BuildKit's `session` and "
                                          "`grpc` are opaque: host_access is absent there)"},
    {"swarm_init, swarm_join", "swarm:init, swarm:join",
     "a swarm manager schedules tasks on this host without going through dockpol"},
}};

} // namespace dockpol::rt::detail
