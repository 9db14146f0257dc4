#!/bin/sh
# Instructions per operation of the ownership bench, counted by callgrind:
# each mode runs twice (N and 2N operations) and the difference divided by N
# is the per-operation cost, free of start-up and setup. Instruction counts
# do not depend on machine load, unlike the timings of ownership_bench.
#   tests/bench/ownership_callgrind.sh [BUILD_DIR] [N]
set -eu
build=${1:-build}
n=${2:-2000}
bench="$build/tests/bench/ownership_bench"
[ -x "$bench" ] || { echo "no $bench: build it first (ninja -C $build tests/bench/ownership_bench)" >&2; exit 2; }
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

splice=$(per_op splice "$n")
filters=$(per_op filters "$n")
legacy=$(per_op legacy "$n")
target=$(per_op target "$n")
echo "splice_owner_label (container_create): $splice Ir/op"
echo "merge_owner_filter (~2 KB, CLI form):  $filters Ir/op"
echo "merge_owner_filter (~2 KB, legacy):    $legacy Ir/op"
echo "  + replace_query_param:               $target Ir/op"
