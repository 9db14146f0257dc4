// dockpolc's option parser: flags, single, repeated and list options,
// `--opt=value`, `--`, and every usage error.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "cli/args.hpp"

// Each test file is its own namespace: the test executables are unity builds.
namespace cli_args_test {

using namespace dockpol::dsl::cli;

namespace {
constexpr option_spec own[] = {{"-o", arg_kind::single, "", ""}, {"--cases", arg_kind::list, "", ""}};
const std::vector<option_spec> specs = with_common(own);

std::variant<parsed_args, std::string> parse(std::vector<std::string> v) { return parse_args(v, specs); }
} // namespace

TEST_CASE("positional arguments and every option kind") {
    auto r = parse({"a.dpol", "--data", "x.json", "b.dpol", "--werror", "-o", "out.dpb", "--data=y.json",
                    "--cases", "c1.json", "c2.json", "--format", "json"});
    REQUIRE(r.index() == 0);
    const auto& a = std::get<parsed_args>(r);
    CHECK(a.positional == std::vector<std::string>{"a.dpol", "b.dpol"});
    CHECK(a.all("--data") == std::vector<std::string>{"x.json", "y.json"});
    CHECK(a.has("--werror"));
    CHECK(a.one("-o") == "out.dpb");
    CHECK(a.all("--cases") == std::vector<std::string>{"c1.json", "c2.json"});
    CHECK(std::get<output_format>(format_of(a)) == output_format::json);
    CHECK_FALSE(a.has("--explain"));
}

TEST_CASE("`--` ends options") {
    auto r = parse({"--", "--werror", "-o"});
    REQUIRE(r.index() == 0);
    CHECK(std::get<parsed_args>(r).positional == std::vector<std::string>{"--werror", "-o"});
    CHECK_FALSE(std::get<parsed_args>(r).has("--werror"));
}

TEST_CASE("usage errors") {
    CHECK(std::get<std::string>(parse({"--nope"})) == "unknown option --nope");
    CHECK(std::get<std::string>(parse({"-o"})) == "option -o needs a value");
    CHECK(std::get<std::string>(parse({"-o", "a", "-o", "b"})) == "option -o given twice");
    CHECK(std::get<std::string>(parse({"--werror=1"})) == "option --werror takes no value");
    CHECK(std::get<std::string>(parse({"--cases", "--werror"})) == "option --cases needs at least one value");
    auto bad_format = parse({"--format", "xml"});
    REQUIRE(bad_format.index() == 0);
    CHECK(std::get<std::string>(format_of(std::get<parsed_args>(bad_format))) ==
          "unknown --format \"xml\" (expected text or json)");
}

TEST_CASE("text is the default format; a lone dash is positional") {
    auto r = parse({"-"});
    REQUIRE(r.index() == 0);
    CHECK(std::get<output_format>(format_of(std::get<parsed_args>(r))) == output_format::text);
    CHECK(std::get<parsed_args>(r).positional == std::vector<std::string>{"-"});
}

} // namespace cli_args_test
