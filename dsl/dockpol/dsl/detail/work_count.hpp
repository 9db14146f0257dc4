// A count of the front end's basic steps (AST nodes built, checked and linted,
// source bytes scanned for columns), so a test can bound how the work grows
// with the policy's size by counting instead of timing (check_complexity_test).
// Counted only in a program that defines DOCKPOL_COUNT_WORK before including
// any dockpol header; everywhere else count_work is empty and compiles away.
#pragma once
#include <cstdint>

namespace dockpol::dsl::detail {

#ifdef DOCKPOL_COUNT_WORK
inline std::uint64_t work_done = 0;
inline void count_work(std::uint64_t steps = 1) { work_done += steps; }
#else
inline void count_work(std::uint64_t = 1) {}
#endif

} // namespace dockpol::dsl::detail
