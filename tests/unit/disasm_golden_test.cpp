// Golden disassembly: every tests/golden/disasm/NAME.dpol compiles (revision
// "golden") to exactly NAME.disasm; the listing survives a bundle round trip.
// Set DOCKPOL_UPDATE_GOLDEN=1 to rewrite the expected files after an
// intended change (then review the diff).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "dockpol/dsl.hpp"

// Each test file is its own namespace: the test executables are unity builds.
namespace disasm_golden_test {

using namespace dockpol;
namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

} // namespace

TEST_CASE("disassembly matches the golden listings") {
    const fs::path dir = fs::path(DOCKPOL_SOURCE_ROOT) / "tests/golden/disasm";
    const bool update = std::getenv("DOCKPOL_UPDATE_GOLDEN") != nullptr;
    std::size_t n = 0;
    for (const auto& ent : fs::directory_iterator(dir)) {
        if (ent.path().extension() != ".dpol") continue;
        ++n;
        const auto name = ent.path().filename().string();
        INFO(name);
        auto res = dsl::compile({dsl::source_file{name, slurp(ent.path())}}, {}, "golden");
        REQUIRE(res.image);
        // The compiler version is not part of the golden text.
        res.image->man.compiler_version = "VERSION";
        const auto text = rt::disassemble(*res.image);
        auto want_path = ent.path();
        want_path.replace_extension(".disasm");
        if (update) std::ofstream(want_path, std::ios::binary) << text;
        CHECK(text == slurp(want_path));
        auto loaded = rt::load_bundle(rt::write_bundle(*res.image));
        REQUIRE(loaded.prog);
        CHECK(rt::disassemble(rt::image_of(*loaded.prog)) == text);
    }
    CHECK(n >= 2);
}

TEST_CASE("disassembly of odd images stays readable") {
    rt::program_image im;
    im.strings = {"a\"b\\c\n"};
    im.man.revision = "r";
    const auto text = rt::disassemble(im);
    CHECK_THAT(text, Catch::Contains("  0 \"a\\\"b\\\\c\\x0a\"\n"));
    // Out-of-range operands print as placeholders instead of crashing.
    rt::insn in;
    in.op = rt::opcode::str_eq;
    in.arg = 9;
    in.slot = 3;
    im.code = {in};
    im.rules = {{5, rt::effect::deny, 0, 1}};
    CHECK_THAT(rt::disassemble(im), Catch::Contains("str_eq        slot 3 (?) <string 9?>"));
}

} // namespace disasm_golden_test
