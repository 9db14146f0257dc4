// dockpolc: compiles, checks, tests, evaluates, inspects and formats dockpol
// policies (DESIGN §7). Each subcommand lives in cli/<name>.hpp;
// this file only dispatches.
#include <algorithm>
#include <array>
#include <iostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cli/actions.hpp"
#include "cli/build.hpp"
#include "cli/check.hpp"
#include "cli/common.hpp"
#include "cli/eval.hpp"
#include "cli/facts.hpp"
#include "cli/fmt.hpp"
#include "cli/inspect.hpp"
#include "cli/keygen.hpp"
#include "cli/test.hpp"

namespace {

using namespace dockpol::dsl::cli;

struct subcommand {
    std::string_view name;
    int (*run)(std::span<const std::string>);
};

constexpr std::array subcommands = {
    subcommand{"build", run_build},     subcommand{"check", run_check}, subcommand{"test", run_test},
    subcommand{"eval", run_eval},       subcommand{"inspect", run_inspect}, subcommand{"fmt", run_fmt},
    subcommand{"actions", run_actions}, subcommand{"facts", run_facts}, subcommand{"keygen", run_keygen},
};

constexpr std::string_view usage_text =
    "usage: dockpolc COMMAND [ARGS]\n"
    "\n"
    "  build   POLICY... -o BUNDLE [--sign KEY.pem] [--revision STR]\n"
    "  check   POLICY...\n"
    "  test    POLICY... --cases CASES.json...\n"
    "  eval    BUNDLE|POLICY... --input REQUEST.json [--explain]\n"
    "  inspect BUNDLE [--format text|json]\n"
    "  fmt     POLICY... [--write | --check]\n"
    "  actions [--format text|json|markdown]\n"
    "  facts   [--format text|json|markdown]\n"
    "  keygen  -o KEY.pem [--pub PUB.pem]\n"
    "\n"
    "build, check, test and eval also take [--data F.json]... [--werror] [--format text|json].\n"
    "Exit status: 0 ok (eval: whatever the decision); 1 policy errors, failed cases,\n"
    "fmt --check differences; 2 usage, I/O, malformed request or cases, rejected bundle.\n";

} // namespace

int main(int argc, char** argv) {
    const std::vector<std::string> args(argv + std::min(argc, 1), argv + argc);
    if (args.empty()) {
        std::cerr << usage_text;
        return exit_usage;
    }
    const std::string& cmd = args.front();
    if (cmd == "--help" || cmd == "-h" || cmd == "help") {
        std::cout << usage_text;
        return exit_ok;
    }
    if (cmd == "--version") {
        std::cout << "dockpolc " << DOCKPOL_VERSION << '\n';
        return exit_ok;
    }
    for (const auto& sc : subcommands) {
        if (sc.name != cmd) continue;
        const std::span<const std::string> rest(args.data() + 1, args.size() - 1);
        for (const auto& a : rest) {
            if (a == "--") break;
            if (a == "--help" || a == "-h") {
                std::cout << usage_text;
                return exit_ok;
            }
        }
        try {
            return sc.run(rest);
        } catch (const std::exception& e) {
            // Library code reports errors as values; anything thrown is a bug or out of memory.
            return fail(std::string("internal error: ") + e.what());
        }
    }
    return fail("unknown command \"" + cmd + "\" (see dockpolc --help)");
}
