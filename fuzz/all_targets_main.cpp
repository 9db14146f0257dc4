// libFuzzer's entry for the build of every target in ONE binary (`fuzz/build.sh
// --one-binary` → $OUT/fuzz_all; what fuzz/ci.sh runs): the targets are
// compiled together as the meson replay build compiles them (each registered
// under its name, DOCKPOL_FUZZ_REPLAY_ALL), and DOCKPOL_FUZZ_TARGET_NAME in
// the environment picks the one to fuzz:
//   DOCKPOL_FUZZ_TARGET_NAME=vm_fuzz fuzz/out/fuzz_all -max_total_time=10 fuzz/corpus/vm_fuzz
// One compile of the shared headers (the compiler, Beast, nlohmann) instead
// of one per target: the sanitizer half of CI spends its minutes fuzzing, not
// compiling.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "fuzz_support.hpp"

namespace {
dockpol::fuzz::entry_point chosen = nullptr;
} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    const char* name = std::getenv("DOCKPOL_FUZZ_TARGET_NAME");
    for (const auto& t : dockpol::fuzz::registered_targets())
        if (name && t.name == name) chosen = t.run;
    if (!chosen) {
        std::fprintf(stderr, "fuzz_all: set DOCKPOL_FUZZ_TARGET_NAME to one of:");
        for (const auto& t : dockpol::fuzz::registered_targets())
            std::fprintf(stderr, " %.*s", static_cast<int>(t.name.size()), t.name.data());
        std::fprintf(stderr, "\n");
        std::exit(2);
    }
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) { return chosen(data, size); }
