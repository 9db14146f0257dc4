// The `filters` query of a list, event or prune action with the owner's
// label filter put in. dockerd reads the value with filters.FromJSON: an
// object of {"VALUE": bool} objects, or — the legacy form, tried when that
// fails — an object of string arrays; a value's bool does not matter (it
// is read as a set). The result is always written in the object form,
// keys and values sorted, so equal filters give equal bytes.
#pragma once
#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dockpol/rt/detail/owner_json_walk.hpp"
#include "dockpol/rt/detail/owner_label_text.hpp"
#include "dockpol/rt/owner_forms.hpp"

namespace dockpol::rt {

// The `filters` value to forward (`filters`), what changed (`rewrite`),
// or why the request is refused.
struct filters_result {
    owner_errc error = owner_errc::none;
    std::string reason;
    std::string filters;
    std::string rewrite;
};

} // namespace dockpol::rt

namespace dockpol::rt::detail {

// Decoded filters: name → values, in the order given until sorted.
using filter_set = std::vector<std::pair<std::string, std::vector<std::string>>>;

// Reads a filters value the way FromJSON accepts it; "" or the reason.
inline std::string read_filters(std::string_view text, filter_set& out) {
    static const json_projection bare = [] {
        json_projection j;
        j.seal();
        return j;
    }();
    json_value root;
    if (auto err = scan_json(text, bare, root)) return "filters: " + err->message();
    if (root.type == json_type::null) return "";
    if (root.type != json_type::object) return "filters: expected a JSON object, got " + std::string(type_name(root.type));
    const validated_json j(text);
    enum { unknown, sets, lists } form = unknown;
    std::string why, buf;
    j.each_member(j.at(root.offset), [&](std::string_view name, validated_json::cursor v) {
        // dockerd decodes into a Go map: a repeated name keeps only its last value.
        for (const auto& f : out)
            if (f.first == name) return why = "filters: \"" + std::string(name) + "\" given twice", false;
        auto& values = out.emplace_back(std::string(name), std::vector<std::string>{}).second;
        if (*v == 'n') return true;   // null: the name with no value
        if (*v != '{' && *v != '[')
            return why = "filters: \"" + std::string(name) + "\": expected an object or an array", false;
        const auto this_form = *v == '{' ? sets : lists;
        if (form != unknown && form != this_form)
            return why = "filters: mixes {\"VALUE\":true} objects and arrays", false;
        form = this_form;
        if (this_form == sets)
            return j.each_member(v, [&](std::string_view value, validated_json::cursor b) {
                if (*b != 't' && *b != 'f' && *b != 'n')
                    return why = "filters: \"" + std::string(name) + "\": expected {\"VALUE\":true}", false;
                values.emplace_back(value);
                return true;
            });
        return j.each_element(v, [&](validated_json::cursor e) {
            if (*e != '"') return why = "filters: \"" + std::string(name) + "\": expected an array of strings", false;
            values.emplace_back(j.string(e, buf));
            return true;
        });
    });
    return why;
}

// Whether a `label` filter value names label `name` (`NAME` or `NAME=...`):
// dockerd splits it at the first `=` and compares the key exactly.
inline bool names_label(std::string_view filter, std::string_view name) {
    return filter.starts_with(name) && (filter.size() == name.size() || filter[name.size()] == '=');
}

inline std::string write_filters(filter_set& set) {
    std::sort(set.begin(), set.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string out = "{";
    for (auto& [name, values] : set) {
        std::sort(values.begin(), values.end());
        values.erase(std::unique(values.begin(), values.end()), values.end());
        if (out.size() > 1) out += ',';
        append_json_string(out, name);
        out += ":{";
        for (std::size_t i = 0; i < values.size(); ++i) {
            if (i) out += ',';
            append_json_string(out, values[i]);
            out += ":true";
        }
        out += '}';
    }
    out += '}';
    return out;
}

inline filters_result merge_filters(owner_form form, std::optional<std::string_view> given, std::string_view label_name,
                                    std::string_view user) {
    filters_result r;
    const auto refuse = [&](std::string why) {
        r.error = owner_errc::bad_request;
        r.reason = std::move(why);
        return r;
    };
    if (form != owner_form::list && form != owner_form::swarm_list)
        return refuse("internal: the action has no owner filter");
    if (const auto bad = owner_text_error(label_name, user); !bad.empty()) return refuse(std::string(bad));
    filter_set set;
    // FromJSON reads an empty value as no filters.
    if (given && !given->empty())
        if (auto why = read_filters(*given, set); !why.empty()) return refuse(std::move(why));
    auto label = std::find_if(set.begin(), set.end(), [](const auto& f) { return f.first == "label"; });
    if (form == owner_form::swarm_list && label != set.end())
        return refuse("a label filter is not allowed here: dockerd keeps one value per key");
    const std::string owner_filter = std::string(label_name) + "=" + std::string(user);
    r.rewrite = "query filters: label=" + owner_filter;
    if (label == set.end()) {
        set.emplace_back("label", std::vector<std::string>{});
        label = set.end() - 1;
    } else {
        auto& v = label->second;
        const auto kept = std::remove_if(v.begin(), v.end(), [&](const std::string& f) { return names_label(f, label_name); });
        if (kept != v.end()) r.rewrite += " (replacing the caller's filters on " + std::string(label_name) + ")";
        v.erase(kept, v.end());
    }
    label->second.push_back(owner_filter);
    r.filters = write_filters(set);
    return r;
}

} // namespace dockpol::rt::detail
