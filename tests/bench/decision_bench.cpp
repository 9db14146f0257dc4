// Decision benchmark (single core): the 12-rule policy of
// tests/bench/policies/twelve_rules.dpol over 1,000 varied requests.
// Measures, in the same run: VM evaluate on pre-bound inputs, decide()
// (bind + evaluate, including body facts), and reference_decide (the AST
// walker); prints ns/decision (p50 and mean over repetitions) and the ratio.
//
//   decision_bench [POLICY]                 full report
//   decision_bench --vm-only N [POLICY]     just N VM evaluations (for callgrind)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "../unit/fixtures/backend/request_gen.hpp"
#include "dockpol/dsl.hpp"
#include "dockpol/dsl/reference_eval.hpp"
#include "dockpol/rt/decide.hpp"

using namespace dockpol;
using clk = std::chrono::steady_clock;

namespace {

constexpr std::size_t request_count = 1000;
constexpr int repetitions = 50;

std::string slurp(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void literals(const dsl::expr& e, std::vector<std::string>& out) {
    if (e.kind == dsl::expr_kind::string_lit) {
        std::string inst;
        for (char c : e.str) inst += (c == '*' || c == '?') ? std::string("-1") : std::string(1, c);
        out.push_back(inst);
    }
    for (const auto& it : e.items) literals(it, out);
}

struct stats {
    double p50, mean;
};

// Runs `body` (one pass over all requests) `repetitions` times; ns per decision.
template <class F>
stats measure(F&& body, std::size_t per_pass, int reps) {
    std::vector<double> ns;
    for (int r = 0; r < reps; ++r) {
        const auto t0 = clk::now();
        body();
        const auto t1 = clk::now();
        ns.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() / static_cast<double>(per_pass));
    }
    std::sort(ns.begin(), ns.end());
    double sum = 0;
    for (double x : ns) sum += x;
    return {ns[ns.size() / 2], sum / static_cast<double>(ns.size())};
}

} // namespace

int main(int argc, char** argv) {
    long vm_only = -1;
    std::string policy = std::string(DOCKPOL_SOURCE_ROOT) + "/tests/bench/policies/twelve_rules.dpol";
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--vm-only") && i + 1 < argc) vm_only = std::atol(argv[++i]);
        else policy = argv[i];
    }
    auto front = dsl::analyze({dsl::source_file{policy, slurp(policy)}});
    if (!front.checked) {
        std::fprintf(stderr, "decision_bench: %s does not compile\n", policy.c_str());
        return 2;
    }
    const auto& checked = *front.checked;
    auto res = dsl::compile_checked(checked, "bench");
    auto loaded = rt::load_bundle(rt::write_bundle(*res.image));
    if (!loaded.prog) {
        std::fprintf(stderr, "decision_bench: %s\n", loaded.error.c_str());
        return 2;
    }
    const auto& prog = *loaded.prog;

    std::vector<std::string> vocab;
    for (const auto& r : checked.rules)
        if (r.cond) literals(*r.cond, vocab);
    test_gen::request_gen gen(2024, vocab);
    std::vector<rt::request> reqs;
    std::vector<rt::input> inputs;
    for (std::size_t i = 0; i < request_count; ++i) {
        reqs.push_back(gen.next());
        auto b = rt::bind(prog, reqs.back());
        if (b.index() == 0) inputs.push_back(std::get<0>(std::move(b)));
    }

    long long sink = 0;
    if (vm_only >= 0) {
        for (long i = 0; i < vm_only; ++i) sink += rt::evaluate(prog, inputs[static_cast<std::size_t>(i) % inputs.size()]).rule_index;
        std::printf("%lld\n", sink & 1);
        return 0;
    }

    // Warm-up, and a check that all three agree (a benchmark of wrong answers is worthless).
    std::size_t mismatches = 0;
    for (const auto& r : reqs)
        if (rt::decide(prog, r).rule != dsl::reference_decide(checked, r).rule) ++mismatches;

    const auto vm = measure([&] { for (const auto& in : inputs) sink += rt::evaluate(prog, in).rule_index; },
                            inputs.size(), repetitions);
    const auto dec = measure([&] { for (const auto& r : reqs) sink += rt::decide(prog, r).rule_index; }, reqs.size(),
                             repetitions / 5);
    const auto ref = measure([&] { for (const auto& r : reqs) sink += dsl::reference_decide(checked, r).rule_index; },
                             reqs.size(), repetitions / 5);
    // The same pass without body-derived work: only requests whose action reads no body.
    std::vector<const rt::request*> plain;
    std::vector<const rt::input*> plain_in;
    for (std::size_t i = 0; i < reqs.size(); ++i)
        if (!rt::needs_body(prog, rt::action_id_of(reqs[i].action))) plain.push_back(&reqs[i]);
    const auto ref_plain = measure([&] { for (auto* r : plain) sink += dsl::reference_decide(checked, *r).rule_index; },
                                   plain.size(), repetitions / 5);

    std::printf("policy: %s (%zu rules + builtin_ping, %zu slots, %zu instructions)\n", policy.c_str(),
                checked.rules.size(), res.image->slots.size(), res.image->code.size());
    std::printf("requests: %zu (%zu pre-bound, %zu without body facts), repetitions: %d\n", reqs.size(),
                inputs.size(), plain.size(), repetitions);
    std::printf("vm evaluate (pre-bound)     p50 %8.1f ns  mean %8.1f ns per decision\n", vm.p50, vm.mean);
    std::printf("vm decide (bind+evaluate)   p50 %8.1f ns  mean %8.1f ns per decision\n", dec.p50, dec.mean);
    std::printf("reference_decide            p50 %8.1f ns  mean %8.1f ns per decision\n", ref.p50, ref.mean);
    std::printf("reference_decide (no body)  p50 %8.1f ns  mean %8.1f ns per decision\n", ref_plain.p50, ref_plain.mean);
    std::printf("ratio reference / vm evaluate (p50): %.1fx; reference / vm decide: %.1fx\n", ref.p50 / vm.p50,
                ref.p50 / dec.p50);
    std::printf("disagreements vm vs reference: %zu (checksum %lld)\n", mismatches, sink & 0xff);
    return mismatches == 0 ? 0 : 1;
}
