// dockpolc: compiles, checks, tests, evaluates, inspects and formats dockpol
// policies (docs/cli.md). Each subcommand lives in cli/<name>.hpp with its
// command_info row; this file only lists the rows and dispatches.
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
#include "cli/verify.hpp"
#include "cli/test.hpp"

namespace {

using namespace dockpol::dsl::cli;

// The commands in the order `dockpolc --help` lists them; each row lives beside its implementation.
constexpr std::array<const command_info*, 11> commands = {
    &build_command, &check_command, &test_command,    &eval_command,   &inspect_command, &verify_command,
    &fmt_command,   &keygen_command, &actions_command, &facts_command, nullptr};

std::span<const command_info* const> command_list() { return {commands.data(), commands.size() - 1}; }

constexpr std::string_view help_footer =
    "build, check, test and eval also take [--data F.json]... [--werror] [--format text|json].\n"
    "Exit status: 0 ok (eval: whatever the decision); 1 policy errors, failed cases,\n"
    "fmt --check differences; 2 usage, I/O, malformed request or cases, rejected bundle.\n";

} // namespace

int main(int argc, char** argv) {
    const std::vector<std::string> args(argv + std::min(argc, 1), argv + argc);
    if (args.empty()) {
        std::cerr << overview_help(command_list(), help_footer);
        return exit_usage;
    }
    const std::string& cmd = args.front();
    if (cmd == "--help" || cmd == "-h" || cmd == "help") {
        std::cout << overview_help(command_list(), help_footer);
        return exit_ok;
    }
    if (cmd == "--version") {
        std::cout << "dockpolc " << DOCKPOL_VERSION << '\n';
        return exit_ok;
    }
    for (const auto* sc : command_list()) {
        if (sc->name != cmd) continue;
        const std::span<const std::string> rest(args.data() + 1, args.size() - 1);
        for (const auto& a : rest) {
            if (a == "--") break;
            if (a == "--help" || a == "-h") {
                std::cout << command_help(*sc);
                return exit_ok;
            }
        }
        try {
            return sc->run(rest);
        } catch (const std::exception& e) {
            // Library code reports errors as values; anything thrown is a bug or out of memory.
            return fail(std::string("internal error: ") + e.what());
        }
    }
    return fail("unknown command \"" + cmd + "\" (see dockpolc --help)");
}
