// Ownership (`owner label "NAME"`, `allow own`): the pure functions that
// check a request against the caller's objects and rewrite it so dockerd
// itself keeps users apart. No I/O: the label name and the user are
// arguments, objects named by a request come in request.objects.
//
//   create      splice_owner_label    the label set in the body (container
//               and service bodies: also where volumes and task containers
//               get their labels)
//   keep        check_owner_label_kept
//   list        merge_owner_filter + replace_query_param
//   swarm_list  the same, refusing the caller's own label filter
//   all         owned_objects_named, check_ownership (allow own)
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "dockpol/rt/detail/owner_check.hpp"
#include "dockpol/rt/detail/owner_filters.hpp"
#include "dockpol/rt/detail/owner_keep.hpp"
#include "dockpol/rt/detail/owner_named.hpp"
#include "dockpol/rt/detail/owner_query.hpp"
#include "dockpol/rt/detail/owner_splice.hpp"
#include "dockpol/rt/owner_forms.hpp"

namespace dockpol::rt {

// The owner label `label_name` = `user` set in a create body (owner form
// create); the body unchanged (`changed` false) when it already says so.
// conflict: the body gives the label another value; bad_request: the body
// is not what dockerd decodes (or the name or user cannot be a label).
inline splice_result splice_owner_label(std::uint16_t action, std::string_view body, std::string_view label_name,
                                        std::string_view user) {
    splice_result r;
    const auto where = detail::label_places_of(action);
    if (!where || owner_form_of(action) != owner_form::create) {
        r.error = owner_errc::bad_request;
        r.reason = "internal: the action creates no owned object";
        return r;
    }
    if (const auto bad = detail::owner_text_error(label_name, user); !bad.empty()) {
        r.error = owner_errc::bad_request;
        r.reason = bad;
        return r;
    }
    detail::label_splicer(body, detail::plan_for_label(*where, label_name), user, r).run();
    return r;
}

// Owner form keep: the body's top-level Labels must give `label_name` the
// target's current value (`target_owner`, nullopt when unset): both absent
// is fine, dropped or changed is a conflict. A service_update's
// ContainerSpec and volume mounts may not give it another value either.
inline owner_error check_owner_label_kept(std::uint16_t action, std::string_view body, std::string_view label_name,
                                          std::optional<std::string_view> target_owner) {
    if (owner_form_of(action) != owner_form::keep) return {owner_errc::bad_request, "internal: not an update of an owned object"};
    return detail::check_label_kept(body, label_name, target_owner,
                                    action == rt::action_id(action_code::service_update));
}

// Owner forms list and swarm_list: the `filters` query value to forward,
// from the decoded one the caller sent (nullopt when none).
inline filters_result merge_owner_filter(owner_form form, std::optional<std::string_view> filters_value,
                                         std::string_view label_name, std::string_view user) {
    return detail::merge_filters(form, filters_value, label_name, user);
}

// `raw_target` with query parameter `name` set to `value` (percent-encoded
// here), every other byte unchanged; added when absent.
inline std::string replace_query_param(std::string_view raw_target, std::string_view name, std::string_view value) {
    return detail::replace_query_param(raw_target, name, value);
}

// The "KIND:NAME" keys of the objects the request names besides its target.
inline named_objects owned_objects_named(std::uint16_t action, const request& req) {
    return detail::objects_named(action, req);
}

// Whether `allow own` may allow the request (owner label `label_name`).
inline ownership_result check_ownership(std::uint16_t action, const request& req, std::string_view label_name) {
    return detail::check_owned(action, req, label_name);
}

} // namespace dockpol::rt
