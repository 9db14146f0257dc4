// The runtime's named limits (limits.def): `rt::limits::NAME` for code, and
// the rows themselves for messages and the reference page (docs/limits.md).
#pragma once
#include <array>
#include <cstddef>
#include <span>
#include <string_view>

namespace dockpol::rt {

enum class limit_unit { bytes, count };

// One row of a limits table (the runtime's here, the compiler's in dsl/limits.def).
struct limit_row {
    std::string_view name;
    std::size_t value;
    limit_unit unit;
    std::string_view reason;
};

inline constexpr std::string_view unit_name(limit_unit u) { return u == limit_unit::bytes ? "bytes" : "count"; }

namespace limits {
#define LIMIT(name, value, unit, reason) inline constexpr std::size_t name = value;
#include "dockpol/rt/limits.def"
#undef LIMIT
} // namespace limits

namespace detail {
inline constexpr std::array runtime_limit_table = {
#define LIMIT(name, value, unit, reason) limit_row{#name, limits::name, limit_unit::unit, reason},
#include "dockpol/rt/limits.def"
#undef LIMIT
};
} // namespace detail

// The rows in limits.def order.
inline std::span<const limit_row> runtime_limits() { return detail::runtime_limit_table; }

} // namespace dockpol::rt
