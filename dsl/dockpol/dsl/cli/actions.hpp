// `dockpolc actions [--format text|json]`: the action vocabulary with the
// routes that lead to each action, read from the runtime's one route table
// (routes.def, in dockerd's registration order). Actions no route reaches
// are listed after, with an empty method and route.
#pragma once
#include <nlohmann/json.hpp>

#include <algorithm>
#include <iostream>
#include <span>
#include <string>
#include <vector>

#include "dockpol/dsl/cli/args.hpp"
#include "dockpol/dsl/cli/common.hpp"
#include "dockpol/rt/actions.hpp"
#include "dockpol/rt/routes.hpp"

namespace dockpol::dsl::cli {

struct action_row {
    std::string_view action, method, route, resource;
};

inline std::vector<action_row> action_rows() {
    const auto actions = rt::all_actions();
    std::vector<action_row> rows;
    std::vector<bool> routed(actions.size(), false);
    for (const auto& r : rt::all_routes()) {
        const auto& a = actions[r.action_id];
        rows.push_back({a.name, r.method, r.pattern, a.resource});
        routed[r.action_id] = true;
    }
    for (std::size_t i = 0; i < actions.size(); ++i)
        if (!routed[i]) rows.push_back({actions[i].name, "", "", actions[i].resource});
    return rows;
}

inline int run_actions(std::span<const std::string> args) {
    static constexpr option_spec specs[] = {{"--format", arg_kind::single}};
    auto pa = parse_args(args, specs);
    if (auto* e = std::get_if<std::string>(&pa)) return fail("actions: " + *e);
    const auto& a = std::get<parsed_args>(pa);
    if (!a.positional.empty()) return fail("actions: unexpected argument " + a.positional.front());
    auto f = format_of(a);
    if (auto* e = std::get_if<std::string>(&f)) return fail("actions: " + *e);
    const auto rows = action_rows();

    if (std::get<output_format>(f) == output_format::json) {
        nlohmann::ordered_json j = nlohmann::ordered_json::array();
        for (const auto& r : rows)
            j.push_back({{"action", r.action}, {"method", r.method}, {"route", r.route}, {"resource", r.resource}});
        std::cout << j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << '\n';
        return exit_ok;
    }
    std::size_t w_action = 6, w_method = 6, w_route = 5;
    for (const auto& r : rows) {
        w_action = std::max(w_action, r.action.size());
        w_method = std::max(w_method, r.method.size());
        w_route = std::max(w_route, r.route.size());
    }
    auto pad = [](std::string_view s, std::size_t w) { return std::string(s) + std::string(w - s.size() + 2, ' '); };
    std::cout << pad("ACTION", w_action) << pad("METHOD", w_method) << pad("ROUTE", w_route) << "RESOURCE\n";
    for (const auto& r : rows) {
        std::string line = pad(r.action, w_action) + pad(r.method.empty() ? "-" : r.method, w_method) +
                           pad(r.route.empty() ? "-" : r.route, w_route) + std::string(r.resource.empty() ? "-" : r.resource);
        std::cout << line << '\n';
    }
    std::cout << "Routes are matched with or without a /v1.N prefix, first match wins; "
                 "any other request is action unknown.\n";
    return exit_ok;
}

} // namespace dockpol::dsl::cli
