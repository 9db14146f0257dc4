// The one-pass projection scanner: validates the whole text (RFC 8259,
// strict) and copies out only what the projection names. Recursion depth is
// bounded by json_max_depth; nothing is allocated for skipped values.
#pragma once
#include <charconv>
#include <cstring>
#include <string>
#include <string_view>
#include <system_error>

#include "dockpol/rt/detail/json_limits.hpp"
#include "dockpol/rt/detail/json_projection.hpp"
#include "dockpol/rt/detail/json_text.hpp"
#include "dockpol/rt/detail/json_value.hpp"

namespace dockpol::rt::detail {

class json_scanner {
public:
    using node_id = json_projection::node_id;

    json_scanner(std::string_view text, const json_projection& proj)
        : begin_(text.data()), p_(text.data()), end_(text.data() + text.size()), proj_(proj) {}

    // Scans the whole text into `root` (the projection's root value).
    bool run(json_value& root) {
        skip_ws();
        if (p_ == end_) return fail(json_errc::empty);
        if (!scan_value(json_projection::root, root, 0, true)) return false;
        skip_ws();
        if (p_ != end_) return fail(json_errc::trailing_data);
        return true;
    }

    const json_error& error() const { return err_; }

private:
    const char* begin_;
    const char* p_;
    const char* end_;
    const json_projection& proj_;
    std::size_t values_ = 0;
    json_error err_;
    std::string key_buf_;   // a key that needed unescaping

    bool fail(json_errc code, std::string detail = {}) {
        err_.offset = static_cast<std::size_t>(p_ - begin_);
        err_.code = code;
        err_.detail = std::move(detail);
        return false;
    }

    void skip_ws() {
        while (p_ != end_ && ws_table[static_cast<unsigned char>(*p_)]) ++p_;
    }

    // --- strings -----------------------------------------------------------

    // Reads the string at p_ (on its opening quote). With `out`, appends the
    // decoded text; without, only validates.
    bool string_body(std::string* out) {
        ++p_;
        const char* chunk = p_;
        for (;;) {
            while (p_ != end_ && str_classes[static_cast<unsigned char>(*p_)] == str_class::plain) ++p_;
            if (p_ == end_) return fail(json_errc::unexpected_end);
            switch (str_classes[static_cast<unsigned char>(*p_)]) {
            case str_class::quote:
                if (out && !append(*out, chunk, p_)) return false;
                ++p_;
                return true;
            case str_class::backslash:
                if (out && !append(*out, chunk, p_)) return false;
                if (!escape(out)) return false;
                chunk = p_;
                break;
            case str_class::control:
                return fail(json_errc::control_char);
            case str_class::utf8: {
                const std::size_t n = utf8_sequence(p_, end_);
                if (n == 0) return fail(json_errc::bad_utf8);
                p_ += n;
                break;
            }
            case str_class::plain:
                break;
            }
        }
    }

    bool append(std::string& out, const char* from, const char* to) {
        if (out.size() + static_cast<std::size_t>(to - from) > json_max_string_bytes)
            return fail(json_errc::string_too_long);
        out.append(from, to);
        return true;
    }

    bool hex4(std::uint32_t& cp) {
        if (end_ - p_ < 4) return fail(json_errc::bad_escape);
        cp = 0;
        for (int i = 0; i < 4; ++i) {
            const int h = hex_value(p_[i]);
            if (h < 0) return fail(json_errc::bad_escape);
            cp = cp << 4 | static_cast<std::uint32_t>(h);
        }
        p_ += 4;
        return true;
    }

    // One escape sequence at p_ (on the backslash).
    bool escape(std::string* out) {
        ++p_;
        if (p_ == end_) return fail(json_errc::unexpected_end);
        // The single-character escapes RFC 8259 allows, and what they mean.
        static constexpr std::string_view from = "\"\\/bfnrt";
        static constexpr std::string_view to = "\"\\/\b\f\n\r\t";
        if (const auto k = from.find(*p_); k != std::string_view::npos) {
            ++p_;
            if (out) {
                if (out->size() + 1 > json_max_string_bytes) return fail(json_errc::string_too_long);
                *out += to[k];
            }
            return true;
        }
        if (*p_ != 'u') return fail(json_errc::bad_escape);
        ++p_;
        std::uint32_t cp = 0;
        if (!hex4(cp)) return false;
        // A high surrogate must be followed by an escaped low one; a lone
        // half is not a character (Go would substitute U+FFFD: we refuse).
        if (cp >= 0xDC00 && cp <= 0xDFFF) return fail(json_errc::lone_surrogate);
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return fail(json_errc::lone_surrogate);
            p_ += 2;
            std::uint32_t lo = 0;
            if (!hex4(lo)) return false;
            if (lo < 0xDC00 || lo > 0xDFFF) return fail(json_errc::lone_surrogate);
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        }
        if (out) {
            if (out->size() + 4 > json_max_string_bytes) return fail(json_errc::string_too_long);
            append_utf8(*out, cp);
        }
        return true;
    }

