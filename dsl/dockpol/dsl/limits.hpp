// Named limits of the front end (limits.def), plus the runtime's string limit
// the front end enforces itself so no compiled policy fails the verifier.
#pragma once
#include <array>
#include <cstddef>
#include <span>

#include "dockpol/rt/limits.hpp"

namespace dockpol::dsl {

#define LIMIT(name, value, unit, reason) inline constexpr std::size_t name = value;
#include "dockpol/dsl/limits.def"
#undef LIMIT

// A string literal is a name, a path or a pattern: the bundle's bound (rt::limits) is the language's.
inline constexpr std::size_t max_string_bytes = rt::limits::max_string_bytes;

// Lowering appends builtin_ping and keeps sets as written; the bundle must still fit the runtime.
static_assert(max_rules < rt::limits::max_rules, "dsl max_rules (+ builtin_ping) must fit rt::limits::max_rules");
static_assert(max_set_elements <= rt::limits::max_set_size, "dsl max_set_elements must fit rt::limits::max_set_size");

namespace detail {
inline constexpr std::array compiler_limit_table = {
#define LIMIT(name, value, unit, reason) rt::limit_row{#name, name, rt::limit_unit::unit, reason},
#include "dockpol/dsl/limits.def"
#undef LIMIT
};
} // namespace detail

// The rows in limits.def order.
inline std::span<const rt::limit_row> compiler_limits() { return detail::compiler_limit_table; }

} // namespace dockpol::dsl
