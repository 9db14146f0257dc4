#!/bin/sh
# Instructions per operation of the ownership bench, counted by callgrind
# (how: per_op_callgrind.sh).
#   tests/bench/ownership_callgrind.sh [BUILD_DIR] [N]
set -eu
build=${1:-build}
n=${2:-2000}
bench="$build/tests/bench/ownership_bench"
[ -x "$bench" ] || { echo "no $bench: build it first (ninja -C $build tests/bench/ownership_bench)" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "valgrind not installed" >&2; exit 2; }

. "$(dirname "$0")/per_op_callgrind.sh"

splice=$(per_op splice "$n")
filters=$(per_op filters "$n")
legacy=$(per_op legacy "$n")
target=$(per_op target "$n")
echo "splice_owner_label (container_create): $splice Ir/op"
echo "merge_owner_filter (~2 KB, CLI form):  $filters Ir/op"
echo "merge_owner_filter (~2 KB, legacy):    $legacy Ir/op"
echo "  + replace_query_param:               $target Ir/op"
