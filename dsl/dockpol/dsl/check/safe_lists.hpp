// Stage safe_lists: `safe host paths` and `safe volume drivers`, one of each
// per policy, a set (or a constant holding one) whose entries are each
// acceptable. The statements are not rules, so they get a stage of their own.
#pragma once
#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dockpol/dsl/ast.hpp"
#include "dockpol/dsl/check/constants.hpp"
#include "dockpol/dsl/check/context.hpp"
#include "dockpol/dsl/safe_paths.hpp"

namespace dockpol::dsl::detail {

// The two `safe` statements: what each is called and how an entry is checked.
struct safe_row {
    safe_list what;
    std::string_view words;   // as written after `safe`
    std::vector<std::string> checked_policy::*out;
    // An entry's error code, message and help, or none when it is fine.
    std::optional<std::pair<diag_code, unsafe_path>> (*check)(const std::string&);
};
inline std::optional<std::pair<diag_code, unsafe_path>> check_path_entry(const std::string& p) {
    if (auto u = check_safe_host_path(p)) return std::pair{diag_code::unsafe_path, std::move(*u)};
    return std::nullopt;
}
inline std::optional<std::pair<diag_code, unsafe_path>> check_driver_entry(const std::string& d) {
    if (d.empty())
        return std::pair{diag_code::bad_driver,
                         unsafe_path{"a volume driver name cannot be empty", "name the driver, e.g. \"nfs\""}};
    return std::nullopt;
}
inline const safe_row safe_rows[] = {
    {safe_list::host_paths, "host paths", &checked_policy::safe_host_paths, check_path_entry},
    {safe_list::volume_drivers, "volume drivers", &checked_policy::safe_volume_drivers, check_driver_entry},
};

// `safe host paths` / `safe volume drivers`: one of each per policy, a set
// (or a constant holding one), every entry acceptable; sorted and unique.
inline void stage_safe_lists(check_context& cx) {
    for (const auto& row : safe_rows) {
        const safe_decl* first = nullptr;
        for (const auto& d : cx.pol.safes) {
            if (d.what != row.what) continue;
            if (first) {
                cx.report(diag_code::duplicate_safe, d.sp,
                         "a policy has one `safe " + std::string(row.words) + "`; this is a second one",
                         "the first is at " + cx.where(first->sp) + "; merge the sets");
                continue;
            }
            first = &d;
            std::optional<expr> v;
            if (d.value.kind == expr_kind::name_ref && cx.constants.count(d.value.text)) {
                v = resolve_constant(cx, d.value.text, d.value.sp);
                if (v) set_data_spans(*v, d.value.sp);
            } else if (d.value.kind == expr_kind::set_lit) {
                v = d.value;
            } else if (d.value.kind == expr_kind::name_ref) {
                cx.report(diag_code::undefined_name, d.value.sp, "undefined name `" + d.value.text + "`");
                continue;
            } else {
                cx.report(diag_code::type, d.value.sp,
                         "`safe " + std::string(row.words) + "` takes a set; `" + d.value.text + "` is a field");
                continue;
            }
            if (!v) continue;
            if (v->kind != expr_kind::set_lit) {
                cx.report(diag_code::type, d.value.sp,
                         "`safe " + std::string(row.words) + "` takes a set; `" + d.value.text + "` is not one");
                continue;
            }
            std::vector<std::string> entries;
            for (const auto& item : v->items) {
                if (auto bad = row.check(item.str)) {
                    cx.report(bad->first, item.sp, bad->second.message, bad->second.help);
                    continue;
                }
                entries.push_back(item.str);
            }
            std::sort(entries.begin(), entries.end());
            entries.erase(std::unique(entries.begin(), entries.end()), entries.end());
            cx.out.*row.out = std::move(entries);
        }
    }
}

} // namespace dockpol::dsl::detail
