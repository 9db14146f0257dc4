// Updates of owned objects (service_update, secret_update, config_update)
// send the whole spec again: the owner label must be in it, unchanged, or
// the update would give the object away (or take it).
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "dockpol/rt/detail/owner_splice.hpp"

namespace dockpol::rt {

// Why a request is refused (`error` none: it is not).
struct owner_error {
    owner_errc error = owner_errc::none;
    std::string reason;
};

} // namespace dockpol::rt

namespace dockpol::rt::detail {

inline owner_error check_label_kept(std::string_view body, std::string_view label_name,
                                    std::optional<std::string_view> target_owner) {
    const label_plan& plan = plan_for_label(label_places::top, label_name);
    json_value root;
    if (auto err = scan_json(body, plan.proj, root))
        return {owner_errc::bad_request, "request body: " + err->message()};
    if (root.type != json_type::object)
        return {owner_errc::bad_request, "request body: expected a JSON object, got " + std::string(type_name(root.type))};
    const label_read r = read_owner_label(plan, plan.top, root, "Labels");
    if (!r.error.empty()) return {owner_errc::bad_request, r.error};
    if (!r.value && !target_owner) return {};
    if (!r.value) return {owner_errc::conflict, "the update drops the owner label " + plan.name};
    if (!target_owner || *r.value != *target_owner)
        return {owner_errc::conflict, "the update changes the owner label " + plan.name};
    return {};
}

} // namespace dockpol::rt::detail
