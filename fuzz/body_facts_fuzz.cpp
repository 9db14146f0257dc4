// body_facts_fuzz: JSON bytes as the body of a request whose policy reads
// every derived fact plus a few raw `body.*` paths → rt::fill_facts never
// crashes, and when it succeeds:
//   - nlohmann::json accepts the same bytes (no invalid JSON is let through;
//     a number too large for a double is the one accepted difference: valid
//     JSON that nlohmann refuses, and Go skips it in fields it does not read);
//   - no object on a wanted path has two keys selecting the same wanted
//     field (exact duplicates, or ASCII case variants of a struct field);
//   - every fact has its schema type or is absent.
// Input: one selector byte (action, whether raw slots are present), then the body.
#define DOCKPOL_FUZZ_TARGET "body_facts_fuzz"
#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dockpol/rt/body_facts.hpp"
#include "dockpol/rt/detail/body_paths.hpp"
#include "dockpol/rt/detail/fact_inputs.hpp"
#include "fuzz_support.hpp"

namespace body_facts_fuzz {

namespace {

using namespace dockpol;
using rt::key_match;

struct action_case {
    std::string_view action;
    std::string_view path;
    rt::detail::doc_kind body;   // the document its body is (count: none a fact reads)
};

using rt::detail::doc_kind;
constexpr std::array<action_case, 8> actions = {{
    {"container_create", "/containers/create", doc_kind::create},
    {"container_exec", "/containers/web/exec", doc_kind::exec},
    {"volume_create", "/volumes/create", doc_kind::volume},
    {"image_create", "/images/create", doc_kind::count},
    {"container_update", "/containers/web/update", doc_kind::count},
    {"service_create", "/services/create", doc_kind::service},
    {"plugin_pull", "/plugins/pull", doc_kind::plugin_grants},
    {"plugin_set", "/plugins/p/set", doc_kind::plugin_settings},
}};

// Raw paths a policy might read with `body.*`, with element sub-paths.
struct raw_slot {
    std::string_view key;
    std::vector<std::string> subpaths;
};
const std::vector<raw_slot>& raw_slots() {
    static const std::vector<raw_slot> v = {
        {"HostConfig.Privileged", {}},
        {"HostConfig.Mounts", {"Type", "Source", "BindOptions.Propagation"}},
        {"Cmd", {}},
        {"Env", {}},
        {"HostConfig.PortBindings.80/tcp", {"HostPort"}},
        {"Labels.com.example.team", {}},
    };
    return v;
}

constexpr std::string_view label_key = "com.example.owner";

std::vector<rt::slot_desc> make_slots(bool with_raw) {
    std::vector<rt::slot_desc> slots;
    for (const auto& f : rt::field_table) {
        // Target facts need an inspect answer this target does not give.
        if (rt::is_fact_source(f.source) && f.source != rt::field_source::fact_target &&
            f.id != rt::field_id::host_access && f.id != rt::field_id::host_access_reasons)
            slots.push_back({f.id, f.keyed ? std::string(label_key) : std::string(), {}});
    }
    if (with_raw)
        for (const auto& r : raw_slots()) slots.push_back({rt::field_id::body, std::string(r.key), r.subpaths});
    return slots;
}

// One step of a wanted path: a struct field (case-insensitive), a map key
// (exact), or "any array element".
struct step {
    std::string name;
    key_match match;
    bool element = false;
};
using path = std::vector<step>;

void append_steps(std::string_view dotted, path& out) {
    std::vector<rt::path_step> steps;
    rt::detail::body_path_steps(dotted, steps);
    for (const auto& s : steps) out.push_back({std::string(s.name), s.match});
}

std::vector<path> wanted_paths(const action_case& ac, bool with_raw) {
    using rt::detail::fact_input;
    std::vector<path> out;
    for (const auto& row : rt::detail::input_table) {
        const auto where = rt::detail::input_path(row.id, ac.body);
        if (!where || ac.body == doc_kind::count) continue;
        path base;
        append_steps(*where, base);
        out.push_back(base);
        for (const auto child : row.children) {
            if (child.empty()) continue;
            path p = base;
            if (rt::detail::children_are_map_keys(row.id)) {
                p.push_back({std::string(child), key_match::exact});
            } else {
                p.push_back({"", key_match::exact, true});
                append_steps(child, p);
            }
            out.push_back(p);
        }
    }
    if (const auto labels = rt::detail::input_path(fact_input::labels, ac.body); labels && ac.body != doc_kind::count) {
        path p;
        append_steps(*labels, p);
        p.push_back({std::string(label_key), key_match::exact});
        out.push_back(p);
    }
    if (with_raw) {
        for (const auto& r : raw_slots()) {
            path base;
            append_steps(r.key, base);
            out.push_back(base);
            for (const auto& sp : r.subpaths) {
                path p = base;
                p.push_back({"", key_match::exact, true});
                append_steps(sp, p);
                out.push_back(p);
            }
        }
    }
    return out;
}

bool ascii_fold_equal(std::string_view a, std::string_view b) { return rt::detail::ascii_iequal(a, b); }

bool step_matches(const step& s, const std::string& key) {
    return s.match == key_match::exact ? s.name == key : ascii_fold_equal(s.name, key);
}

// SAX pass over the body with nlohmann: remembers every object's keys and
// where the object sits, and whether the text is JSON.
class recorder : public nlohmann::json_sax<nlohmann::json> {
public:
    struct object_rec {
        std::vector<std::string> where;   // keys from the root; "" marks an array element
        std::vector<bool> in_array;
        std::vector<std::string> keys;
    };
    std::vector<object_rec> objects;
    bool ok = true;
    bool only_range_error = false;   // refused only for a number out of double range
    std::string error;

