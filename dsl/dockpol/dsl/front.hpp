// The front end in one call: parse → check stages → lints, with every
// diagnostic sorted by (file, line, column), de-duplicated and capped.
#pragma once
#include <algorithm>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "dockpol/dsl/ast.hpp"
#include "dockpol/dsl/check.hpp"
#include "dockpol/dsl/detail/text.hpp"
#include "dockpol/dsl/diagnostic.hpp"
#include "dockpol/dsl/format.hpp"
#include "dockpol/dsl/limits.hpp"
#include "dockpol/dsl/lint.hpp"
#include "dockpol/dsl/parse.hpp"
#include "dockpol/dsl/render.hpp"

namespace dockpol::dsl {

struct front_result {
    policy ast;                              // what was parsed (possibly partial on errors)
    std::vector<diagnostic> diagnostics;     // sorted (file, line, column), capped
    std::optional<checked_policy> checked;   // set iff no errors
};

namespace detail {

// Policy files in command-line order, then --data files, then diagnostics without a file.
inline void sort_and_cap(std::vector<diagnostic>& ds, const std::vector<source_file>& files,
                         const front_options& opts) {
    auto rank = [&](const diagnostic& d) -> std::size_t {
        if (d.sp.file < files.size() && files[d.sp.file].name == d.file) return d.sp.file;
        for (std::size_t i = 0; i < opts.data.size(); ++i)
            if (opts.data[i].name == d.file) return files.size() + i;
        return static_cast<std::size_t>(-1);
    };
    std::stable_sort(ds.begin(), ds.end(), [&](const diagnostic& a, const diagnostic& b) {
        return std::make_tuple(rank(a), a.sp.line, a.sp.column) < std::make_tuple(rank(b), b.sp.line, b.sp.column);
    });
    // A let used in several rules can report the same problem at the same place more than once.
    ds.erase(std::unique(ds.begin(), ds.end(),
                         [](const diagnostic& a, const diagnostic& b) {
                             return a.code == b.code && a.file == b.file && a.sp == b.sp && a.message == b.message;
                         }),
             ds.end());
    if (ds.size() > max_diagnostics) {
        const std::size_t dropped = ds.size() - max_diagnostics;
        ds.resize(max_diagnostics);
        diagnostic note;
        note.code = diag_code::truncated;
        note.sev = code_severity(note.code);
        note.message = std::to_string(dropped) + " more diagnostics not shown (at most " +
                       std::to_string(max_diagnostics) + " are reported)";
        ds.push_back(std::move(note));
    }
}

} // namespace detail

inline front_result analyze(std::vector<source_file> files, const front_options& opts = {}) {
    front_result r;
    std::vector<diagnostic>& ds = r.diagnostics;
    r.ast = parse_policy(std::move(files), ds);
    const check_output co = check_policy(r.ast, opts, ds);
    run_lints(r.ast, co, ds);
    // The `default` may be in what was not read.
    if (!r.ast.def && !r.ast.files.empty() && !has_fatal(ds)) {
        const detail::line_index li(r.ast.files[0].text);
        ds.push_back(detail::make_diag(r.ast.files, diag_code::no_default, li.at(0, 0, 0),
                                       "the policy has no `default`; requests no rule matches are denied",
                                       "add `default deny` (or `default allow`) to say so"));
    }
    detail::sort_and_cap(ds, r.ast.files, opts);
    if (!has_errors(ds)) r.checked = co.checked;
    return r;
}

} // namespace dockpol::dsl
