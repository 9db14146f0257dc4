#!/usr/bin/env bash
# Instructions per VM decision (tests/bench/decision_bench under callgrind).
# Runs the bench twice, with N and 2N evaluations, and divides the difference
# in executed instructions by N, so setup (compile, load, bind) cancels out.
# Usage: bash tests/bench/decision_callgrind.sh [BUILD_DIR] [N]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
n=${2:-20000}
bench="$build/tests/bench/decision_bench"
[ -x "$bench" ] || { echo "decision_callgrind: build $bench first (ninja -C $build tests/bench/decision_bench)" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "decision_callgrind: valgrind not installed" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
count() {
  valgrind --tool=callgrind --callgrind-out-file="$tmp/out.$1" "$bench" --vm-only "$1" >/dev/null 2>"$tmp/log.$1"
  grep -E '^summary:|^totals:' "$tmp/out.$1" | head -1 | awk '{print $2}'
}
a=$(count "$n")
b=$(count "$((2 * n))")
echo "instructions per decision: $(( (b - a) / n )) (VM evaluate, pre-bound, $n decisions difference)"
