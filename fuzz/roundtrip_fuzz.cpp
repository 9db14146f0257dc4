// roundtrip_fuzz: policy text that compiles → write_bundle → load_bundle →
// write_bundle again is byte-identical, the loaded image equals the compiled
// one, and nothing the compiler emits is refused by the loader.
#define DOCKPOL_FUZZ_TARGET "roundtrip_fuzz"
#include <cstdint>
#include <string>
#include <vector>

#include "dockpol/dsl/compile.hpp"
#include "dockpol/rt/bundle.hpp"
#include "fuzz_support.hpp"

namespace roundtrip_fuzz {

DOCKPOL_FUZZ_ENTRY(data, size) {
    using namespace dockpol;
    auto res = dsl::compile({dsl::source_file{"fuzz.dpol", std::string(fuzz::as_text(data, size))}}, {}, "fuzz");
    for (const auto& d : res.diagnostics) DOCKPOL_FUZZ_CHECK(d.code != dsl::diag_code::internal, d.message);
    if (!res.image) return 0;
    const auto first = rt::write_bundle(*res.image);
    const auto loaded = rt::load_bundle(first);
    DOCKPOL_FUZZ_CHECK(loaded.prog != nullptr, "compiled bundle rejected: " + loaded.error);
    DOCKPOL_FUZZ_CHECK(rt::image_of(*loaded.prog) == *res.image, "loaded image differs from the compiled image");
    const auto second = rt::write_bundle(rt::image_of(*loaded.prog));
    DOCKPOL_FUZZ_CHECK(first == second, "bundle bytes differ after load and re-write (" + std::to_string(first.size()) +
                                            " vs " + std::to_string(second.size()) + " bytes)");
    return 0;
}

} // namespace roundtrip_fuzz

#undef DOCKPOL_FUZZ_TARGET
