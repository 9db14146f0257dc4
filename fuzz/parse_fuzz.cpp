// parse_fuzz: policy text → dsl::analyze never crashes or throws, reports
// only user diagnostics (never `dp-internal`), and every diagnostic tied to
// the file points inside it with a line/column that matches its byte offset.
#define DOCKPOL_FUZZ_TARGET "parse_fuzz"
#include <cstdint>
#include <string>
#include <vector>

#include "dockpol/dsl/front.hpp"
#include "fuzz_support.hpp"

namespace parse_fuzz {

namespace {

using namespace dockpol;

// Line and code-point column of byte `off`, counted independently of the front end.
std::pair<std::uint32_t, std::uint32_t> position_of(std::string_view text, std::size_t off) {
    std::uint32_t line = 1, col = 1;
    for (std::size_t i = 0; i < off && i < text.size(); ++i) {
        const auto b = static_cast<unsigned char>(text[i]);
        if (text[i] == '\n') {
            ++line;
            col = 1;
        } else if ((b & 0xC0) != 0x80) {
            ++col;
        }
    }
    return {line, col};
}

std::string describe(const dsl::diagnostic& d) {
    return std::string(dsl::code_name(d.code)) + " at " + d.file + ":" + std::to_string(d.sp.line) + ":" +
           std::to_string(d.sp.column) + " [" +
           std::to_string(d.sp.begin) + "," + std::to_string(d.sp.end) + ") " + d.message;
}

} // namespace

DOCKPOL_FUZZ_ENTRY(data, size) {
    const std::string text(fuzz::as_text(data, size));
    const std::string name = "fuzz.dpol";
    auto r = dsl::analyze({dsl::source_file{name, text}});

    bool errors = false;
    for (const auto& d : r.diagnostics) {
        DOCKPOL_FUZZ_CHECK(d.code != dsl::diag_code::internal, describe(d));
        DOCKPOL_FUZZ_CHECK(static_cast<std::size_t>(d.code) < dsl::diag_code_rows.size(), describe(d));
        errors |= d.sev == dsl::severity::error;
        if (d.file.empty()) continue;  // summary notes (dp-truncated) have no position
        DOCKPOL_FUZZ_CHECK(d.file == name && d.sp.file == 0, describe(d));
        DOCKPOL_FUZZ_CHECK(d.sp.begin <= d.sp.end && d.sp.end <= text.size(), describe(d));
        const auto [line, col] = position_of(text, d.sp.begin);
        DOCKPOL_FUZZ_CHECK(d.sp.line == line && d.sp.column == col,
                           describe(d) + " (offset is at " + std::to_string(line) + ":" + std::to_string(col) + ")");
    }
    DOCKPOL_FUZZ_CHECK(r.checked.has_value() == !errors, "checked policy present iff no errors");
    DOCKPOL_FUZZ_CHECK(r.diagnostics.size() <= dsl::max_diagnostics + 1, std::to_string(r.diagnostics.size()));

    // The renderers read lines and columns back out of the text: they must cope with every span.
    const std::string shown = dsl::render_text(r.diagnostics, r.ast.files);
    const std::string json = dsl::render_json(r.diagnostics);
    DOCKPOL_FUZZ_CHECK(r.diagnostics.empty() || !shown.empty(), "render_text printed nothing");
    DOCKPOL_FUZZ_CHECK(json.rfind("{\"diagnostics\":", 0) == 0, json.substr(0, 64));
    return 0;
}

} // namespace parse_fuzz

#undef DOCKPOL_FUZZ_TARGET
