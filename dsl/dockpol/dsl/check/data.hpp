// Stage load_data: `--data FILE.json` top-level keys become constants
// (strings, numbers, bools, string arrays as sets). The only stage that reads
// JSON, and its errors point into the data file rather than a policy file.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>
#include <tao/pegtl.hpp>

#include "dockpol/dsl/ast.hpp"
#include "dockpol/dsl/check/context.hpp"
#include "dockpol/dsl/detail/text.hpp"
#include "dockpol/dsl/grammar.hpp"
#include "dockpol/dsl/limits.hpp"
#include "dockpol/rt/fields.hpp"

namespace dockpol::dsl::detail {

// A `--data` key names a constant the way a `let` does: the grammar's own
// `name` rule (an identifier that is not a keyword) decides, so the two
// cannot disagree about which words are reserved.
inline bool is_name(std::string_view s) {
    tao::pegtl::memory_input in(s.data(), s.size(), "--data key");
    return tao::pegtl::parse<tao::pegtl::seq<grammar::name, tao::pegtl::eof>>(in);
}

// dp-data at byte `byte` of a data file (its position counts in that file, not a policy).
inline void data_error(check_context& cx, const data_input& in, std::size_t byte, std::string msg) {
    const line_index li(in.json_text);
    diagnostic d;
    d.code = diag_code::data;
    d.sev = code_severity(d.code);
    d.file = in.name;
    d.sp = li.at(data_file, byte, byte + 1);
    d.message = std::move(msg);
    cx.diags.push_back(std::move(d));
}

// `--data` files: top-level object keys → constants (string sets, strings, numbers, bools).
inline void stage_load_data(check_context& cx) {
    for (const auto& in : cx.opts.data) {
        if (in.json_text.size() > max_data_bytes) {
            data_error(cx, in, 0,
                       "data file is " + std::to_string(in.json_text.size()) + " bytes; the limit is " +
                           std::to_string(max_data_bytes));
            cx.data_unread = true;
            continue;
        }
        nlohmann::json j;
        try {
            j = nlohmann::json::parse(in.json_text);
        } catch (const nlohmann::json::parse_error& e) {
            data_error(cx, in, e.byte > 0 ? e.byte - 1 : 0, std::string("malformed JSON: ") + e.what());
            cx.data_unread = true;
            continue;
        }
        if (!j.is_object()) {
            data_error(cx, in, 0, "a data file must be a JSON object whose keys become constants");
            cx.data_unread = true;
            continue;
        }
        for (const auto& item : j.items()) {
            const std::string& key = item.key();
            const nlohmann::json& val = item.value();
            // Point at the key where the file spells it plainly (escaped keys fall back to the start).
            const std::size_t key_at = in.json_text.find("\"" + key + "\"");
            auto fail = [&](std::string why) {
                data_error(cx, in, key_at == std::string::npos ? 0 : key_at, "key \"" + key + "\": " + why);
            };
            // A key with a bad value is still known: its uses fail quietly instead of reading as undefined.
            auto fail_value = [&](std::string why) {
                fail(std::move(why));
                constant c;
                c.st = constant::state::failed;
                c.data_file_name = in.name;
                cx.constants.emplace(key, std::move(c));
            };
            if (!is_name(key)) {
                fail("not a valid name (letters, digits, '_'; not a keyword)");
                continue;
            }
            if (rt::find_field(key)) {
                fail("is a field name");
                continue;
            }
            if (cx.constants.count(key)) {
                fail("is defined twice (also in " + cx.constants[key].data_file_name + ")");
                continue;
            }
            expr v;
            v.sp.file = data_file;
            if (val.is_string()) {
                v.kind = expr_kind::string_lit;
                v.str = val.get<std::string>();
            } else if (val.is_boolean()) {
                v.kind = expr_kind::bool_lit;
                v.boolean = val.get<bool>();
            } else if (val.is_number()) {
                v.kind = expr_kind::number_lit;
                v.num = val.get<double>();
                v.text = val.dump();
            } else if (val.is_array()) {
                v.kind = expr_kind::set_lit;
                bool ok = true;
                for (const auto& el : val) {
                    if (!el.is_string()) {
                        ok = false;
                        break;
                    }
                    expr s;
                    s.kind = expr_kind::string_lit;
                    s.sp.file = data_file;
                    s.str = el.get<std::string>();
                    v.items.push_back(std::move(s));
                }
                if (!ok) {
                    fail_value("arrays must hold strings only (they become sets)");
                    continue;
                }
                if (v.items.size() > max_set_elements) {
                    fail_value("has " + std::to_string(v.items.size()) + " elements; the set limit is " +
                         std::to_string(max_set_elements));
                    continue;
                }
            } else {
                fail_value("must be a string, number, bool or array of strings");
                continue;
            }
            constant c;
            c.st = constant::state::done;
            c.data_file_name = in.name;
            c.value = std::move(v);
            cx.constants.emplace(key, std::move(c));
        }
    }
}

} // namespace dockpol::dsl::detail
