// What the per-operation benches (body_facts_bench, ownership_bench) share:
// their command line, the body file they read, and CPU time per operation
// taken as the min and median of interleaved rounds.
#pragma once

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace per_op_bench {

//   NAME [--body FILE] [--rounds N]               timed rounds
//   NAME --mode MODE --iterations N               exactly N operations, no timing (for the *_callgrind.sh scripts)
struct args {
    std::string body_path = std::string(DOCKPOL_SOURCE_ROOT) + "/tests/unit/fixtures/bodies/container_create.json";
    std::string mode;
    long iterations = 0;
    int rounds = 30;
};

[[noreturn]] inline void usage(const char* name, const char* modes) {
    std::fprintf(stderr, "usage: %s [--body FILE] [--rounds N] [--mode %s --iterations N]\n", name, modes);
    std::exit(2);
}

// `modes` is only for the usage line: each bench checks its own --mode.
inline args parse_args(int argc, char** argv, const char* name, const char* modes) {
    args out;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (i + 1 >= argc) usage(name, modes);
        if (a == "--body") out.body_path = argv[++i];
        else if (a == "--mode") out.mode = argv[++i];
        else if (a == "--iterations") out.iterations = std::atol(argv[++i]);
        else if (a == "--rounds") out.rounds = std::max(1, std::atoi(argv[++i]));
        else usage(name, modes);
    }
    if (!out.mode.empty() && out.iterations <= 0) usage(name, modes);
    return out;
}

// The body file's bytes; nullopt (after saying so) when it cannot be read.
inline std::optional<std::string> read_body(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        std::fprintf(stderr, "cannot read %s\n", path.c_str());
        return std::nullopt;
    }
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// This thread's CPU time: on a shared 2-core machine, wall time mostly
// measures the other processes; CPU time is what one request costs.
inline double thread_cpu_ns() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

// CPU ns per call of `op`, over `batch` calls: long enough to dwarf the
// clock, short enough that a busy machine's interruptions land in few
// batches (we keep the min).
template <class Op>
double batch_ns(Op op, int batch) {
    const double t0 = thread_cpu_ns();
    for (int i = 0; i < batch; ++i) op();
    return (thread_cpu_ns() - t0) / batch;
}

struct stats {
    double min = 0;
    double median = 0;
};

inline stats summarize(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return {v.front(), v[v.size() / 2]};
}

} // namespace per_op_bench
