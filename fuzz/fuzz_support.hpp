// Helpers shared by the fuzz targets: each target's entry point, a property
// check that crashes loudly (libFuzzer and the replay main both treat abort()
// as a finding), and a byte reader that turns the fuzzer's input into
// structured choices.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace dockpol::fuzz {

// A violated property is a bug: print what and where, then abort so the
// fuzzer saves the input (and the replay test fails).
[[noreturn]] inline void property_failed(const char* target, const char* what, const std::string& detail) {
    std::fprintf(stderr, "\nfuzz property violated in %s: %s\n  %s\n", target, what, detail.c_str());
    std::fflush(stderr);
    std::abort();
}

// A target's entry point, written `DOCKPOL_FUZZ_ENTRY(data, size) { ... }`
// inside the target's own namespace (its file stem). A build of one target
// (libFuzzer via build.sh, coverage.sh's replay) makes it the C function
// LLVMFuzzerTestOneInput. The meson replay build (DOCKPOL_FUZZ_REPLAY_ALL)
// compiles every target into one unity-built executable, where that name
// would be defined once per target: there each entry is an ordinary function
// of its namespace, registered under DOCKPOL_FUZZ_TARGET for replay_main.cpp.
#ifdef DOCKPOL_FUZZ_REPLAY_ALL
using entry_point = int (*)(const std::uint8_t* data, std::size_t size);
struct registered_target {
    std::string_view name;
    entry_point run;
};
inline std::vector<registered_target>& registered_targets() {
    static std::vector<registered_target> all;
    return all;
}
inline bool register_target(std::string_view name, entry_point run) {
    registered_targets().push_back({name, run});
    return true;
}
#define DOCKPOL_FUZZ_ENTRY(data, size)                                                      \
    int fuzz_entry(const std::uint8_t*, std::size_t);                                       \
    inline const bool fuzz_entry_registered =                                               \
        ::dockpol::fuzz::register_target(DOCKPOL_FUZZ_TARGET, fuzz_entry);                  \
    int fuzz_entry(const std::uint8_t* data, std::size_t size)
#else
#define DOCKPOL_FUZZ_ENTRY(data, size) \
    extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
#endif

#define DOCKPOL_FUZZ_CHECK(cond, detail)                                                      \
    do {                                                                                      \
        if (!(cond)) ::dockpol::fuzz::property_failed(DOCKPOL_FUZZ_TARGET, #cond, (detail)); \
    } while (0)

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

// Consumes the input front to back; reads past the end yield zeros, so any
// input decodes to something.
class byte_source {
public:
    byte_source(const std::uint8_t* data, std::size_t size) : p_(data), n_(size) {}

    std::size_t remaining() const { return n_; }
    bool empty() const { return n_ == 0; }

    std::uint8_t u8() {
        if (n_ == 0) return 0;
        --n_;
        return *p_++;
    }
    std::uint16_t u16() { return static_cast<std::uint16_t>(u8() | (u8() << 8)); }
    std::uint32_t u32() { return static_cast<std::uint32_t>(u16()) | (static_cast<std::uint32_t>(u16()) << 16); }
    bool flag() { return (u8() & 1) != 0; }
    // A value in [0, n) (n > 0).
    std::size_t below(std::size_t n) { return n <= 256 ? u8() % n : u32() % n; }

    // Up to `max` bytes; the length comes from the input.
    std::string str(std::size_t max) {
        const std::size_t want = below(max + 1);
        return take(want);
    }
    std::string take(std::size_t want) {
        const std::size_t k = want < n_ ? want : n_;
        std::string s(reinterpret_cast<const char*>(p_), k);
        p_ += k;
        n_ -= k;
        return s;
    }
    std::string rest() { return take(n_); }

private:
    const std::uint8_t* p_;
    std::size_t n_;
};

} // namespace dockpol::fuzz
