// The compiler pipeline: analyze (front end) → lower → limits → verify.
// The verifier that dockpold runs also checks every image dockpolc produces;
// a rejection there is a compiler bug, reported as `dp-internal`.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dockpol/dsl/ast.hpp"
#include "dockpol/dsl/diagnostic.hpp"
#include "dockpol/dsl/front.hpp"
#include "dockpol/dsl/lower.hpp"
#include "dockpol/dsl/source.hpp"
#include "dockpol/rt/program.hpp"
#include "dockpol/rt/sha256.hpp"
#include "dockpol/rt/verifier.hpp"

#ifndef DOCKPOL_VERSION
#define DOCKPOL_VERSION "0.0.0-dev"
#endif

namespace dockpol::dsl {

inline constexpr std::string_view compiler_version = DOCKPOL_VERSION;

// Hex digits of the default revision: 48 bits of SHA-256 name a policy
// version unambiguously among any realistic number of builds.
inline constexpr std::size_t revision_hex_digits = 12;

// The manifest's per-source digests: SHA-256 of each file's exact bytes.
inline std::vector<rt::source_digest> source_digests(const std::vector<source_file>& files) {
    std::vector<rt::source_digest> out;
    for (const auto& f : files) out.push_back({f.name, rt::sha256_hex(f.text)});
    return out;
}

// The default revision: the first 12 hex digits of SHA-256 over every
// source's "name\0sha256hex\n", in command-line order. Same sources, same revision.
inline std::string source_revision(const std::vector<source_file>& files) {
    std::string acc;
    for (const auto& d : source_digests(files)) {
        acc += d.file;
        acc += '\0';
        acc += d.sha256_hex;
        acc += '\n';
    }
    return rt::sha256_hex(acc).substr(0, revision_hex_digits);
}

struct compile_result {
    std::vector<diagnostic> diagnostics;
    std::optional<rt::program_image> image;  // set iff no errors
    std::string revision;
};

// Lowers and verifies an already checked policy (the back half of compile()).
inline compile_result compile_checked(const checked_policy& pol, std::string revision = "") {
    compile_result res;
    res.revision = revision.empty() ? source_revision(pol.files) : std::move(revision);
    rt::manifest man{res.revision, std::string(compiler_version), source_digests(pol.files)};
    auto internal = [&](std::string msg) {
        res.diagnostics.push_back(diagnostic{diag_code::internal, code_severity(diag_code::internal), "", {}, std::move(msg),
                                             "this is a compiler bug; please report it with the policy"});
        return res;
    };
    rt::program_image img;
    try {
        img = lower(pol, std::move(man));
    } catch (const lower_error& e) {
        return internal(std::string("lowering failed: ") + e.what());
    }
    if (auto e = rt::check_limits(img)) {
        res.diagnostics.push_back(diagnostic{diag_code::limit, code_severity(diag_code::limit), "", {}, "compiled policy too large: " + *e, ""});
        return res;
    }
    if (auto e = rt::verify(img)) return internal("the verifier rejected the compiled policy: " + *e);
    res.image = std::move(img);
    return res;
}

// Sources → verified program image (or diagnostics). `revision` "" means the source digest.
inline compile_result compile(std::vector<source_file> files, const front_options& opts = {}, std::string revision = "") {
    auto front = analyze(std::move(files), opts);
    if (!front.checked) {
        compile_result res;
        res.diagnostics = std::move(front.diagnostics);
        res.revision = revision.empty() ? source_revision(front.ast.files) : revision;
        return res;
    }
    auto res = compile_checked(*front.checked, std::move(revision));
    // Warnings and notes of the front end come first; they are sorted by position.
    res.diagnostics.insert(res.diagnostics.begin(), front.diagnostics.begin(), front.diagnostics.end());
    return res;
}

} // namespace dockpol::dsl
