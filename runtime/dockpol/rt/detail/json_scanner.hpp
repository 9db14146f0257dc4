// The one-pass projection scanner: validates the whole text (RFC 8259,
// strict) and copies out only what the projection names. Recursion depth is
// bounded by json_max_depth; nothing is allocated for skipped values.
//
// Speed: every step takes the cursor as an argument and returns the new one
// (nullptr after an error), so it lives in a register; error paths are out
// of line; whitespace costs one compare when there is none (compact JSON).
#pragma once
#include <charconv>
#include <cstring>
#include <string>
#include <string_view>
#include <system_error>

#include "dockpol/rt/detail/hex.hpp"
#include "dockpol/rt/detail/json_limits.hpp"
#include "dockpol/rt/detail/json_projection.hpp"
#include "dockpol/rt/detail/json_bytes.hpp"
#include "dockpol/rt/detail/json_value.hpp"

namespace dockpol::rt::detail {

class json_scanner {
public:
    using node_id = json_projection::node_id;
    using cursor = const char*;

    json_scanner(std::string_view text, const json_projection& proj)
        : begin_(text.data()), end_(text.data() + text.size()), proj_(proj) {}

    // Scans the whole text into `root` (the projection root's value).
    bool run(json_value& root) {
        cursor p = ws(begin_);
        if (p == end_) return fail(p, json_errc::empty), false;
        p = scan_value(p, json_projection::root, root, 0, true);
        if (!p) return false;
        p = ws(p);
        if (p != end_) return fail(p, json_errc::trailing_data), false;
        return true;
    }

    const json_error& error() const { return err_; }

private:
    const char* const begin_;
    const char* const end_;
    const json_projection& proj_;
    std::size_t values_ = 0;
    json_error err_;
    std::string key_buf_;   // a key that needed unescaping

    [[gnu::cold, gnu::noinline]] cursor fail(cursor at, json_errc code) {
        err_.offset = static_cast<std::size_t>(at - begin_);
        err_.code = code;
        return nullptr;
    }

    [[gnu::cold, gnu::noinline]] cursor fail_ambiguous(cursor key_at, std::string_view k, node_id again) {
        err_.detail = "\"" + std::string(k) + "\" (selects " + std::string(proj_.at(again).name) + " again)";
        return fail(key_at, json_errc::ambiguous_key);
    }

    [[gnu::noinline]] cursor skip_ws(cursor p) const {
        while (p != end_ && ws_table[static_cast<unsigned char>(*p)]) ++p;
        return p;
    }
    cursor ws(cursor p) const { return p != end_ && static_cast<unsigned char>(*p) <= ' ' ? skip_ws(p) : p; }

    // --- strings -----------------------------------------------------------

    // The string at p (on its opening quote), validated; appended decoded to
    // `out` when given.
    cursor string_body(cursor p, std::string* out) {
        ++p;
        cursor chunk = p;
        for (;;) {
            p = plain_run(p, end_);
            if (p == end_) return fail(p, json_errc::unexpected_end);
            const char c = *p;
            if (c == '"') {
                if (out && !append(*out, chunk, p)) return fail(p, json_errc::string_too_long);
                return p + 1;
            }
            if (c == '\\') {
                if (out && !append(*out, chunk, p)) return fail(p, json_errc::string_too_long);
                p = escape(p, out);
                if (!p) return nullptr;
                chunk = p;
            } else if (static_cast<unsigned char>(c) < 0x20) {
                return fail(p, json_errc::control_char);
            } else {
                const std::size_t n = utf8_sequence(p, end_);
                if (n == 0) return fail(p, json_errc::bad_utf8);
                p += n;
            }
        }
    }

    static bool append(std::string& out, const char* from, const char* to) {
        if (out.size() + static_cast<std::size_t>(to - from) > json_max_string_bytes) return false;
        out.append(from, to);
        return true;
    }

