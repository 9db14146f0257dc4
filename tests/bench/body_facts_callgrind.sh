#!/bin/sh
# Instructions per operation of the body-facts bench, counted by callgrind
# (how: per_op_callgrind.sh).
#   tests/bench/body_facts_callgrind.sh [BUILD_DIR] [N]
set -eu
build=${1:-build}
n=${2:-2000}
bench="$build/tests/bench/body_facts_bench"
[ -x "$bench" ] || { echo "no $bench: build it first (ninja -C $build tests/bench/body_facts_bench)" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "valgrind not installed" >&2; exit 2; }

. "$(dirname "$0")/per_op_callgrind.sh"

facts=$(per_op facts "$n")
scan=$(per_op scan "$n")
# The DOM parse costs ~10x more: a tenth of the operations is as precise.
dom=$(per_op dom $((n / 10 > 0 ? n / 10 : 1)))
echo "fill_facts (every container fact): $facts Ir/op"
echo "  validation-only scan:            $scan Ir/op"
echo "nlohmann::json DOM parse:          $dom Ir/op"
awk -v d="$dom" -v f="$facts" 'BEGIN { printf "ratio DOM / fill_facts:            %.1fx\n", d / f }'
