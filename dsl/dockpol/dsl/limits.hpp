// Named limits of the front end. Each is enforced with a `dp-limit` error
// (or the noted code) and proven by a test in tests/unit/check_test.cpp.
#pragma once
#include <cstddef>

namespace dockpol::dsl {

// Policies are reviewed by people; a bigger file is a mistake or an attack on the compiler.
inline constexpr std::size_t max_file_bytes = 1 << 20;
// The sidecar walks rules in order per request; more than this is unreviewable and slow.
inline constexpr std::size_t max_rules = 4096;
// Parentheses, `not` and `any`/`all` recurse in the parser; the bound keeps the stack safe.
inline constexpr std::size_t max_nesting_depth = 32;
// A string literal is a name, a path or a pattern; longer ones are data, not policy.
inline constexpr std::size_t max_string_bytes = 4096;
// Sets are interned in the bundle and bit-tested per request; keep them reviewable.
inline constexpr std::size_t max_set_elements = 4096;
// `--data` files are exported group lists, not databases.
inline constexpr std::size_t max_data_bytes = 4 << 20;
// Inlining `let` names copies their values into every use; this caps the copy.
inline constexpr std::size_t max_checked_nodes = 1 << 20;
// One run reports every error, but a flood hides the first real one (note `dp-truncated`).
inline constexpr std::size_t max_diagnostics = 100;

} // namespace dockpol::dsl
