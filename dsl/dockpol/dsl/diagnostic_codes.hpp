// The diagnostic codes as an enum, from diagnostics.def: a misspelt code is a
// compile error, and each code's severity and meaning live in one row.
#pragma once
#include <array>
#include <cstdint>
#include <string_view>

namespace dockpol::dsl {

enum class severity { error, warning, note };

enum class diag_code : std::uint8_t {
#define DOCKPOL_DIAG(id, code, sev, meaning) id,
#include "dockpol/dsl/diagnostics.def"
#undef DOCKPOL_DIAG
};

struct diag_code_row {
    diag_code id;
    std::string_view code;   // "dp-type": what users see
    severity sev;
    std::string_view meaning;
};

inline constexpr std::array diag_code_rows = {
#define DOCKPOL_DIAG(id, code, sev, meaning) diag_code_row{diag_code::id, code, severity::sev, meaning},
#include "dockpol/dsl/diagnostics.def"
#undef DOCKPOL_DIAG
};

constexpr const diag_code_row& row_of(diag_code c) { return diag_code_rows[static_cast<std::size_t>(c)]; }
constexpr std::string_view code_name(diag_code c) { return row_of(c).code; }
constexpr severity code_severity(diag_code c) { return row_of(c).sev; }

// The rows are in enum order, so row_of is an index.
static_assert([] {
    for (std::size_t i = 0; i < diag_code_rows.size(); ++i)
        if (static_cast<std::size_t>(diag_code_rows[i].id) != i) return false;
    return true;
}());

} // namespace dockpol::dsl
