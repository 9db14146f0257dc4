// The dynamic value a field holds for one request: absent, bool, number,
// string, or list (of scalars or of records, for `any x in LIST: x.A.B`).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace dockpol::rt {

enum class value_kind : std::uint8_t { absent, boolean, number, string, list, record };

// One value. `items` holds list elements (kind list) or, for kind record, the
// element's sub-field values indexed by the slot's sub-path index.
struct value {
    value_kind kind = value_kind::absent;
    bool b = false;
    double n = 0;
    std::string s;
    std::vector<value> items;

    static value absent() { return {}; }
    static value boolean(bool v) { value r; r.kind = value_kind::boolean; r.b = v; return r; }
    static value number(double v) { value r; r.kind = value_kind::number; r.n = v; return r; }
    static value string(std::string v) { value r; r.kind = value_kind::string; r.s = std::move(v); return r; }
    static value list(std::vector<value> v) { value r; r.kind = value_kind::list; r.items = std::move(v); return r; }
    static value record(std::vector<value> v) { value r; r.kind = value_kind::record; r.items = std::move(v); return r; }

    bool is_absent() const { return kind == value_kind::absent; }
    friend bool operator==(const value&, const value&) = default;
};

} // namespace dockpol::rt
