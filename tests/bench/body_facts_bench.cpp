// Body facts on dockpold's request path: fill_facts for every container
// fact (the hardening policy's slots) on a 1.7 KB container_create body,
// against an nlohmann::json DOM parse of the same body, in one run.
//
//   body_facts_bench [--body FILE] [--rounds N]     thread CPU time per op (min and median of N rounds)
//   body_facts_bench --mode facts|dom|scan --iterations N
//                                                   exactly N operations, no timing
//                                                   (for body_facts_callgrind.sh)
// docs/request-model.md budget: <= 5 us per 1.7 KB body.
//
// Measured on the 2-core dev VM (Xeon, g++ 12 -O2 debugoptimized, heavy
// concurrent load), bench/container_create.json, 13 container-fact slots:
//   body_facts_callgrind.sh: fill_facts 41.1k Ir/op (validation-only scan
//   18.1k), nlohmann::json DOM parse 275.6k Ir/op: 6.7x fewer instructions.
//   CPU time: fill_facts ~2.2-2.9 us/op, validation-only scan ~0.8-0.9 us/op,
//   nlohmann DOM parse ~17-19 us/op.
#include <cstdio>
#include <cstdlib>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "dockpol/rt/body_facts.hpp"
#include "per_op_bench.hpp"

using namespace dockpol::rt;
using namespace per_op_bench;

namespace {

// docs/request-model.md: the per-request budget for one container_create body.
constexpr double budget_ns = 5000;
// Operations per timed batch (see batch_ns); the DOM parse is ~10x slower.
constexpr int facts_batch = 2000;
constexpr int dom_batch = 200;

std::vector<slot_desc> hardening_slots() {
    std::vector<slot_desc> slots;
    for (const auto& f : field_table) {
        // Every container fact, and host_access (what a hardening policy reads).
        if (f.source != field_source::fact_container && f.id != field_id::host_access &&
            f.id != field_id::host_access_reasons)
            continue;
        slot_desc s;
        s.field = f.id;
        if (f.keyed) s.key = "owner";
        slots.push_back(s);
    }
    return slots;
}

} // namespace

int main(int argc, char** argv) {
    const auto [body_path, mode, iterations, rounds] = parse_args(argc, argv, "body_facts_bench", "facts|dom|scan");
    auto body = read_body(body_path);
    if (!body) return 2;

    request req;
    req.method = "POST";
    req.action = "container_create";
    req.body = std::move(*body);
    req.objects_known = true;
    const auto slots = hardening_slots();
    std::vector<value> out(slots.size());
    const program_image img;
    const auto action = *find_action("container_create");
    if (const auto err = fill_facts(img, req, action, slots, out)) {
        std::fprintf(stderr, "fill_facts: %s\n", err->reason.c_str());
        return 1;
    }

    // Results land here so the compiler cannot drop the work.
    volatile std::size_t sink = 0;
    const auto facts_op = [&] {
        if (fill_facts(img, req, action, slots, out)) std::abort();
        sink = sink + out[1].items.size();
    };
    const auto dom_op = [&] {
        const auto doc = nlohmann::json::parse(*req.body);
        sink = sink + doc.size();
    };
    json_projection validate_only;
    validate_only.seal();
    const auto scan_op = [&] {
        json_value root;
        if (scan_json(*req.body, validate_only, root)) std::abort();
        sink = sink + static_cast<std::size_t>(root.type);
    };

    if (!mode.empty()) {
        for (long i = 0; i < iterations; ++i) {
            if (mode == "facts") facts_op();
            else if (mode == "dom") dom_op();
            else if (mode == "scan") scan_op();
            else usage("body_facts_bench", "facts|dom|scan");
        }
        return 0;
    }

    // Interleave the rounds so all three see the same machine load.
    std::vector<double> f_ns, d_ns, s_ns;
    for (int r = 0; r < rounds; ++r) {
        f_ns.push_back(batch_ns(facts_op, facts_batch));
        d_ns.push_back(batch_ns(dom_op, dom_batch));
        s_ns.push_back(batch_ns(scan_op, facts_batch));
    }
    const stats facts = summarize(f_ns), dom = summarize(d_ns), scan = summarize(s_ns);

    std::printf("body: %s (%zu bytes), %zu slots (every container fact)\n", body_path.c_str(), req.body->size(),
                slots.size());
    std::printf("fill_facts (one projection scan + facts): min %8.0f CPU ns/op  median %8.0f CPU ns/op\n", facts.min,
                facts.median);
    std::printf("  of which validation-only scan:          min %8.0f CPU ns/op  median %8.0f CPU ns/op\n", scan.min,
                scan.median);
    std::printf("nlohmann::json DOM parse:                 min %8.0f CPU ns/op  median %8.0f CPU ns/op\n", dom.min, dom.median);
    std::printf("ratio DOM / fill_facts:                   min %8.1fx       median %8.1fx\n", dom.min / facts.min,
                dom.median / facts.median);
    std::printf("budget %.0f ns/op (docs/request-model.md): %s (min)\n", budget_ns, facts.min <= budget_ns ? "met" : "MISSED");
    return 0;
}
