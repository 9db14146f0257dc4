// dockpolc: compiles, checks, tests, evaluates, inspects and formats dockpol
// policies (docs/cli.md). Each subcommand lives in cli/<name>.hpp with its
// command_info row; this file only lists the rows and dispatches.
#include <algorithm>
#include <optional>
#include <array>
#include <iostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cli/actions.hpp"
#include "cli/audit_verify.hpp"
#include "cli/build.hpp"
#include "cli/check.hpp"
#include "cli/common.hpp"
#include "cli/diagnostics.hpp"
#include "cli/eval.hpp"
#include "cli/facts.hpp"
#include "cli/fmt.hpp"
#include "cli/inspect.hpp"
#include "cli/keygen.hpp"
#include "cli/learn.hpp"
#include "cli/limits.hpp"
#include "cli/replay_diff.hpp"
#include "cli/verify.hpp"
#include "cli/test.hpp"

namespace {

using namespace dockpol::dsl::cli;

// The commands in the order `dockpolc --help` lists them; each row lives beside its implementation.
constexpr std::array<const command_info*, 16> commands = {
    &build_command,   &check_command, &test_command,   &eval_command,        &inspect_command,
    &verify_command,  &fmt_command,   &keygen_command, &learn_command,       &diff_command,
    &audit_verify_command, &actions_command, &facts_command, &limits_command, &diagnostics_command, nullptr};

std::span<const command_info* const> command_list() { return {commands.data(), commands.size() - 1}; }

constexpr std::string_view help_footer =
    "build, check, test and eval also take [--data F.json]... [--werror] [--format text|json].\n"
    "Every command takes --color auto|always|never (diagnostics on stderr; auto: a terminal, no NO_COLOR).\n"
    "Exit status: 0 ok (eval: whatever the decision); 1 policy errors, failed cases,\n"
    "fmt --check differences; 2 usage, I/O, malformed request or cases, rejected bundle.\n";

} // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + std::min(argc, 1), argv + argc);
    // --color applies to every command: taken out here, before the command parses its own options.
    for (std::size_t i = 0; i < args.size();) {
        if (args[i] == "--") break;
        std::optional<std::string> value;
        std::size_t taken = 0;
        if (args[i] == "--color" && i + 1 < args.size()) {
            value = args[i + 1];
            taken = 2;
        } else if (args[i].rfind("--color=", 0) == 0) {
            value = args[i].substr(8);
            taken = 1;
        } else if (args[i] == "--color") {
            return fail("option --color needs a value (auto, always or never)");
        }
        if (!value) {
            ++i;
            continue;
        }
        if (*value == "auto") color_setting() = color_mode::automatic;
        else if (*value == "always") color_setting() = color_mode::always;
        else if (*value == "never") color_setting() = color_mode::never;
        else return fail("unknown --color \"" + *value + "\" (expected auto, always or never)");
        args.erase(args.begin() + static_cast<std::ptrdiff_t>(i), args.begin() + static_cast<std::ptrdiff_t>(i + taken));
    }
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
