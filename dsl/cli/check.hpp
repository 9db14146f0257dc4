// `dockpolc check POLICY...`: every diagnostic the build would give, without
// writing anything (the full compile runs, so lowering limits count too).
#pragma once
#include <span>
#include <string>

#include "cli/args.hpp"
#include "cli/command.hpp"
#include "cli/common.hpp"
#include "cli/policy_input.hpp"

namespace dockpol::dsl::cli {

inline constexpr std::span<const option_spec> check_options{};

inline int run_check(std::span<const std::string> args) {
    const auto specs = with_common(check_options);
    auto pa = parse_args(args, specs);
    if (auto* e = std::get_if<std::string>(&pa)) return fail("check: " + *e);
    const auto& a = std::get<parsed_args>(pa);
    if (a.positional.empty()) return fail("check: give policy files");
    auto cs = common_settings_of(a);
    if (auto* code = std::get_if<int>(&cs)) return *code;
    auto c = compile_policies(a.positional, std::get<common_settings>(cs), "", true);
    if (auto* code = std::get_if<int>(&c)) return *code;
    return exit_ok;
}

inline constexpr command_info check_command{
    "check", "POLICY...",
    "parse, type-check and lint policy files; print every diagnostic",
    check_options, true,
    "dockpolc check --werror policy/*.dpol",
    run_check};

} // namespace dockpol::dsl::cli
