// Names other products (and the docker CLI's commands) use for Docker actions,
// mapped to the dockpol action. Only the compiler's did-you-mean help reads this: a policy
// that writes one of these names is still an error.
#pragma once
#include <array>
#include <string_view>

namespace dockpol::rt::detail {

struct action_alias_row {
    std::string_view other;   // the other product's (or the docker CLI's) name
    std::string_view action;  // the dockpol action it means
    std::string_view also;    // what else the same command sends, said in the hint ("" for nothing)
};

// Hints several rows share (the same docker command under several names).
inline constexpr std::string_view pull_hint = "docker pull and docker import are image_create";
inline constexpr std::string_view run_hint = "docker run sends container_create, then container_start, container_attach, container_wait";
inline constexpr std::string_view exec_hint = "docker exec sends container_exec, then exec_start";
inline constexpr std::string_view cp_hint = "docker cp from a container is container_archive, into one container_archive_put";

inline constexpr std::array action_alias_table = {
    action_alias_row{"docker_ping", "system_ping", ""},
    action_alias_row{"docker_version", "system_version", ""},
    action_alias_row{"docker_info", "system_info", ""},
    action_alias_row{"docker_events", "system_events", ""},
    action_alias_row{"docker_auth", "system_auth", ""},
    action_alias_row{"container_exec_create", "container_exec", ""},
    action_alias_row{"container_exec_start", "exec_start", ""},
    action_alias_row{"container_exec_inspect", "exec_inspect", ""},
    action_alias_row{"container_attachws", "container_attach_websocket", ""},
    action_alias_row{"container_archive_head", "container_archive_info", ""},
    action_alias_row{"container_archive_extract", "container_archive_put", ""},
    action_alias_row{"container_commit", "image_commit", ""},
    action_alias_row{"images_archive", "image_get_all", ""},
    action_alias_row{"images_load", "image_load", ""},
    action_alias_row{"images_search", "image_search", ""},
    action_alias_row{"volume_remove", "volume_delete", ""},
    action_alias_row{"network_remove", "network_delete", ""},
    action_alias_row{"image_remove", "image_delete", ""},
    action_alias_row{"container_remove", "container_delete", ""},
    // What docker CLI commands send: a pull is a create (by edit distance `image_pull` is `image_push`).
    action_alias_row{"image_pull", "image_create", pull_hint},
    action_alias_row{"image_import", "image_create", pull_hint},
    action_alias_row{"pull", "image_create", pull_hint},
    action_alias_row{"image_rm", "image_delete", ""},
    action_alias_row{"image_rmi", "image_delete", ""},
    action_alias_row{"container_rm", "container_delete", ""},
    action_alias_row{"volume_rm", "volume_delete", ""},
    action_alias_row{"network_rm", "network_delete", ""},
    action_alias_row{"container_run", "container_create", run_hint},
    action_alias_row{"run", "container_create", run_hint},
    action_alias_row{"container_ps", "container_list", ""},
    action_alias_row{"ps", "container_list", ""},
    action_alias_row{"exec", "container_exec", exec_hint},
    action_alias_row{"container_exec_run", "container_exec", exec_hint},
    action_alias_row{"container_cp", "container_archive", cp_hint},
    action_alias_row{"cp", "container_archive", cp_hint},
    action_alias_row{"image_save", "image_get", "docker save of several images is image_get_all"},
    action_alias_row{"image_ls", "image_list", ""},
};

} // namespace dockpol::rt::detail