    // Four hex digits at p into cp; nullptr when malformed.
    cursor hex4(cursor p, std::uint32_t& cp) {
        if (end_ - p < 4) return fail(p, json_errc::bad_escape);
        cp = 0;
        for (int i = 0; i < 4; ++i) {
            const int h = hex_digit_value(p[i]);
            if (h < 0) return fail(p, json_errc::bad_escape);
            cp = cp << 4 | static_cast<std::uint32_t>(h);
        }
        return p + 4;
    }

    // One escape sequence at p (on the backslash).
    cursor escape(cursor p, std::string* out) {
        const cursor at = p++;
        if (p == end_) return fail(p, json_errc::unexpected_end);
        // The single-character escapes RFC 8259 allows, and what they mean.
        static constexpr std::string_view from = "\"\\/bfnrt";
        static constexpr std::string_view to = "\"\\/\b\f\n\r\t";
        if (const auto k = from.find(*p); k != std::string_view::npos) {
            if (out) {
                if (out->size() + 1 > json_max_string_bytes) return fail(at, json_errc::string_too_long);
                *out += to[k];
            }
            return p + 1;
        }
        if (*p != 'u') return fail(at, json_errc::bad_escape);
        std::uint32_t cp = 0;
        p = hex4(p + 1, cp);
        if (!p) return nullptr;
        // A high surrogate must be followed by an escaped low one; a lone
        // half is not a character (Go would substitute U+FFFD: we refuse).
        if (cp >= 0xDC00 && cp <= 0xDFFF) return fail(at, json_errc::lone_surrogate);
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (end_ - p < 2 || p[0] != '\\' || p[1] != 'u') return fail(at, json_errc::lone_surrogate);
            std::uint32_t lo = 0;
            p = hex4(p + 2, lo);
            if (!p) return nullptr;
            if (lo < 0xDC00 || lo > 0xDFFF) return fail(at, json_errc::lone_surrogate);
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        }
        if (out) {
            if (out->size() + 4 > json_max_string_bytes) return fail(at, json_errc::string_too_long);
            append_utf8(*out, cp);
        }
        return p;
    }

    // An object key at p: a view into the text when it is plain ASCII
    // without escapes (`ascii`), else the decoded copy in key_buf_.
    cursor key(cursor p, std::string_view& k, bool& ascii) {
        const cursor start = p + 1;
        const cursor q = plain_run(start, end_);
        if (q != end_ && *q == '"') {
            k = std::string_view(start, static_cast<std::size_t>(q - start));
            ascii = true;
            return q + 1;
        }
        ascii = false;
        key_buf_.clear();
        p = string_body(p, &key_buf_);
        k = key_buf_;
        return p;
    }

    // --- scalars -----------------------------------------------------------

    cursor digits(cursor p) const {
        while (p != end_ && is_digit(*p)) ++p;
        return p;
    }

    // A number at p, validated; its value into `out` when given.
    cursor number(cursor p, json_value* out) {
        const cursor start = p;
        if (*p == '-') ++p;
        if (p == end_) return fail(p, json_errc::unexpected_end);
        if (*p == '0') {
            ++p;
            if (p != end_ && is_digit(*p)) return fail(p, json_errc::leading_zero);
        } else if (is_digit(*p)) {
            p = digits(p + 1);
        } else {
            return fail(p, json_errc::bad_number);
        }
        if (p != end_ && *p == '.') {
            ++p;
            if (p == end_ || !is_digit(*p)) return fail(p, json_errc::bad_number);
            p = digits(p);
        }
        if (p != end_ && (*p == 'e' || *p == 'E')) {
            ++p;
            if (p != end_ && (*p == '+' || *p == '-')) ++p;
            if (p == end_ || !is_digit(*p)) return fail(p, json_errc::bad_number);
            p = digits(p);
        }
        if (out) {
            out->type = json_type::number;
            // Go refuses to decode a number that overflows float64 too.
            if (std::from_chars(start, p, out->number).ec != std::errc{}) return fail(start, json_errc::number_range);
        }
        return p;
    }

