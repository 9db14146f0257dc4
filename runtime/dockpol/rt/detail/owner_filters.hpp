// The `filters` query of a list, event or prune action with the owner's
// label filter put in. dockerd reads the value with filters.FromJSON: an
// object of {"VALUE": bool} objects, or — the legacy form, tried when that
// fails — an object of string arrays; a value's bool does not matter (it
// is read as a set). The result is always written in the object form,
// keys and values sorted, so equal filters give equal bytes.
#pragma once
#include <algorithm>
#include <cstring>
#include <deque>
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

// Decoded filters: name → values, in the order given until sorted. Views
// into the filters text, or into `decoded` for strings with escapes.
struct filter_set {
    std::vector<std::pair<std::string_view, std::vector<std::string_view>>> filters;
    std::deque<std::string> decoded;   // stable addresses

    std::string_view keep(std::string_view s, const std::string& buf) {
        return s.data() == buf.data() ? std::string_view(decoded.emplace_back(buf)) : s;
    }
};

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
    using cursor = validated_json::cursor;
    const auto stop = [&](std::string_view name, std::string_view what) -> cursor {
        why = "filters: \"" + std::string(name) + "\": " + std::string(what);
        return nullptr;
    };
    j.each_member(j.at(root.offset), [&](std::string_view name, cursor v, const std::string& key_buf) -> cursor {
        // dockerd decodes into a Go map: a repeated name keeps only its last value.
        for (const auto& f : out.filters)
            if (f.first == name) return stop(name, "given twice");
        auto& values = out.filters.emplace_back(out.keep(name, key_buf), std::vector<std::string_view>{}).second;
        values.reserve(16);
        if (*v == 'n') return j.value_end(v);   // null: the name with no value
        if (*v != '{' && *v != '[') return stop(name, "expected an object or an array");
        const auto this_form = *v == '{' ? sets : lists;
        if (form != unknown && form != this_form) return stop(name, "mixes {\"VALUE\":true} objects and arrays");
        form = this_form;
        if (this_form == sets)
            return j.each_member(v, [&](std::string_view value, cursor b, const std::string& value_buf) -> cursor {
                if (*b != 't' && *b != 'f' && *b != 'n') return stop(name, "expected {\"VALUE\":true}");
                values.push_back(out.keep(value, value_buf));
                return j.value_end(b);
            });
        return j.each_element(v, [&](cursor e) -> cursor {
            if (*e != '"') return stop(name, "expected an array of strings");
            cursor end;
            values.push_back(out.keep(j.string(e, buf, end), buf));
            return end;
        });
    });
    return why;
}

// Whether a `label` filter value names label `name` (`NAME` or `NAME=...`):
// dockerd splits it at the first `=` and compares the key exactly.
inline bool names_label(std::string_view filter, std::string_view name) {
    if (filter.size() < name.size() || filter.front() != name.front()) return false;   // most filters: cheaply
    return filter.starts_with(name) && (filter.size() == name.size() || filter[name.size()] == '=');
}

// Sorts and deduplicates: one compare per pair when already strictly
// increasing, as from clients that marshal a Go map (the docker CLI).
inline void sort_unique(std::vector<std::string_view>& v) {
    bool strictly_increasing = true;
    for (std::size_t i = 1; i < v.size() && strictly_increasing; ++i) strictly_increasing = v[i - 1].compare(v[i]) < 0;
    if (strictly_increasing) return;
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
}

// Writes the set in the object form. Strings that are raw content of an
// escape-free string of the filters text are copied as they are (they need
// no escape); others go through append_json_string.
inline std::string write_filters(filter_set& set, const validated_json& j) {
    auto& filters = set.filters;
    const auto by_name = [](const auto& a, const auto& b) { return a.first < b.first; };
    if (!std::is_sorted(filters.begin(), filters.end(), by_name)) std::sort(filters.begin(), filters.end(), by_name);
    // Exact size for raw strings, the most escapes can take for others.
    const auto room = [&](std::string_view s) { return j.raw(s) ? s.size() + 2 : 6 * s.size() + 2; };
    std::size_t size = 2;
    for (auto& [name, values] : filters) {
        sort_unique(values);
        size += room(name) + 4;
        for (const auto v : values) size += room(v) + 6;
    }
    std::string out;
    out.resize(size);
    char* w = out.data();
    const auto put = [&](std::string_view s) {
        std::memcpy(w, s.data(), s.size());
        w += s.size();
    };
    const auto put_string = [&](std::string_view s) {
        if (!j.raw(s)) {
            std::string escaped;
            append_json_string(escaped, s);
            return put(escaped);
        }
        *w++ = '"';
        put(s);
        *w++ = '"';
    };
    *w++ = '{';
    for (std::size_t f = 0; f < filters.size(); ++f) {
        if (f) *w++ = ',';
        put_string(filters[f].first);
        put(":{");
        const auto& values = filters[f].second;
        for (std::size_t i = 0; i < values.size(); ++i) {
            if (i) *w++ = ',';
            put_string(values[i]);
            put(":true");
        }
        *w++ = '}';
    }
    *w++ = '}';
    out.resize(static_cast<std::size_t>(w - out.data()));
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
    auto& filters = set.filters;
    auto label = std::find_if(filters.begin(), filters.end(), [](const auto& f) { return f.first == "label"; });
    if (form == owner_form::swarm_list && label != filters.end())
        return refuse("a label filter is not allowed here: dockerd keeps one value per key");
    const std::string owner_filter = std::string(label_name) + "=" + std::string(user);
    r.rewrite = "query filters: label=" + owner_filter;
    if (label == filters.end()) {
        filters.emplace_back("label", std::vector<std::string_view>{});
        label = filters.end() - 1;
    } else {
        auto& v = label->second;
        const auto kept = std::remove_if(v.begin(), v.end(), [&](std::string_view f) { return names_label(f, label_name); });
        if (kept != v.end()) r.rewrite += " (replacing the caller's filters on " + std::string(label_name) + ")";
        v.erase(kept, v.end());
    }
    label->second.push_back(owner_filter);
    r.filters = write_filters(set, validated_json(given.value_or("")));
    return r;
}

} // namespace dockpol::rt::detail
