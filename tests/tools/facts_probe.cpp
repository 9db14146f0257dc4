// facts_probe: the container facts rt::fill_facts computes for a document.
//   facts_probe create BODY.json      container.* of a container_create body
//   facts_probe inspect INSPECT.json  resource.container.* of container_start
//                                     whose target's inspect answer is INSPECT
// Prints one JSON object, fact name (without `resource.`) -> value: lists as
// arrays, absent as null; keyed facts (labels) are left out. A fact error
// prints the reason on stderr and exits 2; usage errors exit 1.
// Used by tests/e2e/test_facts_differential.py; built, not installed.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dockpol/rt/body_facts.hpp"

using namespace dockpol::rt;
using json = nlohmann::json;

namespace {

json to_json(const value& v) {
    switch (v.kind) {
    case value_kind::absent: return nullptr;
    case value_kind::boolean: return v.b;
    case value_kind::number: return v.n;
    case value_kind::string: return v.s;
    default: {
        json a = json::array();
        for (const auto& i : v.items) a.push_back(to_json(i));
        return a;
    }
    }
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 3 || (std::string(argv[1]) != "create" && std::string(argv[1]) != "inspect")) {
        std::cerr << "usage: facts_probe create BODY.json | facts_probe inspect INSPECT.json\n";
        return 1;
    }
    const bool create = std::string(argv[1]) == "create";
    std::ifstream in(argv[2], std::ios::binary);
    if (!in) {
        std::cerr << "facts_probe: cannot read " << argv[2] << "\n";
        return 1;
    }
    std::ostringstream ss;
    ss << in.rdbuf();

    request req;
    req.method = "POST";
    req.action = create ? "container_create" : "container_start";
    const auto action = find_action(req.action);
    if (!action) {
        std::cerr << "facts_probe: unknown action " << req.action << "\n";
        return 1;
    }
    if (create) {
        req.body = ss.str();
        req.objects_known = true;
    } else {
        req.resource_id = "probe";
        req.resource_inspect = ss.str();
        req.objects_known = true;
    }

    const std::string prefix = create ? "container." : "resource.container.";
    std::vector<slot_desc> slots;
    std::vector<std::string> names;
    for (const auto& f : field_table) {
        if (f.keyed || !f.name.starts_with(prefix)) continue;
        slots.push_back({f.id, {}, {}});
        names.emplace_back(f.name.substr(create ? 0 : std::string_view("resource.").size()));
    }
    std::vector<value> out(slots.size());
    program_image img;
    if (const auto err = fill_facts(img, req, *action, slots, out)) {
        std::cerr << "fact error" << (err->bad_request ? " (bad request)" : "") << ": " << err->reason << "\n";
        return 2;
    }
    json o = json::object();
    for (std::size_t i = 0; i < slots.size(); ++i) o[names[i]] = to_json(out[i]);
    std::cout << o.dump(2) << "\n";
    return 0;
}
