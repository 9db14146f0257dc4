// Source files and spans: byte offsets plus 1-based line and code-point column.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dockpol::dsl {

struct span {
    std::uint32_t file = 0;    // index into the policy's files
    std::uint32_t begin = 0;   // byte offset
    std::uint32_t end = 0;     // byte offset, exclusive
    std::uint32_t line = 0;    // 1-based
    std::uint32_t column = 0;  // 1-based, in code points
    friend bool operator==(const span&, const span&) = default;
};

struct source_file {
    std::string name;  // as given on the command line
    std::string text;

    // The text of line `line` (1-based), without its newline.
    std::string_view line_at(std::uint32_t line) const {
        std::uint32_t cur = 1;
        std::size_t start = 0;
        while (cur < line) {
            auto nl = text.find('\n', start);
            if (nl == std::string::npos) return {};
            start = nl + 1;
            ++cur;
        }
        auto nl = text.find('\n', start);
        std::string_view v(text.data() + start, (nl == std::string::npos ? text.size() : nl) - start);
        if (!v.empty() && v.back() == '\r') v.remove_suffix(1);
        return v;
    }
};

} // namespace dockpol::dsl
