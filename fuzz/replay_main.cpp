// A main for builds without libFuzzer (g++, the normal test suite): feeds
// every file named on the command line, and every regular file under every
// directory named, to LLVMFuzzerTestOneInput once, in sorted order. A
// violated property aborts, so the test fails and names the last input.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

namespace fs = std::filesystem;

bool read_file(const fs::path& p, std::vector<std::uint8_t>& out) {
    std::ifstream in(p, std::ios::binary);
    if (!in) return false;
    out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    return !in.bad();
}

} // namespace

int main(int argc, char** argv) {
    std::vector<fs::path> inputs;
    for (int i = 1; i < argc; ++i) {
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
        LLVMFuzzerTestOneInput(buf.data(), buf.size());
    }
    std::printf("replay: %zu inputs ran without a finding\n", inputs.size());
    return 0;
}
