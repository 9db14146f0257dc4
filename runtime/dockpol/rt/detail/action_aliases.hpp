// Names other products use for Docker actions (docs/actions.md), mapped to the
// dockpol action. Only the compiler's did-you-mean help reads this: a policy
// that writes one of these names is still an error.
#pragma once
#include <array>
#include <string_view>

namespace dockpol::rt::detail {

struct action_alias_row {
    std::string_view other;   // the other product's name
    std::string_view action;  // the dockpol action it means
};

inline constexpr std::array action_alias_table = {
    action_alias_row{"docker_ping", "system_ping"},
    action_alias_row{"docker_version", "system_version"},
    action_alias_row{"docker_info", "system_info"},
    action_alias_row{"docker_events", "system_events"},
    action_alias_row{"docker_auth", "system_auth"},
    action_alias_row{"container_exec_create", "container_exec"},
    action_alias_row{"container_exec_start", "exec_start"},
    action_alias_row{"container_exec_inspect", "exec_inspect"},
    action_alias_row{"container_attachws", "container_attach_websocket"},
    action_alias_row{"container_archive_head", "container_archive_info"},
    action_alias_row{"container_archive_extract", "container_archive_put"},
    action_alias_row{"container_commit", "image_commit"},
    action_alias_row{"images_archive", "image_get_all"},
    action_alias_row{"images_load", "image_load"},
    action_alias_row{"images_search", "image_search"},
    action_alias_row{"volume_remove", "volume_delete"},
    action_alias_row{"network_remove", "network_delete"},
    action_alias_row{"image_remove", "image_delete"},
    action_alias_row{"container_remove", "container_delete"},
};

} // namespace dockpol::rt::detail