    cursor literal(cursor p, const char* word, std::size_t len) {
        if (static_cast<std::size_t>(end_ - p) < len || std::memcmp(p, word, len) != 0)
            return fail(p, json_errc::bad_literal);
        return p + len;
    }

    // --- structure -----------------------------------------------------------

    // After a key: the colon, with optional whitespace around it.
    cursor colon(cursor p) {
        p = ws(p);
        if (p == end_) return fail(p, json_errc::unexpected_end);
        if (*p != ':') return fail(p, json_errc::expected_colon);
        return ws(p + 1);
    }

    // After a member or element: `,` then the next one (`more` stays true),
    // or `close` (`more` false). A `,` right before `close` is a trailing comma.
    cursor next(cursor p, char close, json_errc expected, bool& more) {
        p = ws(p);
        if (p == end_) return fail(p, json_errc::unexpected_end);
        if (*p == close) {
            more = false;
            return p + 1;
        }
        if (*p != ',') return fail(p, expected);
        p = ws(p + 1);
        if (p != end_ && *p == close) return fail(p, json_errc::trailing_comma);
        return p;
    }

    // Opens a container at p: checks the depth and steps over the bracket;
    // `empty` when it closes right away (then p is past the close).
    cursor open(cursor p, std::size_t depth, char close, bool& empty) {
        if (depth > json_max_depth) return fail(p, json_errc::too_deep);
        p = ws(p + 1);
        empty = p != end_ && *p == close;
        return empty ? p + 1 : p;
    }

    // --- skipping ------------------------------------------------------------

    // Validates the value at p without keeping anything; `depth` counts the
    // containers already open around it.
    cursor skip_value(cursor p, std::size_t depth) {
        if (p == end_) return fail(p, json_errc::unexpected_end);
        switch (*p) {
        case '"': return string_body(p, nullptr);
        case '{': return skip_object(p, depth + 1);
        case '[': return skip_array(p, depth + 1);
        case 't': return literal(p, "true", 4);
        case 'f': return literal(p, "false", 5);
        case 'n': return literal(p, "null", 4);
        default:
            if (*p == '-' || is_digit(*p)) return number(p, nullptr);
            return fail(p, json_errc::unexpected_char);
        }
    }

    cursor skip_object(cursor p, std::size_t depth) {
        bool empty = false, more = true;
        p = open(p, depth, '}', empty);
        if (!p || empty) return p;
        while (more) {
            if (p == end_) return fail(p, json_errc::unexpected_end);
            if (*p != '"') return fail(p, json_errc::expected_key);
            if (!(p = string_body(p, nullptr)) || !(p = colon(p)) || !(p = skip_value(p, depth))) return nullptr;
            if (!(p = next(p, '}', json_errc::expected_object_continue, more))) return nullptr;
        }
        return p;
    }

    cursor skip_array(cursor p, std::size_t depth) {
        bool empty = false, more = true;
        p = open(p, depth, ']', empty);
        if (!p || empty) return p;
        while (more) {
            if (!(p = skip_value(p, depth))) return nullptr;
            if (!(p = next(p, ']', json_errc::expected_array_continue, more))) return nullptr;
        }
        return p;
    }

    // --- extracting ------------------------------------------------------------

