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

// `service`: a service_update, whose ContainerSpec and volume mounts carry
// the label too (the create put it there): they must not name another
// owner — the update would create task containers or volumes for someone
// else. Leaving it out there is allowed (they are then nobody's).
inline owner_error check_label_kept(std::string_view body, std::string_view label_name,
                                    std::optional<std::string_view> target_owner, bool service) {
    const label_plan& plan = plan_for_label(label_places::top, label_name);
    json_value root;
    if (auto err = scan_json(body, plan.proj, root))
        return {owner_errc::bad_request, "request body: " + err->message()};
    if (root.type != json_type::object)
        return {owner_errc::bad_request, "request body: expected a JSON object, got " + std::string(type_name(root.type))};
    const label_read r = read_owner_label(plan, plan.top, root, "Labels");
    if (!r.error.empty()) return {owner_errc::bad_request, r.error};
    // Both absent is fine: an unowned object stays unowned.
    if (!r.value && target_owner) return {owner_errc::conflict, "the update drops the owner label " + plan.name};
    if (r.value && (!target_owner || *r.value != *target_owner))
        return {owner_errc::conflict, "the update changes the owner label " + plan.name};
    if (service) {
        splice_result nested;
        label_splicer(body, plan_for_label(label_places::service, label_name), target_owner.value_or(""), nested, true).run();
        if (nested.error == owner_errc::conflict)
            return {owner_errc::conflict, "the update gives the owner label another value: " + nested.reason};
        if (nested.error != owner_errc::none) return {nested.error, std::move(nested.reason)};
    }
    return {};
}

} // namespace dockpol::rt::detail
