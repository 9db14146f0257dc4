// Differential test: the VM (lower → verify → bundle → load → bind → evaluate)
// against the AST-walking reference evaluator, on ≥ 10,000 generated requests
// per policy (every example policy, the golden policies and a hand-built AST);
// identical effect, rule and rule index for every request.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "dockpol/dsl.hpp"
#include "dockpol/dsl/reference_eval.hpp"
#include "dockpol/rt/decide.hpp"
#include "fixtures/backend/request_gen.hpp"
#include "fixtures/backend/sample_policy.hpp"

// Each test file is its own namespace: the test executables are unity builds.
namespace differential_test {

using namespace dockpol;
namespace fs = std::filesystem;

namespace {

constexpr std::size_t requests_per_policy = 10000;

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::vector<fs::path> policy_files() {
    std::vector<fs::path> out;
    for (auto sub : {"examples/policies", "tests/golden/disasm", "tests/golden/differential", "tests/bench/policies"}) {
        const fs::path dir = fs::path(DOCKPOL_SOURCE_ROOT) / sub;
        if (!fs::exists(dir)) continue;
        for (const auto& e : fs::directory_iterator(dir))
            if (e.path().extension() == ".dpol") out.push_back(e.path());
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::string describe(const rt::request& r) {
    std::string s = "action=" + r.action + " user=" + r.user + " host=" + r.host + " groups=";
    for (const auto& g : r.groups) s += g + ",";
    s += " body=" + (r.body ? *r.body : std::string("<none>"));
    return s;
}

// Every string literal of the policy, plus an instance of each glob.
void literals(const dsl::expr& e, std::vector<std::string>& out) {
    if (e.kind == dsl::expr_kind::string_lit) {
        out.push_back(e.str);
        std::string inst;
        for (char c : e.str) inst += (c == '*' || c == '?') ? std::string("a") : std::string(1, c);
        if (inst != e.str) out.push_back(inst);
    }
    for (const auto& it : e.items) literals(it, out);
}

// The VM alone (bind + evaluate), without rt::decide's ownership layer, which
// the oracle does not model (decide_test and ownership_test cover it).
rt::decision vm_decide(const rt::program& prog, const rt::request& req) {
    auto b = rt::bind(prog, req);
    if (auto* e = std::get_if<rt::fact_error>(&b)) return rt::error_decision(e->reason);
    return rt::evaluate(prog, std::get<rt::input>(b));
}

// Runs both evaluators on the same requests; returns how often each rule decided.
std::map<std::string, std::size_t> run_differential(const dsl::checked_policy& pol, std::uint32_t seed) {
    auto res = dsl::compile_checked(pol, "diff");
    REQUIRE(res.image);
    // Through the bundle, as dockpold would see it.
    auto loaded = rt::load_bundle(rt::write_bundle(*res.image));
    INFO(loaded.error);
    REQUIRE(loaded.prog);
    const auto& prog = *loaded.prog;
    std::vector<std::string> vocab;
    for (const auto& r : pol.rules)
        if (r.cond) literals(*r.cond, vocab);
    test_gen::request_gen gen(seed, vocab);
    std::map<std::string, std::size_t> hits;
    for (std::size_t i = 0; i < requests_per_policy; ++i) {
        const auto req = gen.next();
        const auto vm = vm_decide(prog, req);
        const auto ref = dsl::reference_decide(pol, req);
        INFO("request " << i << ": " << describe(req));
        INFO("vm: " << vm.rule << " " << vm.reason << " / reference: " << ref.rule << " " << ref.reason);
        REQUIRE(vm.rule == ref.rule);
        REQUIRE(vm.eff == ref.eff);
        REQUIRE(vm.rule_index == ref.rule_index);
        REQUIRE(vm.own == ref.own);
        // An `allow own` rule whose ownership check fails: both try the next rule.
        if (vm.own) {
            const auto next = static_cast<std::uint32_t>(vm.rule_index + 1);
            const auto in = rt::bind(prog, req);
            REQUIRE(std::holds_alternative<rt::input>(in));
            const auto vm2 = rt::evaluate(prog, std::get<rt::input>(in), next);
            const auto ref2 = dsl::reference_decide(pol, req, next);
            INFO("after own: vm: " << vm2.rule << " / reference: " << ref2.rule);
            REQUIRE(vm2.rule == ref2.rule);
            REQUIRE(vm2.eff == ref2.eff);
            REQUIRE(vm2.rule_index == ref2.rule_index);
            REQUIRE(vm2.own == ref2.own);
            ++hits["after own: " + vm2.rule];
        }
        ++hits[vm.rule];
    }
    return hits;
}

} // namespace

TEST_CASE("VM agrees with the reference evaluator on every policy file") {
    const auto files = policy_files();
    REQUIRE(files.size() >= 3);
    std::uint32_t seed = 1;
    for (const auto& f : files) {
        INFO(f.string());
        auto front = dsl::analyze({dsl::source_file{f.filename().string(), slurp(f)}});
        REQUIRE(front.checked);
        const auto hits = run_differential(*front.checked, seed++);
        // The generator must reach several different outcomes, or the test proves little.
        CHECK(hits.size() >= 3);
    }
}

TEST_CASE("VM agrees with the reference evaluator on the hand-built policy") {
    const auto hits = run_differential(test_ast::sample_policy(), 99);
    CHECK(hits.size() >= 6);
    CHECK(hits.count("error") == 1);  // malformed bodies are generated, and deny by rule "error"
}

TEST_CASE("the ownership policy: every rule decides, and own rules are retried from the next one") {
    const fs::path f = fs::path(DOCKPOL_SOURCE_ROOT) / "tests/golden/differential/ownership.dpol";
    auto front = dsl::analyze({dsl::source_file{"ownership.dpol", slurp(f)}});
    REQUIRE(front.checked);
    const auto hits = run_differential(*front.checked, 11);
    for (const auto& r : front.checked->rules) {
        INFO(r.name);
        CHECK(hits.count(r.name) == 1);
    }
    CHECK(hits.count("after own: mine") == 1);
    CHECK(hits.count("after own: default") == 1);
}

TEST_CASE("the differential corpus reaches every rule of the facts policy") {
    const fs::path f = fs::path(DOCKPOL_SOURCE_ROOT) / "tests/golden/differential/facts.dpol";
    auto front = dsl::analyze({dsl::source_file{"facts.dpol", slurp(f)}});
    REQUIRE(front.checked);
    // Rule order shadows later rules for most requests; evaluate each rule alone instead.
    for (const auto& r : front.checked->rules) {
        INFO(r.name);
        auto one = *front.checked;
        one.rules = {r};
        const auto hits = run_differential(one, 7);
        CHECK(hits.count(r.name) == 1);
    }
}

} // namespace differential_test