    // Extracts the value at p for projection node `n`. `elements`: whether an
    // array here keeps its elements (one level: an element's own arrays do not).
    cursor scan_value(cursor p, node_id n, json_value& out, std::size_t depth, bool elements) {
        if (p == end_) return fail(p, json_errc::unexpected_end);
        if (++values_ > json_max_values) return fail(p, json_errc::too_many_values);
        out.offset = static_cast<std::size_t>(p - begin_);
        switch (*p) {
        case '{':
            out.type = json_type::object;
            if (proj_.at(n).child_count == 0) return skip_object(p, depth + 1);
            return scan_object(p, n, out, depth + 1);
        case '[':
            out.type = json_type::array;
            if (!elements) return skip_array(p, depth + 1);
            return scan_array(p, n, out, depth + 1);
        case '"':
            out.type = json_type::string;
            return string_body(p, &out.text);
        case 't':
            out.type = json_type::boolean;
            out.boolean = true;
            return literal(p, "true", 4);
        case 'f':
            out.type = json_type::boolean;
            return literal(p, "false", 5);
        case 'n':
            out.type = json_type::null;
            return literal(p, "null", 4);
        default:
            if (*p == '-' || is_digit(*p)) return number(p, &out);
            return fail(p, json_errc::unexpected_char);
        }
    }

    cursor scan_array(cursor p, node_id n, json_value& out, std::size_t depth) {
        bool empty = false, more = true;
        p = open(p, depth, ']', empty);
        if (!p || empty) return p;
        while (more) {
            if (out.elements.size() == json_max_list_elements) return fail(p, json_errc::too_many_elements);
            out.elements.emplace_back();
            if (!(p = scan_value(p, n, out.elements.back(), depth, false))) return nullptr;
            if (!(p = next(p, ']', json_errc::expected_array_continue, more))) return nullptr;
        }
        return p;
    }

    // The children of `n` that key `k` selects: the field child it equals
    // or folds to (Go's case-insensitive rule; the projection keeps one node
    // per folded name), and the exact (map key) child it equals byte for
    // byte. Returns how many were written to `sel` (at most one of each).
    std::size_t select(node_id n, std::string_view k, bool ascii, node_id (&sel)[2]) const {
        node_id field = json_projection::none;
        node_id exact = json_projection::none;
        proj_.candidates(n, k, ascii, [&](node_id c) {
            const auto& cn = proj_.at(c);
            if (cn.match == key_match::exact) {
                if (exact == json_projection::none && cn.name == k) exact = c;
            } else if (field == json_projection::none && (cn.name == k || fold_equal(k, proj_.folded(c)))) {
                field = c;
            }
        });
        std::size_t count = 0;
        if (field != json_projection::none) sel[count++] = field;
        if (exact != json_projection::none) sel[count++] = exact;
        return count;
    }

    cursor scan_object(cursor p, node_id n, json_value& out, std::size_t depth) {
        bool empty = false, more = true;
        p = open(p, depth, '}', empty);
        if (!p) return nullptr;
        out.fields.resize(proj_.at(n).child_count);
        if (empty) return p;
        while (more) {
            if (p == end_) return fail(p, json_errc::unexpected_end);
            if (*p != '"') return fail(p, json_errc::expected_key);
            const cursor key_at = p;
            std::string_view k;
            bool ascii = true;
            if (!(p = key(p, k, ascii))) return nullptr;
            node_id sel[2];
            const std::size_t count = select(n, k, ascii, sel);
            // Two keys selecting one field: dockerd would silently keep the
            // last (or merge objects), so the request is ambiguous.
            for (std::size_t i = 0; i < count; ++i)
                if (out.fields[proj_.at(sel[i]).index].type != json_type::missing)
                    return fail_ambiguous(key_at, k, sel[i]);
            if (!(p = colon(p))) return nullptr;
            if (count == 0) {
                p = skip_value(p, depth);
            } else {
                const cursor value_at = p;
                for (std::size_t i = 0; i < count && p; ++i)
                    // The same key wanted both as a struct field and as a map
                    // key (rare): the value is read once per projection node.
                    p = scan_value(value_at, sel[i], out.fields[proj_.at(sel[i]).index], depth, true);
            }
            if (!p || !(p = next(p, '}', json_errc::expected_object_continue, more))) return nullptr;
        }
        return p;
    }
};

} // namespace dockpol::rt::detail