    bool null() override { return value_done(); }
    bool boolean(bool) override { return value_done(); }
    bool number_integer(number_integer_t) override { return value_done(); }
    bool number_unsigned(number_unsigned_t) override { return value_done(); }
    bool number_float(number_float_t, const string_t&) override { return value_done(); }
    bool string(string_t&) override { return value_done(); }
    bool binary(binary_t&) override { return value_done(); }
    bool start_object(std::size_t) override {
        enter(false);
        objects.push_back({where_, in_array_, {}});
        stack_.push_back({true, objects.size() - 1});
        return true;
    }
    bool key(string_t& k) override {
        objects[stack_.back().index].keys.push_back(k);
        pending_ = k;
        return true;
    }
    bool end_object() override { return leave(); }
    bool start_array(std::size_t) override {
        enter(true);
        stack_.push_back({false, 0});
        return true;
    }
    bool end_array() override { return leave(); }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& ex) override {
        ok = false;
        only_range_error = ex.id == 406;
        error = ex.what();
        return false;
    }

private:
    struct frame { bool object; std::size_t index; };
    std::vector<frame> stack_;
    std::vector<std::string> where_;
    std::vector<bool> in_array_;
    std::string pending_;

    void enter(bool) {
        if (stack_.empty()) return;
        const bool parent_is_array = !stack_.back().object;
        where_.push_back(parent_is_array ? std::string() : pending_);
        in_array_.push_back(parent_is_array);
    }
    bool leave() {
        stack_.pop_back();
        if (!where_.empty() && !stack_.empty()) {
            where_.pop_back();
            in_array_.pop_back();
        }
        return true;
    }
    bool value_done() { return true; }
};

// Whether an object at `where` is on wanted path `w`, and which step its keys take.
const step* next_step(const path& w, const recorder::object_rec& o) {
    if (o.where.size() >= w.size()) return nullptr;
    for (std::size_t i = 0; i < o.where.size(); ++i) {
        if (w[i].element != o.in_array[i]) return nullptr;
        if (!w[i].element && !step_matches(w[i], o.where[i])) return nullptr;
    }
    const step& s = w[o.where.size()];
    return s.element ? nullptr : &s;
}

std::string show_where(const recorder::object_rec& o) {
    std::string s = "<root>";
    for (std::size_t i = 0; i < o.where.size(); ++i) s += o.in_array[i] ? std::string("[]") : "." + o.where[i];
    return s;
}

bool kind_fits(rt::field_type t, const rt::value& v) {
    if (v.is_absent()) return true;
    switch (t) {
    case rt::field_type::string: return v.kind == rt::value_kind::string;
    case rt::field_type::number: return v.kind == rt::value_kind::number;
    case rt::field_type::boolean: return v.kind == rt::value_kind::boolean;
    case rt::field_type::list: return v.kind == rt::value_kind::list;
    default: return true;
    }
}

} // namespace

DOCKPOL_FUZZ_ENTRY(data, size) {
    if (size == 0) return 0;
    const action_case& ac = actions[data[0] % actions.size()];
    const bool with_raw = data[0] & 0x80;
    const std::string body(fuzz::as_text(data + 1, size - 1));

    rt::request req;
    req.method = "POST";
    req.action = std::string(ac.action);
    req.path = std::string(ac.path);
    if (ac.action == "image_create") req.query = {{"fromImage", "registry.example.com/team/app"}, {"tag", "1"}};
    req.body = body;

    const auto slots = make_slots(with_raw);
    std::vector<rt::value> out(slots.size());
    static const rt::program_image img;
    const auto err = rt::fill_facts(img, req, *rt::find_action(ac.action), slots, out);
    if (err) {
        DOCKPOL_FUZZ_CHECK(!err->reason.empty(), "refusal without a reason");
        return 0;
    }
    for (std::size_t i = 0; i < slots.size(); ++i)
        DOCKPOL_FUZZ_CHECK(kind_fits(rt::info(slots[i].field).type, out[i]),
                           std::string(rt::info(slots[i].field).name) + " has the wrong kind of value");
    // Only a body something reads is scanned (image facts come from the query).
    const bool scanned = with_raw || ac.body != doc_kind::count;
    if (body.empty() || !scanned) return 0;

    recorder rec;
    nlohmann::json::sax_parse(body, &rec, nlohmann::json::input_format_t::json, true, false);
    DOCKPOL_FUZZ_CHECK(rec.ok || rec.only_range_error, "fill_facts accepted a body nlohmann refuses: " + rec.error);
    if (!rec.ok) return 0;

    const auto wanted = wanted_paths(ac, with_raw);
    for (const auto& o : rec.objects) {
        for (const auto& w : wanted) {
            const step* s = next_step(w, o);
            if (!s) continue;
            int hits = 0;
            for (const auto& k : o.keys) hits += step_matches(*s, k);
            DOCKPOL_FUZZ_CHECK(hits <= 1, std::string(ac.action) + ": " + std::to_string(hits) + " keys of " +
                                              show_where(o) + " select wanted field '" + s->name + "'");
        }
    }
    return 0;
}

} // namespace body_facts_fuzz

#undef DOCKPOL_FUZZ_TARGET
