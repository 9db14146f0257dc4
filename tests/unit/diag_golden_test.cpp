// Golden diagnostics: every tests/golden/diag/*.dpol carries its expected
// diagnostics as comments, Wren style:
//   # expect error: dp-unknown-action 3:18 help: did you mean "container_list"?
// The file is analysed alone; the diagnostics must be exactly the expected
// ones, in order (severity, code, line, column, help). When NAME.txt exists
// beside NAME.dpol it holds the full rendered text output.
#include <catch2/catch.hpp>

#include <filesystem>
#include <sstream>

#include <nlohmann/json.hpp>

#include "dsl_test_util.hpp"

// Each test file is its own namespace: the test executables are unity builds.
namespace diag_golden_test {

using namespace dockpol::dsl;
namespace fs = std::filesystem;

namespace {

struct expectation {
    std::string severity, code;
    std::uint32_t line = 0, column = 0;
    std::string help;
};

std::vector<expectation> read_expectations(const std::string& text) {
    std::vector<expectation> out;
    std::istringstream in(text);
    std::string line;
    const std::string tag = "# expect ";
    while (std::getline(in, line)) {
        if (line.rfind(tag, 0) != 0) continue;
        expectation e;
        std::string rest = line.substr(tag.size());
        const auto colon = rest.find(": ");
        REQUIRE(colon != std::string::npos);
        e.severity = rest.substr(0, colon);
        rest = rest.substr(colon + 2);
        const auto help_at = rest.find(" help: ");
        if (help_at != std::string::npos) {
            e.help = rest.substr(help_at + 7);
            rest = rest.substr(0, help_at);
        }
        std::istringstream fields(rest);
        std::string pos;
        fields >> e.code >> pos;
        const auto c = pos.find(':');
        REQUIRE(c != std::string::npos);
        e.line = static_cast<std::uint32_t>(std::stoul(pos.substr(0, c)));
        e.column = static_cast<std::uint32_t>(std::stoul(pos.substr(c + 1)));
        out.push_back(e);
    }
    return out;
}

std::vector<fs::path> corpus() {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(fs::path(DOCKPOL_SOURCE_ROOT) / "tests/golden/diag"))
        if (e.path().extension() == ".dpol") out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

} // namespace

TEST_CASE("golden: the corpus is present") {
    CHECK(corpus().size() >= 8);
}

TEST_CASE("golden: diagnostics match the expectations in each file") {
    for (const auto& path : corpus()) {
        const std::string name = path.filename().string();
        const source_file src{name, dsl_test::read_text(path.string())};
        const auto want = read_expectations(src.text);
        const auto got = analyze({src}).diagnostics;
        INFO(name << "\n" << render_text(got, {src}));
        REQUIRE(got.size() == want.size());
        for (std::size_t i = 0; i < got.size(); ++i) {
            INFO("diagnostic " << i);
            CHECK(std::string(severity_name(got[i].sev)) == want[i].severity);
            CHECK(code_name(got[i].code) == want[i].code);
            CHECK(got[i].file == name);
            CHECK(got[i].sp.line == want[i].line);
            CHECK(got[i].sp.column == want[i].column);
            CHECK(got[i].help == want[i].help);
        }
    }
}

TEST_CASE("golden: full text rendering") {
    for (const auto& path : corpus()) {
        fs::path txt = path;
        txt.replace_extension(".txt");
        if (!fs::exists(txt)) continue;
        const std::string name = path.filename().string();
        const source_file src{name, dsl_test::read_text(path.string())};
        INFO(name);
        CHECK(render_text(analyze({src}).diagnostics, {src}) == dsl_test::read_text(txt.string()));
    }
}

TEST_CASE("golden: JSON rendering follows docs/language.md") {
    const source_file src{"p.dpol", "default deny\nrule r: allow if action == \"contianer_list\" and user\n"};
    const auto r = analyze({src});
    CHECK(render_json(r.diagnostics) ==
          R"({"diagnostics":[{"code":"dp-unknown-action","severity":"error","file":"p.dpol","line":2,"column":28,)"
          R"("message":"unknown action \"contianer_list\"","help":"did you mean \"container_list\"?"},)"
          R"({"code":"dp-type","severity":"error","file":"p.dpol","line":2,"column":49,)"
          R"("message":"`user` is a string, not a condition","help":"compare it, e.g. `user == \"...\"`"}]})");
    CHECK(render_json({}) == R"({"diagnostics":[]})");
    // Help is left out when empty.
    const auto w = analyze({source_file{"q.dpol", "default deny\nrule r: allow if action == \"zzzzzzzzzz\"\n"}});
    CHECK(render_json(w.diagnostics).find("\"help\"") == std::string::npos);
}

TEST_CASE("render: text with caret under the span, tabs kept, help line") {
    const source_file src{"t.dpol", "default deny\nrule r:\n\tallow if usr == \"x\"\n"};
    const auto r = analyze({src});
    CHECK(render_text(r.diagnostics, {src}) ==
          "t.dpol:3:11: error[dp-undefined-name]: undefined name `usr`\n"
          "\tallow if usr == \"x\"\n"
          "\t         ^~~\n"
          "  help: did you mean `user`?\n"
          "1 error\n");
    // Colour only when asked: the same text with ANSI codes around location, severity, caret and help.
    const std::string coloured = render_text(r.diagnostics, {src}, text_style{true});
    CHECK(coloured.find("\x1b[1;31merror[dp-undefined-name]\x1b[0m") != std::string::npos);
    CHECK(coloured.find("\x1b[1;32mhelp\x1b[0m: did you mean `user`?") != std::string::npos);
}

TEST_CASE("render: a summary line, long lines clipped around the caret, end positions in JSON") {
    const source_file two{"w.dpol", "rule a: allow if host == \"dev-*\"\nrule b: allow if action == \"zz_zz\"\n"};
    const auto r2 = analyze({two});
    const std::string text = render_text(r2.diagnostics, {two});
    CHECK(text.ends_with("\n1 error, 1 warning, 1 note\n"));
    CHECK(diagnostics_summary({}) == "");

    std::string line = "rule x: allow if ";
    for (int i = 0; i < 40; ++i) line += "user == \"u" + std::to_string(i) + "\" and ";
    line += "action == \"contianer_list\"";
    const source_file wide{"l.dpol", "default deny\n" + line + "\n"};
    const auto rl = analyze({wide});
    const std::string shown = render_text(rl.diagnostics, {wide});
    // The source line is cut to a window (at most 120 code points plus the two marks) with the caret under the name.
    std::istringstream in(shown);
    std::string head, src, caret;
    std::getline(in, head);
    std::getline(in, src);
    std::getline(in, caret);
    CHECK(src.rfind("…", 0) == 0);
    CHECK(src.find("action == \"contianer_list\"") != std::string::npos);
    CHECK(src.size() < 140);
    const auto at = src.find("\"contianer_list\"");
    // "…" is 3 bytes but one column: the caret sits under the quote.
    CHECK(caret.find('^') == at - 2);
    const auto j = nlohmann::json::parse(render_json(rl.diagnostics, {wide}));
    CHECK(j["diagnostics"][0]["end_line"] == 2);
    CHECK(j["diagnostics"][0]["end_column"] == j["diagnostics"][0]["column"].get<int>() + 16);
}

} // namespace diag_golden_test
