// One row per dockpolc subcommand: name, arguments, what it does, its options
// (with their help lines) and an example. The dispatch, `dockpolc --help` and
// `dockpolc COMMAND --help` are all generated from these rows.
#pragma once
#include <algorithm>
#include <span>
#include <string>
#include <string_view>

#include "cli/args.hpp"

namespace dockpol::dsl::cli {

struct command_info {
    std::string_view name;
    std::string_view synopsis;             // the arguments after `dockpolc NAME`
    std::string_view summary;              // one line
    std::span<const option_spec> options;  // the command's own options
    bool common;                           // also takes common_options (--data, --werror, --format)
    std::string_view example;              // one or more command lines, '\n'-separated
    int (*run)(std::span<const std::string>);
};

namespace detail {
inline std::string option_label(const option_spec& o) {
    std::string s(o.name);
    if (!o.value.empty()) s += " " + std::string(o.value);
    return s;
}
} // namespace detail

// `dockpolc NAME --help`: usage, summary, every option with its help, the example.
inline std::string command_help(const command_info& c) {
    std::string out = "usage: dockpolc " + std::string(c.name) + " " + std::string(c.synopsis) + "\n\n" +
                      std::string(c.summary) + "\n\noptions:\n";
    std::size_t width = 10;
    auto each = [&](auto&& fn) {
        if (c.common)
            for (const auto& o : common_options) fn(o);
        for (const auto& o : c.options) fn(o);
    };
    each([&](const option_spec& o) { width = std::max(width, detail::option_label(o).size()); });
    each([&](const option_spec& o) {
        const auto label = detail::option_label(o);
        out += "  " + label + std::string(width - label.size() + 2, ' ') + std::string(o.help) + "\n";
    });
    out += "  -h, --help" + std::string(width - 10 + 2, ' ') + "this help\n";
    out += "\nexample:\n";
    std::string_view ex = c.example;
    while (!ex.empty()) {
        const auto nl = ex.find('\n');
        out += "  " + std::string(ex.substr(0, nl)) + "\n";
        ex = nl == std::string_view::npos ? std::string_view{} : ex.substr(nl + 1);
    }
    return out;
}

// `dockpolc --help`: one line per command.
inline std::string overview_help(std::span<const command_info* const> commands, std::string_view footer) {
    std::string out = "usage: dockpolc COMMAND [ARGS]   (dockpolc COMMAND --help for its options and an example)\n\n";
    std::size_t width = 0;
    for (const auto* c : commands) width = std::max(width, c->name.size());
    for (const auto* c : commands)
        out += "  " + std::string(c->name) + std::string(width - c->name.size() + 2, ' ') + std::string(c->summary) + "\n";
    out += "\n";
    out += footer;
    return out;
}

} // namespace dockpol::dsl::cli
