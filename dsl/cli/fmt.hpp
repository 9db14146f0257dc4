// `dockpolc fmt POLICY... [--write | --check]`: the canonical layout of each
// file. Default prints it; --write replaces files that differ; --check
// prints a unified-style diff per file that differs and exits 1.
// A file with syntax errors is never formatted (its tree is partial).
#pragma once
#include <sys/stat.h>

#include <iostream>
#include <span>
#include <string>

#include "cli/args.hpp"
#include "cli/command.hpp"
#include "cli/common.hpp"
#include "cli/diff.hpp"
#include "cli/policy_input.hpp"
#include "dockpol/dsl/front.hpp"

namespace dockpol::dsl::cli {

namespace detail {

// Diagnostics that mean the parser could not build the whole tree of a file.
inline bool breaks_parse(const diagnostic& d) {
    return d.sev == severity::error && (d.code == diag_code::parse || d.code == diag_code::limit);
}

inline bool parses_cleanly(const std::vector<diagnostic>& ds, std::size_t file_index) {
    for (const auto& d : ds)
        if (breaks_parse(d) && d.sp.file == file_index) return false;
    return true;
}

} // namespace detail

inline constexpr option_spec fmt_options[] = {
    {"--write", arg_kind::flag, "", "rewrite the files in place"},
    {"--check", arg_kind::flag, "", "exit 1 and print a diff when a file is not formatted"},
};

inline int run_fmt(std::span<const std::string> args) {
    auto pa = parse_args(args, fmt_options);
    if (auto* e = std::get_if<std::string>(&pa)) return fail("fmt: " + *e);
    const auto& a = std::get<parsed_args>(pa);
    const bool write = a.has("--write"), check = a.has("--check");
    if (write && check) return fail("fmt: give --write or --check, not both");
    auto files = read_policies(a.positional);
    if (auto* code = std::get_if<int>(&files)) return *code;
    const auto& sources = std::get<0>(files);

    // Files are analysed one at a time: formatting is per file and must not
    // depend on the others (a `let` defined elsewhere is not a syntax error).
    int rc = exit_ok;
    for (const auto& src : sources) {
        front_result fr = analyze({src});
        if (!detail::parses_cleanly(fr.diagnostics, 0)) {
            std::vector<diagnostic> parse_errors;
            for (const auto& d : fr.diagnostics)
                if (detail::breaks_parse(d)) parse_errors.push_back(d);
            std::cerr << render_text(parse_errors, {src}, text_style{stderr_in_color()});
            rc = exit_fail;
            continue;
        }
        const std::string formatted = format_file(fr.ast, 0);
        // The formatter must produce a file that still parses; otherwise refuse rather than corrupt it.
        if (!detail::parses_cleanly(analyze({source_file{src.name, formatted}}).diagnostics, 0)) {
            rc = fail("internal error: formatting " + src.name + " produced text that does not parse");
            continue;
        }
        if (check) {
            if (formatted != src.text) {
                std::cout << unified_diff(src.text, formatted, src.name, src.name + " (formatted)");
                if (rc == exit_ok) rc = exit_fail;
            }
        } else if (write) {
            if (formatted == src.text) continue;
            struct ::stat st {};
            const ::mode_t mode = ::stat(src.name.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0644;
            if (auto e = write_file_atomic(src.name, formatted, mode)) rc = fail(*e);
        } else {
            std::cout << formatted;
        }
    }
    return rc;
}

inline constexpr command_info fmt_command{
    "fmt", "POLICY... [--write | --check]",
    "print policy files in the canonical layout",
    fmt_options, false,
    "dockpolc fmt --check policy/*.dpol",
    run_fmt};

} // namespace dockpol::dsl::cli
