// Named limits of the projection scanner. The body size itself is the
// caller's limit (dockpold enforces --max-body-inspect before scanning).
#pragma once
#include <cstddef>

namespace dockpol::rt {

// Nesting of objects/arrays: Docker bodies nest fewer than 10 levels; this
// bounds the scanner's recursion (and so its stack) on hostile input.
inline constexpr std::size_t json_max_depth = 64;

// Bytes of one extracted (decoded) string or escaped key: longer than any
// path, label, image reference or command line a client sends; bounds copies.
inline constexpr std::size_t json_max_string_bytes = 128 * 1024;

// Elements kept of one wanted array: more is an error, never a silent
// truncation that could hide a bind mount behind element 4097.
inline constexpr std::size_t json_max_list_elements = 4096;

// Values extracted by one scan, in total: bounds the memory a request's
// extraction can allocate whatever its shape.
inline constexpr std::size_t json_max_values = 16384;

// Nodes of one projection: the paths one policy reads, with room to spare;
// bounds the per-key matching work.
inline constexpr std::size_t json_max_nodes = 1024;

} // namespace dockpol::rt
