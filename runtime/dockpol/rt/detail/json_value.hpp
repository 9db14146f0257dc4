// What a projection scan yields: a sparse tree holding only the projected
// values, and the error (byte offset + reason) when the text is rejected.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dockpol/rt/detail/json_limits.hpp"

namespace dockpol::rt {

enum class json_type : std::uint8_t { missing, null, boolean, number, string, array, object };

inline constexpr std::array<std::string_view, 7> json_type_names = {
    "missing", "null", "boolean", "number", "string", "array", "object"};

inline std::string_view type_name(json_type t) { return json_type_names[static_cast<std::size_t>(t)]; }

// One extracted value. `fields[i]` is the value of the projection node's
// i-th child (missing when the object had no such key); `elements` holds an
// array's elements when the projection reaches the array.
struct json_value {
    json_type type = json_type::missing;
    bool boolean = false;
    double number = 0;
    std::string text;                 // decoded string
    std::vector<json_value> elements;
    std::vector<json_value> fields;
    std::size_t offset = 0;           // byte offset of the value in the text

    bool present() const { return type != json_type::missing && type != json_type::null; }
};

// Why a text was rejected; messages live in one table below.
enum class json_errc : std::uint8_t {
    empty,
    unexpected_end,
    unexpected_char,
    expected_key,
    expected_colon,
    expected_object_continue,
    expected_array_continue,
    trailing_comma,
    leading_zero,
    bad_number,
    number_range,
    bad_literal,
    bad_escape,
    lone_surrogate,
    control_char,
    bad_utf8,
    trailing_data,
    too_deep,
    string_too_long,
    too_many_elements,
    too_many_values,
    ambiguous_key,
    count_
};

struct json_errc_info {
    std::string_view name;      // stable, for tests and logs
    std::string_view message;
    std::size_t limit;          // the named limit the error enforces, 0 for none
};

// One row per json_errc, in order.
inline constexpr std::array<json_errc_info, static_cast<std::size_t>(json_errc::count_)> json_errc_table = {{
    {"empty", "empty JSON text", 0},
    {"unexpected_end", "unexpected end of JSON text", 0},
    {"unexpected_char", "unexpected character", 0},
    {"expected_key", "expected a string key", 0},
    {"expected_colon", "expected ':' after object key", 0},
    {"expected_object_continue", "expected ',' or '}' in object", 0},
    {"expected_array_continue", "expected ',' or ']' in array", 0},
    {"trailing_comma", "trailing comma", 0},
    {"leading_zero", "number with a leading zero", 0},
    {"bad_number", "malformed number", 0},
    {"number_range", "number out of range", 0},
    {"bad_literal", "malformed literal (true, false or null)", 0},
    {"bad_escape", "invalid escape in string", 0},
    {"lone_surrogate", "unpaired UTF-16 surrogate in \\u escape", 0},
    {"control_char", "control character in string", 0},
    {"bad_utf8", "invalid UTF-8", 0},
    {"trailing_data", "unexpected data after the JSON value", 0},
    {"too_deep", "nesting too deep", json_max_depth},
    {"string_too_long", "string too long", json_max_string_bytes},
    {"too_many_elements", "too many array elements", json_max_list_elements},
    {"too_many_values", "too many extracted values", json_max_values},
    {"ambiguous_key", "ambiguous key", 0},
}};

static_assert([] {
    for (const auto& row : json_errc_table)
        if (row.name.empty()) return false;
    return true;
}(), "json_errc_table needs one row per json_errc");

inline std::string_view errc_name(json_errc e) { return json_errc_table[static_cast<std::size_t>(e)].name; }

struct json_error {
    std::size_t offset = 0;
    json_errc code = json_errc::empty;
    std::string detail;   // e.g. the ambiguous key and what it collides with

    std::string message() const {
        const auto& row = json_errc_table[static_cast<std::size_t>(code)];
        std::string m(row.message);
        if (row.limit != 0) m += " (limit " + std::to_string(row.limit) + ")";
        if (!detail.empty()) m += ' ' + detail;
        m += " at byte " + std::to_string(offset);
        return m;
    }
};

} // namespace dockpol::rt
