// Diagnostics for people (text, with the source line and a caret) and for
// tools (JSON, docs/language.md).
#pragma once
#include <algorithm>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dockpol/dsl/detail/text.hpp"
#include "dockpol/dsl/diagnostic.hpp"
#include "dockpol/dsl/source.hpp"

namespace dockpol::dsl {

inline std::string_view severity_name(severity s) {
    static constexpr std::string_view names[] = {"error", "warning", "note"};
    return names[static_cast<std::size_t>(s)];
}

namespace detail {

inline const source_file* file_of(const diagnostic& d, const std::vector<source_file>& files) {
    if (d.sp.file < files.size() && files[d.sp.file].name == d.file) return &files[d.sp.file];
    for (const auto& f : files)
        if (f.name == d.file) return &f;
    return nullptr;
}

} // namespace detail

// How text diagnostics are coloured (ANSI): `dockpolc --color auto|always|never`.
struct text_style {
    bool color = false;
};

// Source lines longer than this (in code points) are shown clipped around the caret.
inline constexpr std::uint32_t max_shown_line = 120;

namespace detail {

inline std::string paint(const text_style& st, std::string_view code, std::string_view text) {
    if (!st.color) return std::string(text);
    return "\x1b[" + std::string(code) + "m" + std::string(text) + "\x1b[0m";
}

inline std::string_view severity_color(severity s) {
    static constexpr std::string_view codes[] = {"1;31", "1;33", "1;36"};
    return codes[static_cast<std::size_t>(s)];
}

// Byte offset of the `cp`-th code point (0-based) of `line`, or line.size().
inline std::size_t offset_of_code_point(std::string_view line, std::uint32_t cp) {
    std::uint32_t n = 0;
    for (std::size_t i = 0; i < line.size(); ++i) {
        if ((static_cast<unsigned char>(line[i]) & 0xC0) == 0x80) continue;
        if (n++ == cp) return i;
    }
    return line.size();
}

// (line, column) in code points of byte offset `off` in `text`, both 1-based.
inline std::pair<std::uint32_t, std::uint32_t> position_of(std::string_view text, std::size_t off) {
    std::uint32_t line = 1, col = 1;
    for (std::size_t i = 0; i < off && i < text.size(); ++i) {
        if (text[i] == '\n') {
            ++line;
            col = 1;
        } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
            ++col;
        }
    }
    return {line, col};
}

} // namespace detail

// "2 errors, 1 warning" ("" when there are none).
inline std::string diagnostics_summary(const std::vector<diagnostic>& ds) {
    std::size_t n[3] = {0, 0, 0};
    for (const auto& d : ds) ++n[static_cast<std::size_t>(d.sev)];
    static constexpr std::string_view names[] = {"error", "warning", "note"};
    std::string out;
    for (std::size_t k = 0; k < 3; ++k) {
        if (n[k] == 0) continue;
        if (!out.empty()) out += ", ";
        out += std::to_string(n[k]) + " " + std::string(names[k]) + (n[k] == 1 ? "" : "s");
    }
    return out;
}

// `file:line:col: error[code]: message`, the source line (clipped around the
// caret when long), a caret line (`^~~~` under the span's part on that line),
// `  help: ...` when set, and a last summary line (`2 errors, 1 warning`).
inline std::string render_text(const std::vector<diagnostic>& ds, const std::vector<source_file>& files,
                               text_style st = {}) {
    std::string out;
    for (const auto& d : ds) {
        std::string where;
        if (!d.file.empty()) {
            where += d.file;
            if (d.sp.line > 0) where += ":" + std::to_string(d.sp.line) + ":" + std::to_string(d.sp.column);
            where += ": ";
        }
        out += detail::paint(st, "1", where) +
               detail::paint(st, detail::severity_color(d.sev), std::string(severity_name(d.sev)) + "[" + std::string(code_name(d.code)) + "]") +
               ": " + d.message + "\n";
        const source_file* f = detail::file_of(d, files);
        if (f && d.sp.line > 0) {
            std::string_view line = f->line_at(d.sp.line);
            const std::size_t line_off = static_cast<std::size_t>(line.data() - f->text.data());
            // Width: the span's code points on this line, at least one.
            std::size_t b = d.sp.begin, e = d.sp.end;
            std::uint32_t width = 1;
            if (b >= line_off && b <= line_off + line.size()) {
                e = std::min(e, line_off + line.size());
                if (e > b) width = std::max<std::uint32_t>(1, detail::code_points(f->text.substr(b, e - b)));
            }
            // A long line is shown as a window around the caret, marked with "…" where it is cut.
            std::uint32_t column = d.sp.column;
            std::string before, after;
            if (detail::code_points(line) > max_shown_line) {
                const std::uint32_t first = column > 40 ? column - 40 : 1;
                const std::size_t from = detail::offset_of_code_point(line, first - 1);
                std::string_view rest = line.substr(from);
                const std::size_t to = detail::offset_of_code_point(rest, max_shown_line - 1);
                if (first > 1) before = "…";
                if (to < rest.size()) after = "…";
                line = rest.substr(0, to);
                column = column - first + 1 + (first > 1 ? 1 : 0);
                width = std::min<std::uint32_t>(width, max_shown_line - (column - 1));
            }
            out += before + std::string(line) + after + "\n";
            // Keep tabs so the caret lines up however the terminal expands them.
            std::string pad;
            std::uint32_t col = 1;
            const std::string shown = before + std::string(line);
            for (std::size_t i = 0; i < shown.size() && col < column; ++i) {
                const auto c = static_cast<unsigned char>(shown[i]);
                if ((c & 0xC0) == 0x80) continue;
                pad += shown[i] == '\t' ? '\t' : ' ';
                ++col;
            }
            out += pad + detail::paint(st, detail::severity_color(d.sev), "^" + std::string(width - 1, '~')) + "\n";
        }
        if (!d.help.empty()) out += "  " + detail::paint(st, "1;32", "help") + ": " + d.help + "\n";
    }
    if (!ds.empty()) out += diagnostics_summary(ds) + "\n";
    return out;
}

// {"diagnostics":[{"code","severity","file","line","column","end_line","end_column","message","help"?}]}
// end_line/end_column: where the span ends (exclusive), 1-based code points, when the file is known.
inline std::string render_json(const std::vector<diagnostic>& ds, const std::vector<source_file>& files = {}) {
    nlohmann::ordered_json arr = nlohmann::ordered_json::array();
    for (const auto& d : ds) {
        nlohmann::ordered_json j;
        j["code"] = std::string(code_name(d.code));
        j["severity"] = severity_name(d.sev);
        j["file"] = d.file;
        j["line"] = d.sp.line;
        j["column"] = d.sp.column;
        if (const source_file* f = detail::file_of(d, files); f && d.sp.line > 0 && d.sp.end >= d.sp.begin) {
            const auto [el, ec] = detail::position_of(f->text, d.sp.end);
            j["end_line"] = el;
            j["end_column"] = ec;
        }
        j["message"] = d.message;
        if (!d.help.empty()) j["help"] = d.help;
        arr.push_back(std::move(j));
    }
    nlohmann::ordered_json root;
    root["diagnostics"] = std::move(arr);
    return root.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace dockpol::dsl
