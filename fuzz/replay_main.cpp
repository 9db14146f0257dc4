// A main for builds without libFuzzer (g++, the normal test suite): feeds
// every file named on the command line, and every regular file under every
// directory named, to the target's entry point once, in sorted order. A
// violated property aborts, so the test fails and names the last input.
//
// Linked with one target (coverage.sh) it runs LLVMFuzzerTestOneInput:
//   REPLAY FILE|DIR...
// In meson's one replay executable of every target (DOCKPOL_FUZZ_REPLAY_ALL)
// the first argument names the target:
//   fuzz_replay TARGET FILE|DIR...
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

#ifdef DOCKPOL_FUZZ_REPLAY_ALL
#include <string_view>

#include "fuzz_support.hpp"
#else
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
#endif

namespace {

namespace fs = std::filesystem;

using replay_entry = int (*)(const std::uint8_t* data, std::size_t size);

bool read_file(const fs::path& p, std::vector<std::uint8_t>& out) {
    std::ifstream in(p, std::ios::binary);
    if (!in) return false;
    out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    return !in.bad();
}

#ifdef DOCKPOL_FUZZ_REPLAY_ALL
// The entry of the target named `name`, or null (then the names there are go to stderr).
replay_entry find_target(std::string_view name) {
    for (const auto& t : dockpol::fuzz::registered_targets())
        if (t.name == name) return t.run;
    std::fprintf(stderr, "replay: no fuzz target %.*s; this executable has:", static_cast<int>(name.size()),
                 name.data());
    for (const auto& t : dockpol::fuzz::registered_targets())
        std::fprintf(stderr, " %.*s", static_cast<int>(t.name.size()), t.name.data());
    std::fprintf(stderr, "\n");
    return nullptr;
}
#endif

} // namespace

int main(int argc, char** argv) {
#ifdef DOCKPOL_FUZZ_REPLAY_ALL
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s TARGET FILE|DIR...\n", argv[0]);
        return 2;
    }
    const replay_entry entry = find_target(argv[1]);
    if (!entry) return 2;
    const int first_input = 2;
#else
    const replay_entry entry = LLVMFuzzerTestOneInput;
    const int first_input = 1;
#endif
    std::vector<fs::path> inputs;
    for (int i = first_input; i < argc; ++i) {
        const fs::path arg(argv[i]);
        std::error_code ec;
        if (fs::is_directory(arg, ec)) {
            for (const auto& e : fs::recursive_directory_iterator(arg, ec))
                if (e.is_regular_file()) inputs.push_back(e.path());
            if (ec) {
                std::fprintf(stderr, "replay: cannot list %s: %s\n", argv[i], ec.message().c_str());
                return 2;
            }
        } else if (fs::is_regular_file(arg, ec)) {
            inputs.push_back(arg);
        } else {
            std::fprintf(stderr, "replay: no such file or directory: %s\n", argv[i]);
            return 2;
        }
    }
    std::sort(inputs.begin(), inputs.end());
    std::vector<std::uint8_t> buf;
    for (const auto& p : inputs) {
        if (!read_file(p, buf)) {
            std::fprintf(stderr, "replay: cannot read %s\n", p.c_str());
            return 2;
        }
        // Printed before running, so a crash names its input.
        std::fprintf(stderr, "replay: %s (%zu bytes)\n", p.c_str(), buf.size());
        entry(buf.data(), buf.size());
    }
    std::printf("replay: %zu inputs ran without a finding\n", inputs.size());
    return 0;
}
