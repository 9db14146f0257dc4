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

    // Past the closing quote of the string at p (on its opening quote);
    // `escaped` tells whether it holds an escape.
    cursor string_end(cursor p, bool& escaped) const {
        ++p;
        for (;;) {
            p = plain_run(p, end_);
            if (*p == '"') return p + 1;
            if (*p == '\\') {
                escaped = true;
                p += 2;
            } else {
                ++p;
            }
        }
    }
    cursor string_end(cursor p) const {
        bool escaped = false;
        return string_end(p, escaped);
    }

    // Whether `s` is a view of the text itself: then it is the raw content
    // of a string without escapes, which needs none to be written again.
    bool raw(std::string_view s) const { return begin_ != end_ && s.data() >= begin_ && s.data() + s.size() <= end_; }

    // Past the value at p.
    cursor value_end(cursor p) const {
        switch (*p) {
        case '"': return string_end(p);
        case 't':
        case 'n': return p + 4;
        case 'f': return p + 5;
        default: break;
        }
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
    // when it has no escape, else decoded by the scanner into `buf`; `e`
    // is set past it.
    std::string_view string(cursor p, std::string& buf, cursor& e) const {
        bool escaped = false;
        e = string_end(p, escaped);
        if (!escaped) return std::string_view(p + 1, static_cast<std::size_t>(e - p - 2));
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
    std::string_view string(cursor p, std::string& buf) const {
        cursor e;
        return string(p, buf, e);
    }

    // Calls fn(key, value cursor, buffer) for each member of the object at
    // p (on its `{`); fn returns the cursor past the value (value_end, or
    // where its own reading stopped), nullptr to stop. Returns the cursor
    // past the object, nullptr when stopped. A key with escapes is decoded
    // into the buffer (valid until the next member).
    template <class Fn>
    cursor each_member(cursor p, Fn&& fn) const {
        std::string buf;
        p = ws(p + 1);
        while (*p != '}') {
            cursor key_end;
            const std::string_view k = string(p, buf, key_end);
            p = ws(ws(key_end) + 1);   // past the colon
            p = fn(k, p, static_cast<const std::string&>(buf));
            if (!p) return nullptr;
            p = ws(p);
            if (*p == ',') p = ws(p + 1);
        }
        return p + 1;
    }

    // The same for each element of the array at p (on its `[`): fn(element cursor).
    template <class Fn>
    cursor each_element(cursor p, Fn&& fn) const {
        p = ws(p + 1);
        while (*p != ']') {
            p = fn(p);
            if (!p) return nullptr;
            p = ws(p);
            if (*p == ',') p = ws(p + 1);
        }
        return p + 1;
    }

    // Whether the object or array at p has no member or element.
    bool empty_container(cursor p) const { return *ws(p + 1) == (*p == '{' ? '}' : ']'); }

private:
    cursor begin_;
    cursor end_;
};

} // namespace dockpol::rt::detail
