// Reading JSON text that the projection scanner has already validated,
// member by member, where a projection cannot help: keys not known in
// advance (filter names, EndpointsConfig network names). No recursion: a
// nested value is stepped over by counting brackets, which is exact on
// validated text. Never call these on text that was not validated.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

#include "dockpol/rt/json_scan.hpp"

namespace dockpol::rt::detail {

class validated_json {
public:
    using cursor = const char*;

    explicit validated_json(std::string_view text) : begin_(text.data()), end_(text.data() + text.size()) {}

    cursor at(std::size_t offset) const { return begin_ + offset; }
    std::size_t offset(cursor p) const { return static_cast<std::size_t>(p - begin_); }

    cursor ws(cursor p) const {
        while (p != end_ && ws_table[static_cast<unsigned char>(*p)]) ++p;
        return p;
    }

    // Past the closing quote of the string at p (on its opening quote).
    cursor string_end(cursor p) const {
        ++p;
        for (;;) {
            p = plain_run(p, end_);
            if (*p == '"') return p + 1;
            p += *p == '\\' ? 2 : 1;
        }
    }

    // Past the value at p.
    cursor value_end(cursor p) const {
        if (*p == '"') return string_end(p);
        if (*p != '{' && *p != '[') {
            while (p != end_ && *p != ',' && *p != '}' && *p != ']' && !ws_table[static_cast<unsigned char>(*p)]) ++p;
            return p;
        }
        std::size_t depth = 0;
        for (;;) {
            const char c = *p;
            if (c == '"') {
                p = string_end(p);
                continue;
            }
            if (c == '{' || c == '[') ++depth;
            else if ((c == '}' || c == ']') && --depth == 0) return p + 1;
            ++p;
        }
    }

    // The decoded string at p (on its opening quote): a view of the text
    // when it has no escape, else decoded by the scanner into `buf`.
    std::string_view string(cursor p, std::string& buf) const {
        const cursor e = string_end(p);
        const std::string_view raw(p + 1, static_cast<std::size_t>(e - p - 2));
        if (raw.find('\\') == std::string_view::npos) return raw;
        static const json_projection bare = [] {
            json_projection j;
            j.seal();
            return j;
        }();
        json_value v;
        scan_json(std::string_view(p, static_cast<std::size_t>(e - p)), bare, v);   // valid: cannot fail
        buf = std::move(v.text);
        return buf;
    }

    // Calls fn(key, value cursor) for each member of the object at p (on
    // its `{`) until fn returns false; returns whether all were visited.
    template <class Fn>
    bool each_member(cursor p, Fn&& fn) const {
        std::string buf;
        p = ws(p + 1);
        while (*p != '}') {
            const std::string_view k = string(p, buf);
            p = ws(ws(string_end(p)) + 1);   // past the colon
            if (!fn(k, p)) return false;
            p = ws(value_end(p));
            if (*p == ',') p = ws(p + 1);
        }
        return true;
    }

    // Calls fn(element cursor) for each element of the array at p (on its `[`).
    template <class Fn>
    bool each_element(cursor p, Fn&& fn) const {
        p = ws(p + 1);
        while (*p != ']') {
            if (!fn(p)) return false;
            p = ws(value_end(p));
            if (*p == ',') p = ws(p + 1);
        }
        return true;
    }

    // Whether the object or array at p has no member or element.
    bool empty_container(cursor p) const { return *ws(p + 1) == (*p == '{' ? '}' : ']'); }

private:
    cursor begin_;
    cursor end_;
};

} // namespace dockpol::rt::detail
