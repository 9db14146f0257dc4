// ownership_fuzz: the owner label and owner filter rewrites → never crash,
// and what they forward means what was asked plus the owner and nothing else:
//   - splice_owner_label on a create body: when it succeeds, the forwarded
//     bytes are JSON that decodes (nlohmann, keys matched like Go's
//     encoding/json) to the original plus the label in every place dockerd
//     reads it; splicing the result again changes nothing;
//   - merge_owner_filter on a `filters` value: when it succeeds, the result
//     is {"NAME":{"VALUE":true,...}} JSON holding `label=NAME=USER` and no
//     other filter on NAME, and merging it again gives the same bytes;
//   - replace_query_param: the target's query decodes to the same
//     parameters with `filters` set to the value.
// Input: one selector byte (what to run, which create action), then the text.
#define DOCKPOL_FUZZ_TARGET "ownership_fuzz"
#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "dockpol/rt/detail/query.hpp"
#include "dockpol/rt/ownership.hpp"
#include "fuzz_support.hpp"
#include "tests/support/owner_label_oracle.hpp"

namespace ownership_fuzz {

namespace {

using namespace dockpol;
using json = nlohmann::json;

constexpr std::string_view owner = "dockpol.owner";
constexpr std::string_view user = "al\"ice\xC3\xA9";

constexpr std::array<std::string_view, 6> creates = {"container_create", "volume_create", "network_create",
                                                     "service_create", "secret_create", "config_create"};

void splice(std::string_view action, std::string_view body) {
    const auto a = *rt::find_action(action);
    const auto r = rt::splice_owner_label(a, body, owner, user);
    if (r.error != rt::owner_errc::none) return;
    DOCKPOL_FUZZ_CHECK(r.changed == !r.rewrites.empty(), std::string(body));
    const std::string out = r.changed ? r.body : std::string(body);
    const json want = json::parse(body, nullptr, false);
    // Valid JSON nlohmann refuses (a number beyond double range): nothing to compare.
    if (want.is_discarded()) return;
    const json got = json::parse(out, nullptr, false);
    DOCKPOL_FUZZ_CHECK(!got.is_discarded() && got.is_object(), out);
    DOCKPOL_FUZZ_CHECK(got == test_support::expected_after_splice(want, action, {owner, user}),
                       std::string(body) + "\n  forwarded: " + out);
    const auto again = rt::splice_owner_label(a, out, owner, user);
    DOCKPOL_FUZZ_CHECK(again.error == rt::owner_errc::none && !again.changed, out);
}

void filters(rt::owner_form form, std::string_view value) {
    const auto r = rt::merge_owner_filter(form, value, owner, user);
    if (r.error != rt::owner_errc::none) return;
    const json got = json::parse(r.filters, nullptr, false);
    DOCKPOL_FUZZ_CHECK(!got.is_discarded() && got.is_object() && got.contains("label"), r.filters);
    const std::string mine = std::string(owner) + "=" + std::string(user);
    for (const auto& [name, values] : got.items()) {
        DOCKPOL_FUZZ_CHECK(values.is_object(), r.filters);
        for (const auto& [v, b] : values.items()) {
            DOCKPOL_FUZZ_CHECK(b == true, r.filters);
            if (name == "label" && v.starts_with(owner) && (v.size() == owner.size() || v[owner.size()] == '='))
                DOCKPOL_FUZZ_CHECK(v == mine, r.filters);
        }
    }
    DOCKPOL_FUZZ_CHECK(got["label"].contains(mine), r.filters);
    // The caller's own label filter is refused on swarm lists: merging again is a list-form merge.
    const auto again = rt::merge_owner_filter(rt::owner_form::list, r.filters, owner, user);
    DOCKPOL_FUZZ_CHECK(again.error == rt::owner_errc::none && again.filters == r.filters, r.filters);
}

void query(std::string_view raw_query, std::string_view value) {
    rt::string_pairs before, after;
    if (!rt::detail::parse_query(raw_query, 1000, before).empty()) return;
    const std::string target = rt::replace_query_param("/containers/json?" + std::string(raw_query), "filters", value);
    const auto q = target.find('?');
    DOCKPOL_FUZZ_CHECK(target.substr(0, q) == "/containers/json", target);
    DOCKPOL_FUZZ_CHECK(rt::detail::parse_query(std::string_view(target).substr(q + 1), 1001, after).empty(), target);
    // The same parameters in the same order, `filters` once with the value (first place, or last when absent).
    rt::string_pairs want;
    bool seen = false;
    for (const auto& [k, v] : before) {
        if (k != "filters") want.emplace_back(k, v);
        else if (!seen) want.emplace_back(k, std::string(value));
        seen = seen || k == "filters";
    }
    if (!seen) want.emplace_back("filters", std::string(value));
    DOCKPOL_FUZZ_CHECK(after == want, std::string(raw_query) + "\n  became: " + target);
}

} // namespace

DOCKPOL_FUZZ_ENTRY(data, size) {
    fuzz::byte_source in(data, size);
    const std::uint8_t sel = in.u8();
    const std::string text = in.rest();
    switch (sel % 9) {
    case 6: filters(rt::owner_form::list, text); break;
    case 7: filters(rt::owner_form::swarm_list, text); break;
    case 8: {
        // The text is `QUERY\nVALUE`.
        const auto nl = text.find('\n');
        query(std::string_view(text).substr(0, nl), nl == std::string::npos ? "" : std::string_view(text).substr(nl + 1));
        break;
    }
    default: splice(creates[sel % 9], text); break;
    }
    return 0;
}

} // namespace ownership_fuzz

#undef DOCKPOL_FUZZ_TARGET
