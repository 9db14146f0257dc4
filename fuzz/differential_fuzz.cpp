// differential_fuzz: for a policy that checks and a request, the VM
// (compile → lower → verify → load → bind → evaluate) and the AST-walking
// reference evaluator reach the same decision by the same rule.
//
// Input (text, so seeds are readable and the dictionary applies):
//   POLICY TEXT
//   %%
//   user=bruce            group=dev (repeatable)      host=prod-1
//   host.label=env=prod   method=POST                 target=/v1.41/containers/create?name=x
//   action=NAME           body={"HostConfig":{...}}   resource.name=web
//   resource.label=owner=bruce                        all=1
// `target` is routed by rt::route like dockpold does (a refused target still
// evaluates, as action `unknown` or the explicit `action`). Like dockpold,
// the body and the resource are only given to actions whose rules need them,
// unless `all=1` (what `dockpolc eval` does with a REQUEST.json).
#define DOCKPOL_FUZZ_TARGET "differential_fuzz"
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "dockpol/dsl/compile.hpp"
#include "dockpol/dsl/front.hpp"
#include "dockpol/dsl/reference_eval.hpp"
#include "dockpol/rt/bind.hpp"
#include "dockpol/rt/decide.hpp"
#include "dockpol/rt/routes.hpp"
#include "dockpol/rt/vm.hpp"
#include "fuzz_support.hpp"

namespace differential_fuzz {

namespace {

using namespace dockpol;

struct parsed_input {
    std::string policy;
    rt::request req;
    std::string target = "/v1.41/containers/json";
    std::string action;
    bool give_all = false;
};

std::pair<std::string, std::string> split_kv(std::string_view s) {
    const auto eq = s.find('=');
    if (eq == std::string_view::npos) return {std::string(s), ""};
    return {std::string(s.substr(0, eq)), std::string(s.substr(eq + 1))};
}

parsed_input parse_input(std::string_view text) {
    parsed_input p;
    p.req.method = "GET";
    const auto sep = text.find("\n%%\n");
    p.policy = std::string(text.substr(0, sep));
    if (sep == std::string_view::npos) return p;
    std::string_view rest = text.substr(sep + 4);
    while (!rest.empty()) {
        const auto nl = rest.find('\n');
        const std::string_view line = rest.substr(0, nl);
        rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
        auto [k, v] = split_kv(line);
        if (k == "user") p.req.user = v;
        else if (k == "group") p.req.groups.push_back(v);
        else if (k == "host") p.req.host = v;
        else if (k == "host.label") p.req.host_labels.push_back(split_kv(v));
        else if (k == "method") p.req.method = v;
        else if (k == "target") p.target = v;
        else if (k == "action") p.action = v;
        else if (k == "body") p.req.body = v;
        else if (k == "resource.name") p.req.resource_name = v;
        else if (k == "resource.label") p.req.resource_labels.push_back(split_kv(v));
        else if (k == "all") p.give_all = v == "1";
    }
    return p;
}

std::string show(const rt::decision& d) {
    return std::string(d.eff == rt::effect::allow ? "allow" : "deny") + " by '" + d.rule + "'" +
           (d.reason.empty() ? "" : " (" + d.reason + ")");
}

} // namespace

DOCKPOL_FUZZ_ENTRY(data, size) {
    auto in = parse_input(fuzz::as_text(data, size));
    auto front = dsl::analyze({dsl::source_file{"fuzz.dpol", in.policy}});
    if (!front.checked) return 0;
    auto compiled = dsl::compile_checked(*front.checked, "fuzz");
    for (const auto& d : compiled.diagnostics) DOCKPOL_FUZZ_CHECK(d.code != dsl::diag_code::internal, d.message);
    if (!compiled.image) return 0;  // dp-limit
    const auto loaded = rt::load_image(*compiled.image);
    DOCKPOL_FUZZ_CHECK(loaded.prog != nullptr, "compiled image refused: " + loaded.error);

    rt::request& req = in.req;
    const auto routed = rt::route(req.method, in.target);
    if (routed.ok) {
        req.path = routed.path;
        req.api_version = routed.api_version;
        req.query = routed.query;
        req.resource_id = routed.resource_id;
        req.action = std::string(routed.action);
    } else {
        req.path = in.target.substr(0, in.target.find('?'));
        req.action = "unknown";
    }
    if (!in.action.empty()) req.action = in.action;
    if (!in.give_all) {
        const auto id = rt::action_id_of(req.action);
        if (!rt::needs_body(*loaded.prog, id)) req.body.reset();
        if (!rt::needs_resource(*loaded.prog, id)) {
            req.resource_name.reset();
            req.resource_labels.clear();
        }
    }

    // The VM alone: rt::decide's ownership layer is not modelled by the oracle (ownership_fuzz covers it).
    const auto bound = rt::bind(*loaded.prog, req);
    const auto vm = std::holds_alternative<rt::fact_error>(bound)
                        ? rt::error_decision(std::get<rt::fact_error>(bound).reason)
                        : rt::evaluate(*loaded.prog, std::get<rt::input>(bound));
    const auto ref = dsl::reference_decide(*front.checked, req);
    DOCKPOL_FUZZ_CHECK(vm.eff == ref.eff && vm.rule == ref.rule && vm.own == ref.own,
                       "action " + req.action + ": VM says " + show(vm) + ", reference says " + show(ref));
    // An `allow own` rule whose ownership check fails: both try the next rule.
    if (vm.own) {
        const auto next = static_cast<std::uint32_t>(vm.rule_index + 1);
        const auto b = rt::bind(*loaded.prog, req);
        DOCKPOL_FUZZ_CHECK(std::holds_alternative<rt::input>(b), "an own rule decided a request that does not bind");
        const auto vm2 = rt::evaluate(*loaded.prog, std::get<rt::input>(b), next);
        const auto ref2 = dsl::reference_decide(*front.checked, req, next);
        DOCKPOL_FUZZ_CHECK(vm2.eff == ref2.eff && vm2.rule == ref2.rule && vm2.own == ref2.own,
                           "after own: VM says " + show(vm2) + ", reference says " + show(ref2));
    }
    return 0;
}

} // namespace differential_fuzz

#undef DOCKPOL_FUZZ_TARGET
