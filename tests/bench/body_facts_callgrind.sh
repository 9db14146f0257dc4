#!/bin/sh
# Instructions per operation of the body-facts bench, counted by callgrind:
# each mode runs twice (N and 2N operations) and the difference divided by N
# is the per-operation cost, free of start-up and setup. Instruction counts
# do not depend on machine load, unlike the timings of body_facts_bench.
#   tests/bench/body_facts_callgrind.sh [BUILD_DIR] [N]
set -eu
build=${1:-build}
n=${2:-2000}
bench="$build/tests/bench/body_facts_bench"
[ -x "$bench" ] || { echo "no $bench: build it first (ninja -C $build tests/bench/body_facts_bench)" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "valgrind not installed" >&2; exit 2; }

# Total instructions (Ir) of one run of MODE with COUNT operations.
ir() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bench" --mode "$1" --iterations "$2" 2>&1 |
        sed -n 's/.*refs: *//p' | tr -d ','
}

# Ir per operation of MODE, from runs of COUNT and 2*COUNT operations.
per_op() {
    a=$(ir "$1" "$2")
    b=$(ir "$1" $((2 * $2)))
    echo $(((b - a) / $2))
}

facts=$(per_op facts "$n")
scan=$(per_op scan "$n")
# The DOM parse costs ~10x more: a tenth of the operations is as precise.
dom=$(per_op dom $((n / 10 > 0 ? n / 10 : 1)))
echo "fill_facts (every container fact): $facts Ir/op"
echo "  validation-only scan:            $scan Ir/op"
echo "nlohmann::json DOM parse:          $dom Ir/op"
awk -v d="$dom" -v f="$facts" 'BEGIN { printf "ratio DOM / fill_facts:            %.1fx\n", d / f }'
