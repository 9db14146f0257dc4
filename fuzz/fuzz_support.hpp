// Helpers shared by the fuzz targets: a property check that crashes loudly
// (libFuzzer and the replay main both treat abort() as a finding), and a
// byte reader that turns the fuzzer's input into structured choices.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace dockpol::fuzz {

// A violated property is a bug: print what and where, then abort so the
// fuzzer saves the input (and the replay test fails).
[[noreturn]] inline void property_failed(const char* target, const char* what, const std::string& detail) {
    std::fprintf(stderr, "\nfuzz property violated in %s: %s\n  %s\n", target, what, detail.c_str());
    std::fflush(stderr);
    std::abort();
}

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
