#!/usr/bin/env bash
# Sanitizer CI for dockpol (called from .ci/run):
#   (a) the request-path unit tests built with clang-14 + ASan + UBSan (build-asan/), suite `asan`
#       (tests/unit/meson.build says which; the compiler's code is fuzzed under ASan in (b));
#   (b) beside (a): fuzz/build.sh --one-binary (every target in one binary, fuzz/out/fuzz_all), then
#       a short libFuzzer run of every target with its seed corpus and dictionary, FUZZ_JOBS (default 2)
#       at a time; a crash fails the target and its input is copied to fuzz/crashes/<target>/.
# Prints `fuzzci: PASS name` / `fuzzci: FAIL name` per check and finally
# `fuzzci: N passed, M failed, K skipped`; exits non-zero when anything failed.
#   FUZZ_SECONDS=30   libFuzzer time per target
#   FUZZ_JOBS=2       libFuzzer runs at a time
#   FUZZCI_SKIP_ASAN=1 / FUZZCI_SKIP_FUZZ=1   run one half only
#   FUZZCI_TARGETS="parse_fuzz vm_fuzz"       a subset of targets
set -uo pipefail

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$SRC"
: "${FUZZ_SECONDS:=30}"
: "${ASAN_BUILD:=build-asan}"
: "${OUT:=$SRC/fuzz/out}"
export OUT
LOGS="$SRC/fuzz/out/logs"
mkdir -p "$LOGS"

passed=0
failed=0
skipped=0
pass() { echo "fuzzci: PASS $1"; passed=$((passed + 1)); }
skip() { echo "fuzzci: SKIP $1"; skipped=$((skipped + 1)); }
fail() { echo "fuzzci: FAIL $1"; failed=$((failed + 1)); }

# Sanitizer reports must stop the test and say where.
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"

# Every target of fuzz/targets.txt unless FUZZCI_TARGETS names a subset.
targets="${FUZZCI_TARGETS:-$(awk '!/^#/ && NF {print $1}' "$SRC/fuzz/targets.txt")}"

# ---- (a) ASan + UBSan unit tests, in the background: (b) runs beside it -------
# -O0 (buildtype debug): the sanitizers need no optimiser, and it cuts the compile time.
asan_units() {
    if [ -z "${FUZZCI_SKIP_ASAN:-}" ]; then
        setup_log="$LOGS/asan-setup.log"
        if [ -d "$ASAN_BUILD" ]; then
            CC=clang-14 CXX=clang++-14 meson setup --reconfigure "$ASAN_BUILD" \
                -Db_sanitize=address,undefined -Db_lundef=false --buildtype=debug -Dwerror=true >"$setup_log" 2>&1
        else
            CC=clang-14 CXX=clang++-14 meson setup "$ASAN_BUILD" \
                -Db_sanitize=address,undefined -Db_lundef=false --buildtype=debug -Dwerror=true >"$setup_log" 2>&1
        fi
        setup_rc=$?
        # Only the unit test executables (several tests share one): the full tree is not needed here.
        unit_exes=""
        rm -f "$LOGS/asan-build.log"
        if [ $setup_rc -eq 0 ]; then
            unit_exes=$(meson introspect "$ASAN_BUILD" --tests | python3 -c '
import json, os, sys
root = os.path.abspath(sys.argv[1])
for t in json.load(sys.stdin):
    if any(s.split(":")[-1] == "asan" for s in t["suite"]):
        print(os.path.relpath(t["cmd"][0], root))' "$ASAN_BUILD" | sort -u)
        fi
        if [ $setup_rc -eq 0 ] && [ -n "$unit_exes" ] && ninja -C "$ASAN_BUILD" -j 2 $unit_exes >"$LOGS/asan-build.log" 2>&1; then
            pass "asan_build"
            meson test -C "$ASAN_BUILD" --no-rebuild --suite asan --num-processes 2 --print-errorlogs \
                >"$LOGS/asan-test.log" 2>&1
            # One line per unit test, from meson's machine-readable log.
            while IFS=$'\t' read -r name result; do
                case "$result" in
                    OK|EXPECTEDFAIL) pass "asan:$name" ;;
                    SKIP) skip "asan:$name" ;;
                    *) fail "asan:$name"; grep -B2 -A30 -E "ERROR: AddressSanitizer|runtime error:|FAILED" \
                           "$ASAN_BUILD/meson-logs/testlog.txt" | head -60 ;;
                esac
            done < <(python3 -c '
import json, sys
for line in open(sys.argv[1]):
    t = json.loads(line)
    print("%s\t%s" % (t["name"], t["result"]))' "$ASAN_BUILD/meson-logs/testlog.json" 2>/dev/null)
        else
            fail "asan_build"
            if [ -s "$LOGS/asan-build.log" ]; then grep -E "error|FAILED" "$LOGS/asan-build.log" | head -20
            else tail -20 "$setup_log"; echo "(no unit tests found or meson setup failed)"; fi
        fi
    fi
}
asan_out="$LOGS/asan-part.out"
asan_units >"$asan_out" 2>&1 &
asan_pid=$!

