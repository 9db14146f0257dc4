// Text helpers shared by the front-end stages: UTF-8 validation, byte offset
// → line/column (code points) spans, diagnostic construction, and the shapes
// of string literals that the checker's hints look for.
#pragma once
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dockpol/dsl/detail/work_count.hpp"
#include "dockpol/dsl/diagnostic.hpp"
#include "dockpol/dsl/source.hpp"

namespace dockpol::dsl::detail {

// Byte offset of the first invalid UTF-8 sequence, or nullopt when valid.
inline std::optional<std::size_t> invalid_utf8_at(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto b = static_cast<unsigned char>(s[i]);
        std::size_t len = b < 0x80 ? 1 : (b >= 0xC2 && b <= 0xDF) ? 2 : (b >= 0xE0 && b <= 0xEF) ? 3
                        : (b >= 0xF0 && b <= 0xF4) ? 4 : 0;
        if (len == 0 || i + len > s.size()) return i;
        for (std::size_t k = 1; k < len; ++k)
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return i;
        if (len == 3) {
            const auto b1 = static_cast<unsigned char>(s[i + 1]);
            if ((b == 0xE0 && b1 < 0xA0) || (b == 0xED && b1 >= 0xA0)) return i;   // overlong / surrogate
        }
        if (len == 4) {
            const auto b1 = static_cast<unsigned char>(s[i + 1]);
            if ((b == 0xF0 && b1 < 0x90) || (b == 0xF4 && b1 >= 0x90)) return i;   // overlong / > U+10FFFF
        }
        i += len;
    }
    return std::nullopt;
}

// Number of code points in s (s is valid UTF-8 or counted bytewise where not).
inline std::uint32_t code_points(std::string_view s) {
    std::uint32_t n = 0;
    for (char c : s)
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
    return n;
}

// Maps byte offsets of one text to 1-based line and code-point column.
class line_index {
public:
    line_index() = default;
    explicit line_index(std::string_view text) : text_(text) {
        starts_.push_back(0);
        ascii_.push_back(true);
        for (std::size_t i = 0; i < text.size(); ++i) {
            if (static_cast<unsigned char>(text[i]) >= 0x80) ascii_.back() = false;
            if (text[i] == '\n') {
                starts_.push_back(static_cast<std::uint32_t>(i + 1));
                ascii_.push_back(true);
            }
        }
    }
    span at(std::uint32_t file, std::size_t begin, std::size_t end) const {
        count_work();
        begin = std::min(begin, text_.size());
        end = std::clamp(end, begin, text_.size());
        const auto it = std::upper_bound(starts_.begin(), starts_.end(), static_cast<std::uint32_t>(begin));
        const auto line = static_cast<std::uint32_t>(it - starts_.begin());
        const std::uint32_t ls = starts_[line - 1];
        span sp;
        sp.file = file;
        sp.begin = static_cast<std::uint32_t>(begin);
        sp.end = static_cast<std::uint32_t>(end);
        sp.line = line;
        sp.column = column_of(line, ls, begin);
        return sp;
    }
    std::uint32_t line_count() const { return static_cast<std::uint32_t>(starts_.size()); }
    std::uint32_t line_start(std::uint32_t line) const { return starts_[line - 1]; }

private:
    // Columns count code points. An ASCII line needs no counting; on other lines
    // counting resumes from the last position asked for, so a parser walking one
    // long line forward costs linear time, not quadratic.
    std::uint32_t column_of(std::uint32_t line, std::uint32_t ls, std::size_t begin) const {
        if (ascii_[line - 1]) return static_cast<std::uint32_t>(begin - ls) + 1;
        std::size_t from = ls;
        std::uint32_t col = 1;
        if (cache_line_ == line && cache_byte_ <= begin) {
            from = cache_byte_;
            col = cache_col_;
        }
        count_work(begin - from);
        col += code_points(text_.substr(from, begin - from));
        cache_line_ = line;
        cache_byte_ = begin;
        cache_col_ = col;
        return col;
    }

    std::string_view text_;
    std::vector<std::uint32_t> starts_;
    std::vector<bool> ascii_;               // per line: no byte >= 0x80
    mutable std::uint32_t cache_line_ = 0;  // the last (line, byte) → column computed
    mutable std::size_t cache_byte_ = 0;
    mutable std::uint32_t cache_col_ = 1;
};

// A diagnostic located in policy file `sp.file` (its name comes from `files`),
// with its code's severity.
inline diagnostic make_diag(const std::vector<source_file>& files, diag_code code, span sp, std::string message,
                            std::string help = {}) {
    diagnostic d;
    d.code = code;
    d.sev = code_severity(code);
    d.file = sp.file < files.size() ? files[sp.file].name : std::string();
    d.sp = sp;
    d.message = std::move(message);
    d.help = std::move(help);
    return d;
}

// `"text"` with the quotes and escapes a policy would use.
inline std::string quote_string(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        default: out += c;
        }
    }
    return out + "\"";
}

// A string with glob characters, written where a whole value is compared.
inline bool looks_like_glob(std::string_view s) { return s.find_first_of("*?[") != std::string_view::npos; }

// A string literal that spells a number ("0", "-1.5"): the quotes are probably a slip.
inline bool looks_numeric(std::string_view v) {
    return !v.empty() && v.find_first_not_of("-0123456789.") == std::string_view::npos &&
           std::isdigit(static_cast<unsigned char>(v.back()));
}

} // namespace dockpol::dsl::detail
