// Turning command-line inputs into something to run: reading policy sources
// and `--data` files, compiling with diagnostics reported per `--format`,
// and loading a program from sources or a `.dpb` bundle (for eval and test).
#pragma once
#include <array>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "dockpol/dsl.hpp"
#include "cli/args.hpp"
#include "cli/common.hpp"
#include "dockpol/dsl/front.hpp"
#include "dockpol/rt/bind.hpp"
#include "dockpol/rt/bundle.hpp"
#include "dockpol/rt/vm.hpp"

namespace dockpol::dsl::cli {

// The common options of build, check, test and eval, validated.
struct common_settings {
    front_options front;
    bool werror = false;
    output_format format = output_format::text;
};

// Reads `--data` files and validates `--format`; prints the error and returns an exit code on failure.
inline std::variant<common_settings, int> common_settings_of(const parsed_args& a) {
    common_settings s;
    auto f = format_of(a);
    if (auto* e = std::get_if<std::string>(&f)) return fail(*e);
    s.format = std::get<output_format>(f);
    s.werror = a.has("--werror");
    for (const auto& path : a.all("--data")) {
        auto r = read_file(path, max_data_bytes);
        if (auto* e = std::get_if<1>(&r)) return fail(e->message);
        s.front.data.push_back({path, std::move(std::get<0>(r))});
    }
    return s;
}

inline std::variant<std::vector<source_file>, int> read_policies(const std::vector<std::string>& paths) {
    if (paths.empty()) return fail("no policy files given (see dockpolc --help)");
    std::vector<source_file> files;
    for (const auto& p : paths) {
        auto r = read_file(p, max_policy_bytes);
        if (auto* e = std::get_if<1>(&r)) return fail(e->message);
        files.push_back({p, std::move(std::get<0>(r))});
    }
    return files;
}

inline bool has_warnings(const std::vector<diagnostic>& ds) {
    for (const auto& d : ds)
        if (d.sev == severity::warning) return true;
    return false;
}

// Whether diagnostics fail the command: any error, or any warning under --werror.
inline bool policy_failed(const std::vector<diagnostic>& ds, const common_settings& s) {
    return has_errors(ds) || (s.werror && has_warnings(ds));
}

// How diagnostics reach the user. `json_on_stdout`: the command's stdout is
// the diagnostics document (check, build); otherwise stdout belongs to the
// command's own result and the JSON document is printed only on failure.
inline void report(const std::vector<diagnostic>& ds, const std::vector<source_file>& files,
                   const common_settings& s, bool json_on_stdout) {
    const bool failed = policy_failed(ds, s);
    if (s.format == output_format::json && (json_on_stdout || failed)) {
        std::cout << render_json(ds, files) << '\n';
        return;
    }
    if (!ds.empty()) std::cerr << render_text(ds, files, text_style{stderr_in_color()});
}

// A compiled policy ready to write or run.
struct compiled_policy {
    std::vector<source_file> files;
    rt::program_image image;
    std::string revision;
};

// Compiles `paths`; reports diagnostics; exit_fail when the policy fails.
inline std::variant<compiled_policy, int> compile_policies(const std::vector<std::string>& paths,
                                                           const common_settings& s, std::string revision,
                                                           bool json_on_stdout) {
    auto files = read_policies(paths);
    if (auto* code = std::get_if<int>(&files)) return *code;
    auto& sources = std::get<0>(files);
    compile_result r = compile(sources, s.front, std::move(revision));
    report(r.diagnostics, sources, s, json_on_stdout);
    if (policy_failed(r.diagnostics, s) || !r.image) return exit_fail;
    return compiled_policy{std::move(sources), std::move(*r.image), std::move(r.revision)};
}

// A program to evaluate requests against, from sources or a bundle.
struct runnable_policy {
    std::shared_ptr<const rt::program> prog;
    std::string revision;
    // Sources only: the checked policy, for `eval --explain`.
    std::optional<checked_policy> checked;
};

// A bundle is named `.dpb`, or starts with the bundle magic whatever its name
// (so `eval policy.bundle` is not compiled as source).
inline bool is_bundle_path(const std::string& p) {
    if (ends_with(p, ".dpb")) return true;
    const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    std::array<std::uint8_t, rt::bundle_format::magic.size()> head{};
    const ::ssize_t n = ::read(fd, head.data(), head.size());
    ::close(fd);
    return n == static_cast<::ssize_t>(head.size()) && head == rt::bundle_format::magic;
}

// Loads `BUNDLE` or compiles `POLICY...`. A rejected bundle is exit 2 with the loader's reason.
inline std::variant<runnable_policy, int> load_runnable(const std::vector<std::string>& paths,
                                                        const common_settings& s, bool want_checked) {
    std::size_t bundles = 0;
    for (const auto& p : paths) bundles += is_bundle_path(p) ? 1 : 0;
    if (bundles > 1 || (bundles == 1 && paths.size() != 1))
        return fail("give either one bundle (.dpb) or policy files, not both");
    if (bundles == 1) {
        auto bytes = read_file(paths.front(), max_bundle_bytes);
        if (auto* e = std::get_if<1>(&bytes)) return fail(e->message);
        const auto& b = std::get<0>(bytes);
        const auto* data = reinterpret_cast<const std::uint8_t*>(b.data());
        rt::load_result lr = rt::load_bundle(std::span<const std::uint8_t>(data, b.size()));
        if (!lr.prog) return fail(paths.front() + ": bundle rejected: " + lr.error);
        runnable_policy out;
        out.revision = rt::image_of(*lr.prog).man.revision;
        out.prog = std::move(lr.prog);
        return out;
    }
    auto c = compile_policies(paths, s, "", false);
    if (auto* code = std::get_if<int>(&c)) return *code;
    auto& cp = std::get<compiled_policy>(c);
    runnable_policy out;
    out.revision = cp.image.man.revision.empty() ? cp.revision : cp.image.man.revision;
    if (want_checked) out.checked = analyze(cp.files, s.front).checked;
    rt::load_result lr = rt::load_image(std::move(cp.image));
    // The compiler's output failing the verifier is a compiler bug, not a policy error.
    if (!lr.prog) return fail("internal error: the compiled program was rejected: " + lr.error);
    out.prog = std::move(lr.prog);
    return out;
}

} // namespace dockpol::dsl::cli
