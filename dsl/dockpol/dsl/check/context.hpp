// The state every check stage shares: the policy and its `--data` files,
// the diagnostics, the table of constants and each rule's checked condition,
// and `report`. Each stage header depends on this, not on the other stages.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "dockpol/dsl/ast.hpp"
#include "dockpol/dsl/check/types.hpp"
#include "dockpol/dsl/detail/text.hpp"
#include "dockpol/dsl/diagnostic.hpp"

namespace dockpol::dsl {

// `--data FILE.json`: its top-level keys become global constants.
struct data_input {
    std::string name;
    std::string json_text;
};
struct front_options {
    std::vector<data_input> data;
};

} // namespace dockpol::dsl

namespace dockpol::dsl::detail {

// Spans of values that come from `--data` (no policy file); replaced by the use site when inlined.
inline constexpr std::uint32_t data_file = 0xFFFFFFFFu;

// A `let` or `--data` constant.
struct constant {
    enum class state { unvisited, visiting, done, failed };
    state st = state::unvisited;
    std::optional<std::size_t> let_index;   // none for --data
    std::string data_file_name;
    expr value;                             // resolved value once done
};

// The loop variable in scope inside an any/all predicate.
struct scope {
    const std::string* var = nullptr;
    vtype elem = vtype::string;
    std::string list_name;
};

// What the stages read and write, in the order check_stages runs them.
struct check_context {
    const policy& pol;
    const front_options& opts;
    std::vector<diagnostic>& diags;
    std::map<std::string, constant, std::less<>> constants;
    checked_policy out;
    std::vector<std::optional<expr>> rule_conds;   // parallel to pol.rules; set when the rule checked clean
    std::vector<bool> rule_ok;
    std::size_t nodes = 0;
    bool node_limit_reported = false;
    // A `--data` file could not be read as a whole: any unknown name may be one of its keys.
    bool data_unread = false;

    // The severity is the code's own (diagnostics.def).
    void report(diag_code code, span sp, std::string msg, std::string help = {}) {
        diags.push_back(make_diag(pol.files, code, sp, std::move(msg), std::move(help)));
    }
    std::string where(span sp) const {
        return (sp.file < pol.files.size() ? pol.files[sp.file].name : std::string("?")) + ":" +
               std::to_string(sp.line) + ":" + std::to_string(sp.column);
    }
};

// "did you mean `x`?" for closest_match's answer (quoted as a string when `quote`), or nothing.
inline std::string did_you_mean(const std::optional<std::string>& s, bool quote = false) {
    if (!s) return {};
    return "did you mean " + (quote ? quote_string(*s) : "`" + *s + "`") + "?";
}

} // namespace dockpol::dsl::detail
