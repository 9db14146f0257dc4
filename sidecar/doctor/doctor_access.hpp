// Doctor checks of who can open dockerd's socket without dockpol: members of
// the socket's group (and of "docker"), and everyone when the mode allows it.
#pragma once
#include <sys/stat.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "doctor_env.hpp"
#include "doctor_finding.hpp"

namespace dockpol::sidecar::doctor {

namespace detail {

struct group_entry {
    std::string name;
    std::string gid;
    std::vector<std::string> members;
};

inline std::vector<group_entry> read_groups(const environment& env) {
    std::vector<group_entry> out;
    auto text = read_host_file(env.host("/etc/group"));
    if (!text) return out;
    for (const auto& line : split(*text, '\n')) {
        auto f = split(line, ':');
        if (f.size() < 4 || f[0].empty()) continue;
        group_entry g{f[0], f[2], {}};
        for (auto& m : split(f[3], ','))
            if (!m.empty()) g.members.push_back(m);
        out.push_back(std::move(g));
    }
    return out;
}

// Users whose primary group is `gid` (/etc/passwd field 4).
inline std::vector<std::string> primary_members(const environment& env, const std::string& gid) {
    std::vector<std::string> out;
    auto text = read_host_file(env.host("/etc/passwd"));
    if (!text) return out;
    for (const auto& line : split(*text, '\n')) {
        auto f = split(line, ':');
        if (f.size() >= 4 && f[3] == gid && !f[0].empty()) out.push_back(f[0]);
    }
    return out;
}

} // namespace detail

// Groups whose members reach the socket: "docker", daemon.json's "group", and the socket file's group.
inline void check_socket_groups(const environment& env, findings& out) {
    std::set<std::string> names = {"docker"};
    if (auto dj = read_host_file(env.host("/etc/docker/daemon.json"))) {
        auto j = nlohmann::json::parse(*dj, nullptr, false);
        if (j.is_object() && j.contains("group") && j["group"].is_string()) names.insert(j["group"].get<std::string>());
    }
    std::string socket_gid;
    struct stat st {};
    if (::stat(env.host(env.docker_socket).c_str(), &st) == 0) socket_gid = std::to_string(st.st_gid);
    for (const auto& g : detail::read_groups(env)) {
        if (!names.count(g.name) && g.gid != socket_gid) continue;
        // root gets in anyway; dockpold's own account being in the group is the deployment (docs/cli.md).
        if (g.gid == "0") continue;
        std::vector<std::string> who;
        auto add = [&](const std::string& u) {
            if (u != env.account && u != "root" && std::find(who.begin(), who.end(), u) == who.end()) who.push_back(u);
        };
        for (const auto& m : g.members) add(m);
        for (const auto& m : detail::primary_members(env, g.gid)) add(m);
        if (who.empty()) continue;
        std::string list;
        for (const auto& u : who) list += (list.empty() ? "" : ", ") + u;
        out.push_back({"docker_group", severity::error,
                       "users in group '" + g.name + "' (gid " + g.gid + ") open dockerd's socket directly: " + list,
                       "remove them from the group (gpasswd -d USER " + g.name +
                           ") and give them a client certificate for dockpold instead; only '" + env.account +
                           "' belongs there"});
    }
}

inline void check_socket_mode(const environment& env, findings& out) {
    const std::string path = env.host(env.docker_socket);
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        out.push_back({"docker_socket", severity::info, "no docker socket at " + path + "; its mode was not checked",
                       "run doctor with --docker unix://PATH naming dockerd's socket"});
        return;
    }
    // Connecting needs write permission; read bits for others are as much a mistake.
    if ((st.st_mode & (S_IROTH | S_IWOTH)) != 0) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        out.push_back({"docker_socket", severity::error,
                       path + " has mode " + mode + ": every local user can open dockerd's socket",
                       "chmod 0660 " + env.docker_socket + " (dockerd's default) and find what changed it"});
    }
}

} // namespace dockpol::sidecar::doctor
