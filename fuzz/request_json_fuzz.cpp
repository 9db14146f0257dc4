// request_json_fuzz: REQUEST.json text as dockpolc eval/test reads it
// (dsl/cli/request_json.hpp). Properties:
//   - parse_json_text never crashes, whatever the nesting (its flat depth
//     pre-scan runs before nlohmann's recursive parts);
//   - a document it accepts serialises (nlohmann's dump recurses: the
//     SIGSEGV this target's crash_deep_body seed once caused);
//   - request_from_json never crashes; an accepted request has objects_known,
//     its resource_inspect and objects are compact JSON objects that parse
//     back, and every objects key is KIND:NAME.
#define DOCKPOL_FUZZ_TARGET "request_json_fuzz"
#include <cstdint>
#include <string>

#include "cli/request_json.hpp"
#include "fuzz_support.hpp"

namespace request_json_fuzz {

using namespace dockpol;

DOCKPOL_FUZZ_ENTRY(data, size) {
    const std::string text(fuzz::as_text(data, size));
    auto parsed = dsl::cli::parse_json_text("fuzz.json", text);
    if (parsed.index() == 1) return 0;
    const auto& j = std::get<nlohmann::json>(parsed);
    (void)j.dump();
    auto r = dsl::cli::request_from_json(j);
    if (r.index() == 1) {
        DOCKPOL_FUZZ_CHECK(!std::get<dsl::cli::request_error>(r).message.empty(), "rejection without a reason");
        return 0;
    }
    const auto& req = std::get<rt::request>(r);
    DOCKPOL_FUZZ_CHECK(req.objects_known, "dockpolc requests know every object");
    auto compact_object = [](const std::string& s) {
        auto v = nlohmann::json::parse(s, nullptr, false);
        return !v.is_discarded() && v.is_object() && v.dump() == s;
    };
    if (req.resource_inspect)
        DOCKPOL_FUZZ_CHECK(compact_object(*req.resource_inspect), *req.resource_inspect);
    for (const auto& [k, v] : req.objects) {
        DOCKPOL_FUZZ_CHECK(!dsl::cli::detail::check_object_key(k), k);
        DOCKPOL_FUZZ_CHECK(compact_object(v), v);
    }
    return 0;
}

} // namespace request_json_fuzz

#undef DOCKPOL_FUZZ_TARGET