# ---- (b) libFuzzer: a short run per target, two at a time ------------------
# run_target T: one libFuzzer run of T with its seeds and dictionary; the exit status goes to run-T.rc.
run_target() {
    local t="$1" scratch crashes dict=()
    scratch=$(mktemp -d)
    crashes="$SRC/fuzz/crashes/$t"
    mkdir -p "$crashes"
    [ -f "$OUT/$t.dict" ] && dict=(-dict="$OUT/$t.dict")
    # New inputs go to a scratch corpus; the committed seeds are only read (and all run first).
    # A fixed seed (FUZZ_SEED, default 1) makes a red CI run reproducible; longer runs with other seeds find new bugs.
    DOCKPOL_FUZZ_TARGET_NAME="$t" "$OUT/fuzz_all" -seed="${FUZZ_SEED:-1}" -max_total_time="$FUZZ_SECONDS" -timeout=25 \
        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$crashes/" "${dict[@]}" "$scratch" "$SRC/fuzz/corpus/$t" \
        >"$LOGS/run-$t.log" 2>&1
    echo $? >"$LOGS/run-$t.rc"
    rm -rf "$scratch"
}

if [ -z "${FUZZCI_SKIP_FUZZ:-}" ]; then
    # Every target in one binary (build.sh --one-binary: the shared headers compiled once).
    rm -f "$OUT/fuzz_all"
    "$SRC/fuzz/build.sh" --one-binary $targets >"$LOGS/fuzz-build.log" 2>&1
    built=""
    if [ -x "$OUT/fuzz_all" ]; then
        built="$targets"
        pass "fuzz_build"
    else
        fail "fuzz_build"
        grep -E "error:" "$LOGS/fuzz-build.log" | head -10
    fi
    # Each run is one process on one core: FUZZ_JOBS (default 2) at a time.
    # (Only these pids are waited for: (a) runs in the background too.)
    runs=()
    for t in $built; do
        rm -f "$LOGS/run-$t.rc"
        run_target "$t" &
        runs+=($!)
        if [ "${#runs[@]}" -ge "${FUZZ_JOBS:-2}" ]; then
            wait -n -p finished "${runs[@]}"
            for i in "${!runs[@]}"; do [ "${runs[$i]}" = "$finished" ] && unset 'runs[i]'; done
            runs=("${runs[@]}")
        fi
    done
    [ "${#runs[@]}" -eq 0 ] || wait "${runs[@]}"
    for t in $built; do
        rc=$(cat "$LOGS/run-$t.rc" 2>/dev/null || echo "no exit status")
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$LOGS/run-$t.log")
        rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$LOGS/run-$t.log")
        cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$LOGS/run-$t.log" | tail -1)
        echo "  $t: ${execs:-?} runs, ${rate:-?} execs/s, ${cov:-no coverage line}, rc=$rc"
        if [ "$rc" = 0 ]; then
            pass "fuzz:$t"
        else
            fail "fuzz:$t"
            grep -A25 -E "ERROR: |fuzz property violated|runtime error:|Test unit written" "$LOGS/run-$t.log" | head -40
        fi
    done
fi

# (a)'s lines and counts.
wait "$asan_pid"
cat "$asan_out"
passed=$((passed + $(grep -c '^fuzzci: PASS ' "$asan_out")))
failed=$((failed + $(grep -c '^fuzzci: FAIL ' "$asan_out")))
skipped=$((skipped + $(grep -c '^fuzzci: SKIP ' "$asan_out")))

echo "fuzzci: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
