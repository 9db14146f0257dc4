// Derived facts and host access, table-driven: every case in
// fixtures/facts/*.json is a request (action, query, body, the target's
// inspect answer, named objects, the policy's safe paths and drivers) and
// the facts it must have — or the error it must be refused with.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dockpol/rt/body_facts.hpp"

// Each test file is its own namespace: the test executables are unity builds.
namespace facts_cases_test {

using namespace dockpol::rt;
using json = nlohmann::json;

namespace {

std::vector<std::filesystem::path> case_files() {
    std::vector<std::filesystem::path> out;
    for (const auto& e : std::filesystem::directory_iterator(std::string(DOCKPOL_SOURCE_ROOT) + "/tests/unit/fixtures/facts"))
        if (e.path().extension() == ".json") out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

value to_value(const json& j) {
    if (j.is_boolean()) return value::boolean(j.get<bool>());
    if (j.is_number()) return value::number(j.get<double>());
    if (j.is_string()) return value::string(j.get<std::string>());
    if (j.is_array()) {
        std::vector<value> items;
        for (const auto& e : j) items.push_back(to_value(e));
        return value::list(std::move(items));
    }
    return value::absent();
}

std::string show(const value& v) {
    switch (v.kind) {
    case value_kind::absent: return "absent";
    case value_kind::boolean: return v.b ? "true" : "false";
    case value_kind::number: return std::to_string(v.n);
    case value_kind::string: return "\"" + v.s + "\"";
    default: {
        std::string s = "[";
        for (const auto& i : v.items) s += (s.size() > 1 ? ", " : "") + show(i);
        return s + "]";
    }
    }
}

// The slot a fact name with an optional `.KEY` names (container.labels.K).
slot_desc slot_for(const std::string& name) {
    if (const auto f = find_field(name)) return {*f, {}, {}};
    for (const auto& f : field_table)
        if (f.keyed && name.starts_with(std::string(f.name) + "."))
            return {f.id, name.substr(f.name.size() + 1), {}};
    FAIL("unknown fact in a case: " << name);
    return {};
}

void run_case(const json& c) {
    const std::string name = c.at("name");
    INFO("case: " << name);
    request req;
    req.method = "POST";
    req.action = c.at("action");
    const auto action = find_action(req.action);
    REQUIRE(action);
    if (c.contains("query"))
        for (const auto& [k, v] : c["query"].items()) req.query.emplace_back(k, v.get<std::string>());
    if (c.contains("resource_id")) req.resource_id = c["resource_id"];
    if (c.contains("body")) req.body = c["body"].dump();
    if (c.contains("body_raw")) req.body = c["body_raw"].get<std::string>();
    if (c.contains("inspect")) req.resource_inspect = c["inspect"].dump();
    req.objects_known = c.value("objects_known", true);
    if (c.contains("objects"))
        for (const auto& [k, v] : c["objects"].items()) req.objects.emplace_back(k, v.dump());
    program_image img;
    if (c.contains("safe_paths")) img.safe_host_paths = c["safe_paths"].get<std::vector<std::string>>();
    if (c.contains("safe_drivers")) img.safe_volume_drivers = c["safe_drivers"].get<std::vector<std::string>>();

    std::vector<slot_desc> slots;
    std::vector<value> expected;
    if (c.contains("expect"))
        for (const auto& [k, v] : c["expect"].items()) {
            slots.push_back(slot_for(k));
            expected.push_back(v.is_null() ? value::absent() : to_value(v));
        }
    if (c.contains("error")) slots.push_back(slot_for("host_access"));
    std::vector<value> out(slots.size());
    const auto err = fill_facts(img, req, *action, slots, out);
    if (c.contains("error")) {
        REQUIRE(err);
        INFO("error: " << err->reason);
        CHECK(err->reason.find(c["error"].get<std::string>()) != std::string::npos);
        if (c.contains("bad_request")) CHECK(err->bad_request == c["bad_request"].get<bool>());
        return;
    }
    if (err) FAIL("unexpected error: " << err->reason);
    for (std::size_t i = 0; i < slots.size(); ++i) {
        INFO("fact: " << info(slots[i].field).name << (slots[i].key.empty() ? "" : "." + slots[i].key));
        INFO("got " << show(out[i]) << ", want " << show(expected[i]));
        CHECK(out[i] == expected[i]);
    }
}

} // namespace

TEST_CASE("facts: table-driven cases", "[facts]") {
    const auto files = case_files();
    REQUIRE(files.size() >= 3);
    std::size_t n = 0;
    for (const auto& f : files) {
        INFO("file: " << f.filename().string());
        std::ifstream in(f);
        const json cases = json::parse(in);
        REQUIRE(cases.is_array());
        for (const auto& c : cases) {
            run_case(c);
            ++n;
        }
    }
    CHECK(n >= 60);
}

} // namespace facts_cases_test
