// `safe host paths` / `safe volume drivers`: parse, check (every never-safe
// directory refused, good prefixes kept cleaned, sorted and unique, one
// statement of each kind per policy), fmt round-trip, lowering and the
// bundle round-trip.
#include <catch2/catch.hpp>

#include "dockpol/dsl/compile.hpp"
#include "dockpol/dsl/format.hpp"
#include "dockpol/rt/bundle.hpp"
#include "dsl_test_util.hpp"

// Each test file is its own namespace: the test executables are unity builds.
namespace safe_lists_test {

using namespace dockpol;
using namespace dockpol::dsl;
using dsl_test::analyze_text;
using dsl_test::with_code;

namespace {

std::string paths_policy(const std::string& path) {
    return "safe host paths {" + detail::quote_string(path) + "}\nrule r: deny if host_access\n";
}

} // namespace

TEST_CASE("safe: parsed as statements with their value as written") {
    const auto r = analyze({dsl_test::fixture("safe.dpol")});
    INFO(render_text(r.diagnostics, r.ast.files));
    REQUIRE(dsl_test::error_count(r.diagnostics) == 0);
    REQUIRE(r.ast.safes.size() == 2);
    CHECK(r.ast.safes[0].what == safe_list::host_paths);
    CHECK(r.ast.safes[0].value.kind == expr_kind::name_ref);
    CHECK(r.ast.safes[0].sp.line == 6);
    CHECK(r.ast.safes[1].what == safe_list::volume_drivers);
    CHECK(r.ast.safes[1].value.kind == expr_kind::set_lit);
    REQUIRE(r.checked);
    CHECK(r.checked->safe_host_paths == std::vector<std::string>{"/srv/builds", "/srv/data"});
    CHECK(r.checked->safe_volume_drivers == std::vector<std::string>{"local", "nfs"});
}

TEST_CASE("safe: syntax errors") {
    struct row { std::string text, message; };
    const row rows[] = {
        {"safe host {\"/srv\"}\n", "expected 'host paths' or 'volume drivers' after 'safe'"},
        {"safe paths {\"/srv\"}\n", "expected 'host paths' or 'volume drivers' after 'safe'"},
        {"safe volume drivers \"nfs\"\n", "expected a set {\"a\", \"b\"} or the name of a `let` holding one"},
    };
    for (const auto& r : rows) {
        INFO(r.text);
        const auto res = analyze_text(r.text);
        const auto d = with_code(res.diagnostics, "dp-parse");
        REQUIRE(d.size() == 1);
        CHECK(d[0].message == r.message);
    }
    // `safe` is not reserved: it still names a `let` and a rule.
    const auto ok = analyze_text("let safe = true\nrule safe_r: deny if safe\n");
    CHECK(dsl_test::error_count(ok.diagnostics) == 0);
}

TEST_CASE("safe: every never-safe directory, inside or above it, is dp-unsafe-path") {
    // One row per never_safe_dirs entry (and the lib* spellings), plus `/` and the docker root.
    const char* const refused[] = {
        "/etc", "/etc/docker", "/root", "/root/.ssh", "/boot", "/boot/efi", "/lib", "/lib64", "/libx32",
        "/lib/modules", "/usr", "/usr/local/bin", "/bin", "/sbin", "/opt", "/opt/app", "/var/lib",
        "/var/lib/docker", "/var/lib/docker/volumes", "/var/run", "/var/run/docker.sock", "/run", "/run/containerd",
        "/proc", "/proc/1/root", "/sys", "/sys/fs/cgroup", "/dev", "/dev/sda", "/var", "/",
    };
    for (const char* p : refused) {
        INFO(p);
        const auto r = analyze_text(paths_policy(p));
        const auto d = with_code(r.diagnostics, "dp-unsafe-path");
        REQUIRE(d.size() == 1);
        CHECK(d[0].sp.line == 1);
        CHECK(d[0].sp.column == 18);
        CHECK_FALSE(d[0].help.empty());
    }
    const auto etc = with_code(analyze_text(paths_policy("/etc/docker")).diagnostics, "dp-unsafe-path");
    CHECK(etc[0].message == "safe host path \"/etc/docker\" is inside /etc, which can never be declared safe");
    CHECK(etc[0].help.find("the kernel follows symlinks when it mounts") != std::string::npos);
    const auto var = with_code(analyze_text(paths_policy("/var")).diagnostics, "dp-unsafe-path");
    CHECK(var[0].message == "safe host path \"/var\" contains /var/lib, which can never be declared safe");
}

TEST_CASE("safe: relative and unclean paths are refused, with the clean spelling") {
    struct row { std::string path, message, help; };
    const row rows[] = {
        {"srv/builds", "safe host path \"srv/builds\" is not absolute", ""},
        {"", "safe host path \"\" is not absolute", ""},
        {"/srv/builds/", "safe host path \"/srv/builds/\" is not clean", "write \"/srv/builds\""},
        {"/srv//builds", "safe host path \"/srv//builds\" is not clean", "write \"/srv/builds\""},
        {"/srv/../etc", "safe host path \"/srv/../etc\" is not clean", "write \"/etc\""},
        {"/srv/./x", "safe host path \"/srv/./x\" is not clean", "write \"/srv/x\""},
    };
    for (const auto& r : rows) {
        INFO(r.path);
        const auto d = with_code(analyze_text(paths_policy(r.path)).diagnostics, "dp-unsafe-path");
        REQUIRE(d.size() == 1);
        CHECK(d[0].message == r.message);
        if (!r.help.empty()) CHECK(d[0].help == r.help);
    }
}

TEST_CASE("safe: good prefixes are accepted") {
    const char* const good[] = {"/srv/builds", "/home/ci/cache", "/data", "/mnt/scratch", "/variable", "/var/cache/ci",
                                "/etcetera/x", "/tmp/build", "/srv/lib"};
    for (const char* p : good) {
        INFO(p);
        const auto r = analyze_text(paths_policy(p));
        INFO(render_text(r.diagnostics, r.ast.files));
        CHECK(dsl_test::error_count(r.diagnostics) == 0);
        REQUIRE(r.checked);
        CHECK(r.checked->safe_host_paths == std::vector<std::string>{p});
    }
}

TEST_CASE("safe: lib* is any top-level segment starting with lib") {
    CHECK(check_safe_host_path("/library"));
    CHECK_FALSE(check_safe_host_path("/srv/lib"));
}

TEST_CASE("safe: one statement of each kind per policy, across files") {
    const auto r = analyze({source_file{"a.dpol", "safe host paths {\"/srv/a\"}\nsafe volume drivers {\"nfs\"}\n"},
                            source_file{"b.dpol", "safe host paths {\"/srv/b\"}\n"}});
    const auto d = with_code(r.diagnostics, "dp-duplicate-safe");
    REQUIRE(d.size() == 1);
    CHECK(d[0].file == "b.dpol");
    CHECK(d[0].sp.line == 1);
    CHECK(d[0].help == "the first is at a.dpol:1:1; merge the sets");
}

TEST_CASE("safe: values that are not sets, and bad drivers") {
    struct row { std::string text, code; std::uint32_t line, column; };
    const row rows[] = {
        {"let p = \"/srv\"\nsafe host paths p\n", "dp-type", 2, 17},
        {"safe host paths nowhere\n", "dp-undefined-name", 1, 17},
        {"safe host paths container.host_paths\n", "dp-type", 1, 17},
        {"safe volume drivers {\"nfs\", \"\"}\n", "dp-bad-driver", 1, 29},
    };
    for (const auto& r : rows) {
        INFO(r.text);
        const auto res = analyze_text(r.text);
        INFO(render_text(res.diagnostics, res.ast.files));
        const auto d = with_code(res.diagnostics, r.code);
        REQUIRE(d.size() == 1);
        CHECK(d[0].sp.line == r.line);
        CHECK(d[0].sp.column == r.column);
    }
}

TEST_CASE("safe: fmt is canonical and keeps the lists") {
    const auto in = dsl_test::fixture("safe.dpol");
    const auto r = analyze({in});
    const std::string out = format_file(r.ast, 0);
    CHECK(out == dsl_test::read_text(dsl_test::fixture_path("safe.formatted.dpol")));
    const auto again = analyze({source_file{in.name, out}});
    CHECK(format_file(again.ast, 0) == out);
    REQUIRE(again.checked);
    CHECK(again.checked->safe_host_paths == r.checked->safe_host_paths);
    CHECK(again.checked->safe_volume_drivers == r.checked->safe_volume_drivers);
    // A set too wide for one line goes one element per line.
    std::string wide = "safe host paths {";
    for (int i = 0; i < 8; ++i) wide += std::string(i ? ", " : "") + "\"/srv/a-rather-long-name-" + std::to_string(i) + "\"";
    wide += "}\n";
    const std::string w = format_file(analyze_text(wide).ast, 0);
    CHECK(w.rfind("safe host paths {\n    \"/srv/a-rather-long-name-0\",\n", 0) == 0);
    CHECK(format_file(analyze_text(w).ast, 0) == w);
}

TEST_CASE("safe: lowered into the image, through the bundle and back") {
    const auto c = compile({dsl_test::fixture("safe.dpol")});
    INFO(render_text(c.diagnostics, {dsl_test::fixture("safe.dpol")}));
    REQUIRE(c.image);
    CHECK(c.image->safe_host_paths == std::vector<std::string>{"/srv/builds", "/srv/data"});
    CHECK(c.image->safe_volume_drivers == std::vector<std::string>{"local", "nfs"});
    const auto b = rt::write_bundle(*c.image);
    auto loaded = rt::load_bundle(b);
    REQUIRE(loaded.prog);
    CHECK(rt::image_of(*loaded.prog).safe_host_paths == c.image->safe_host_paths);
    CHECK(rt::image_of(*loaded.prog).safe_volume_drivers == c.image->safe_volume_drivers);
    // A policy without `safe` statements has empty lists.
    const auto none = compile({source_file{"n.dpol", "rule r: deny if host_access\n"}});
    REQUIRE(none.image);
    CHECK(none.image->safe_host_paths.empty());
    CHECK(none.image->safe_volume_drivers.empty());
}

} // namespace safe_lists_test
