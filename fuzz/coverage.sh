#!/usr/bin/env bash
# Source coverage the corpora reach: builds every target with replay_main.cpp
# under clang-14 -fprofile-instr-generate -fcoverage-mapping (no sanitizers,
# no libFuzzer), replays fuzz/corpus/<target>/ (plus any extra directories
# given in $EXTRA_CORPUS_<target>), and prints llvm-cov-14's TOTAL line per
# target over the project's own headers (runtime/, dsl/, sidecar/).
#   fuzz/coverage.sh                   # every target
#   fuzz/coverage.sh parse_fuzz        # one target; FILES=1 adds the per-file table
set -euo pipefail

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${OUT:-$SRC/fuzz/out}/cov"
# The targets, from fuzz/targets.txt (the one list; see its header).
ALL_TARGETS="$(awk '!/^#/ && NF {print $1}' "$SRC/fuzz/targets.txt")"
TARGETS="${*:-$ALL_TARGETS}"
mkdir -p "$OUT"
IGNORE='(/usr/|fuzz/)'

for t in $TARGETS; do
    # Same defines as meson.build and build.sh: Boost assertions go through sidecar/boost_assert_handler.cpp.
    clang++-14 -std=c++20 -O1 -fprofile-instr-generate -fcoverage-mapping -DFMT_HEADER_ONLY -DBOOST_ENABLE_ASSERT_HANDLER \
        -I"$SRC" -I"$SRC/runtime" -I"$SRC/dsl" "$SRC/fuzz/$t.cpp" "$SRC/fuzz/replay_main.cpp" \
        "$SRC/sidecar/boost_assert_handler.cpp" -lcrypto -o "$OUT/$t"
    rm -f "$OUT/$t".*.profraw
    extra_var="EXTRA_CORPUS_$t"
    LLVM_PROFILE_FILE="$OUT/$t.%p.profraw" "$OUT/$t" "$SRC/fuzz/corpus/$t" ${!extra_var:-} >/dev/null 2>&1
    llvm-profdata-14 merge -sparse "$OUT/$t".*.profraw -o "$OUT/$t.profdata"
    rm -f "$OUT/$t".*.profraw
    total=$(llvm-cov-14 report "$OUT/$t" -instr-profile="$OUT/$t.profdata" -ignore-filename-regex="$IGNORE" | grep '^TOTAL')
    # TOTAL  regions missed cover  functions missed executed  lines missed cover  branches missed cover
    echo "$t: $(echo "$total" | awk '{printf "regions %s, functions %s, lines %s (%s lines), branches %s", $4, $7, $10, $8, $13}')"
    if [ -n "${FILES:-}" ]; then
        llvm-cov-14 report "$OUT/$t" -instr-profile="$OUT/$t.profdata" -ignore-filename-regex="$IGNORE" |
            awk 'NR>2 && $1 != "TOTAL" && NF > 10 {printf "    %-60s lines %s\n", $1, $10}'
    fi
done
