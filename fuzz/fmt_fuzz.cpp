// fmt_fuzz: `dockpolc fmt` is idempotent and preserves meaning.
//   - text without syntax errors formats to text without syntax errors,
//     and formatting that again changes nothing;
//   - a policy that checks formats to one that checks and lowers to the same
//     program image, apart from source positions and digests.
#define DOCKPOL_FUZZ_TARGET "fmt_fuzz"
#include <cstdint>
#include <string>
#include <vector>

#include "dockpol/dsl/compile.hpp"
#include "dockpol/dsl/front.hpp"
#include "fuzz_support.hpp"

namespace fmt_fuzz {

namespace {

using namespace dockpol;

bool has_code(const std::vector<dsl::diagnostic>& ds, std::string_view code) {
    for (const auto& d : ds)
        if (dsl::code_name(d.code) == code && d.sev == dsl::severity::error) return true;
    return false;
}

std::string first_error(const std::vector<dsl::diagnostic>& ds) {
    for (const auto& d : ds)
        if (d.sev == dsl::severity::error)
            return std::string(dsl::code_name(d.code)) + " " + std::to_string(d.sp.line) + ":" + std::to_string(d.sp.column) + " " +
                   d.message;
    return "";
}

// The image without what legitimately changes when only layout changes.
rt::program_image meaning(const dsl::checked_policy& pol) {
    auto res = dsl::compile_checked(pol, "fuzz");
    if (!res.image) return {};
    rt::program_image im = std::move(*res.image);
    for (auto& p : im.rule_positions) p = {};
    im.man = {};
    return im;
}

dsl::front_result analyze_text(std::string text) {
    return dsl::analyze({dsl::source_file{"fuzz.dpol", std::move(text)}});
}

} // namespace

DOCKPOL_FUZZ_ENTRY(data, size) {
    const auto orig = analyze_text(std::string(fuzz::as_text(data, size)));
    // Only whole parses have a canonical text (a partial AST would drop statements).
    if (has_code(orig.diagnostics, "dp-parse") || has_code(orig.diagnostics, "dp-limit")) return 0;

    const std::string once = dsl::format_file(orig.ast, 0);
    const auto formatted = analyze_text(once);
    DOCKPOL_FUZZ_CHECK(!has_code(formatted.diagnostics, "dp-parse"),
                       "formatted text does not parse: " + first_error(formatted.diagnostics) + "\n--- formatted:\n" + once);
    const std::string twice = dsl::format_file(formatted.ast, 0);
    DOCKPOL_FUZZ_CHECK(once == twice, "fmt is not idempotent\n--- once:\n" + once + "--- twice:\n" + twice);

    DOCKPOL_FUZZ_CHECK(orig.checked.has_value() == formatted.checked.has_value(),
                       "fmt changed whether the policy checks: " + first_error(orig.diagnostics) + " | " +
                           first_error(formatted.diagnostics) + "\n--- formatted:\n" + once);
    if (!orig.checked) return 0;
    DOCKPOL_FUZZ_CHECK(meaning(*orig.checked) == meaning(*formatted.checked),
                       "fmt changed the compiled program\n--- formatted:\n" + once);
    return 0;
}

} // namespace fmt_fuzz

#undef DOCKPOL_FUZZ_TARGET