    // An object key: a view into the text when it has no escapes, else the
    // decoded copy in key_buf_.
    bool key(std::string_view& k) {
        const char* start = p_ + 1;
        const char* q = start;
        while (q != end_ && str_classes[static_cast<unsigned char>(*q)] == str_class::plain) ++q;
        if (q != end_ && *q == '"') {
            k = std::string_view(start, static_cast<std::size_t>(q - start));
            p_ = q + 1;
            return true;
        }
        key_buf_.clear();
        if (!string_body(&key_buf_)) return false;
        k = key_buf_;
        return true;
    }

    // --- scalars -----------------------------------------------------------

    bool number(json_value* out) {
        const char* start = p_;
        if (*p_ == '-') ++p_;
        if (p_ == end_) return fail(json_errc::unexpected_end);
        if (*p_ == '0') {
            ++p_;
            if (p_ != end_ && is_digit(*p_)) return fail(json_errc::leading_zero);
        } else if (is_digit(*p_)) {
            while (p_ != end_ && is_digit(*p_)) ++p_;
        } else {
            return fail(json_errc::bad_number);
        }
        if (p_ != end_ && *p_ == '.') {
            ++p_;
            if (p_ == end_ || !is_digit(*p_)) return fail(json_errc::bad_number);
            while (p_ != end_ && is_digit(*p_)) ++p_;
        }
        if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
            ++p_;
            if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
            if (p_ == end_ || !is_digit(*p_)) return fail(json_errc::bad_number);
            while (p_ != end_ && is_digit(*p_)) ++p_;
        }
        if (out) {
            out->type = json_type::number;
            const auto r = std::from_chars(start, p_, out->number);
            // Go refuses to decode a number that overflows float64 too.
            if (r.ec != std::errc{}) {
                p_ = start;
                return fail(json_errc::number_range);
            }
        }
        return true;
    }

    bool literal(std::string_view word) {
        if (static_cast<std::size_t>(end_ - p_) < word.size() ||
            std::memcmp(p_, word.data(), word.size()) != 0)
            return fail(json_errc::bad_literal);
        p_ += word.size();
        return true;
    }

    // --- skipping ------------------------------------------------------------

    // Validates the value at p_ without keeping anything; `depth` counts the
    // containers already open around it.
    bool skip_value(std::size_t depth) {
        if (p_ == end_) return fail(json_errc::unexpected_end);
        switch (*p_) {
        case '{': return skip_object(depth + 1);
        case '[': return skip_array(depth + 1);
        case '"': return string_body(nullptr);
        case 't': return literal("true");
        case 'f': return literal("false");
        case 'n': return literal("null");
        default:
            if (*p_ == '-' || is_digit(*p_)) return number(nullptr);
            return fail(json_errc::unexpected_char);
        }
    }

    bool skip_object(std::size_t depth) {
        if (depth > json_max_depth) return fail(json_errc::too_deep);
        ++p_;
        skip_ws();
        if (p_ != end_ && *p_ == '}') { ++p_; return true; }
        for (;;) {
            if (p_ == end_) return fail(json_errc::unexpected_end);
            if (*p_ != '"') return fail(json_errc::expected_key);
            if (!string_body(nullptr) || !colon()) return false;
            if (!skip_value(depth)) return false;
            bool more = false;
            if (!object_continue(more)) return false;
            if (!more) return true;
        }
    }

    bool skip_array(std::size_t depth) {
        if (depth > json_max_depth) return fail(json_errc::too_deep);
        ++p_;
        skip_ws();
        if (p_ != end_ && *p_ == ']') { ++p_; return true; }
        for (;;) {
            if (!skip_value(depth)) return false;
            bool more = false;
            if (!array_continue(more)) return false;
            if (!more) return true;
        }
    }

    bool colon() {
        skip_ws();
        if (p_ == end_) return fail(json_errc::unexpected_end);
        if (*p_ != ':') return fail(json_errc::expected_colon);
        ++p_;
        skip_ws();
        return true;
    }

    // After a member: `,` (then a key must follow) or `}`.
    bool object_continue(bool& more) {
        skip_ws();
        if (p_ == end_) return fail(json_errc::unexpected_end);
        if (*p_ == '}') { ++p_; more = false; return true; }
        if (*p_ != ',') return fail(json_errc::expected_object_continue);
        ++p_;
        skip_ws();
        if (p_ != end_ && *p_ == '}') return fail(json_errc::trailing_comma);
        more = true;
        return true;
    }

    // After an element: `,` (then a value must follow) or `]`.
    bool array_continue(bool& more) {
        skip_ws();
        if (p_ == end_) return fail(json_errc::unexpected_end);
        if (*p_ == ']') { ++p_; more = false; return true; }
        if (*p_ != ',') return fail(json_errc::expected_array_continue);
        ++p_;
        skip_ws();
        if (p_ != end_ && *p_ == ']') return fail(json_errc::trailing_comma);
        more = true;
        return true;
    }

    // --- extracting ------------------------------------------------------------

    // Extracts the value at p_ for projection node `n`. `elements`: whether an
    // array here keeps its elements (one level: an element's own arrays do not).
    bool scan_value(node_id n, json_value& out, std::size_t depth, bool elements) {
        if (p_ == end_) return fail(json_errc::unexpected_end);
        if (++values_ > json_max_values) return fail(json_errc::too_many_values);
        out.offset = static_cast<std::size_t>(p_ - begin_);
        switch (*p_) {
        case '{':
            out.type = json_type::object;
            if (proj_.at(n).child_count == 0) return skip_object(depth + 1);
            return scan_object(n, out, depth + 1);
        case '[':
            out.type = json_type::array;
            if (!elements) return skip_array(depth + 1);
            return scan_array(n, out, depth + 1);
        case '"':
            out.type = json_type::string;
            return string_body(&out.text);
        case 't':
            out.type = json_type::boolean;
            out.boolean = true;
            return literal("true");
        case 'f':
            out.type = json_type::boolean;
            return literal("false");
        case 'n':
            out.type = json_type::null;
            return literal("null");
        default:
            if (*p_ == '-' || is_digit(*p_)) return number(&out);
            return fail(json_errc::unexpected_char);
        }
    }

    bool scan_array(node_id n, json_value& out, std::size_t depth) {
        if (depth > json_max_depth) return fail(json_errc::too_deep);
        ++p_;
        skip_ws();
        if (p_ != end_ && *p_ == ']') { ++p_; return true; }
        for (;;) {
            if (out.elements.size() == json_max_list_elements) return fail(json_errc::too_many_elements);
            out.elements.emplace_back();
            if (!scan_value(n, out.elements.back(), depth, false)) return false;
            bool more = false;
            if (!array_continue(more)) return false;
            if (!more) return true;
        }
    }

    // The children of `n` that key `k` selects, Go style: a field child whose
    // name equals the key wins over one that only folds to it; among fold
    // matches the first declared wins; exact children need byte equality.
    // Returns how many were written to `sel` (at most 2: one of each kind).
    std::size_t select(node_id n, std::string_view k, node_id (&sel)[2]) {
        node_id field = json_projection::none;
        node_id exact = json_projection::none;
        bool field_exact = false;
        char buf[json_max_name_bytes];
        std::size_t folded = json_max_name_bytes + 1;
        bool folded_done = false;
        for (node_id c = proj_.at(n).first_child; c != json_projection::none; c = proj_.at(c).next_sibling) {
            const auto& cn = proj_.at(c);
            if (cn.match == key_match::exact) {
                if (exact == json_projection::none && cn.name == k) exact = c;
                continue;
            }
            if (field_exact) continue;
            if (cn.name == k) {
                field = c;
                field_exact = true;
                continue;
            }
            if (field != json_projection::none) continue;
            if (!folded_done) {
                folded = fold_key(k, buf, sizeof buf);
                folded_done = true;
            }
            if (folded == cn.folded_size && std::memcmp(buf, proj_.folded(c).data(), folded) == 0) field = c;
        }
        std::size_t count = 0;
        if (field != json_projection::none) sel[count++] = field;
        if (exact != json_projection::none) sel[count++] = exact;
        return count;
    }

    bool scan_object(node_id n, json_value& out, std::size_t depth) {
        if (depth > json_max_depth) return fail(json_errc::too_deep);
        out.fields.resize(proj_.at(n).child_count);
        ++p_;
        skip_ws();
        if (p_ != end_ && *p_ == '}') { ++p_; return true; }
        for (;;) {
            if (p_ == end_) return fail(json_errc::unexpected_end);
            if (*p_ != '"') return fail(json_errc::expected_key);
            const char* key_at = p_;
            std::string_view k;
            if (!key(k)) return false;
            node_id sel[2];
            const std::size_t count = select(n, k, sel);
            // Two keys selecting one field: dockerd would silently keep the
            // last (or merge objects), so the request is ambiguous.
            for (std::size_t i = 0; i < count; ++i) {
                if (out.fields[proj_.at(sel[i]).index].type != json_type::missing) {
                    p_ = key_at;
                    return fail(json_errc::ambiguous_key,
                                "\"" + std::string(k) + "\" (selects " + std::string(proj_.at(sel[i]).name) +
                                    " again)");
                }
            }
            if (!colon()) return false;
            if (count == 0) {
                if (!skip_value(depth)) return false;
            } else {
                const char* value_at = p_;
                for (std::size_t i = 0; i < count; ++i) {
                    // The same key wanted both as a struct field and as a map
                    // key (rare): the value is read once per projection node.
                    p_ = value_at;
                    if (!scan_value(sel[i], out.fields[proj_.at(sel[i]).index], depth, true)) return false;
                }
            }
            bool more = false;
            if (!object_continue(more)) return false;
            if (!more) return true;
        }
    }
};

} // namespace dockpol::rt::detail
