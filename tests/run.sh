#!/usr/bin/env bash
# Builds dockpol and runs every test: unit, golden, examples' cases, CLI,
# fuzz-corpus replay, end-to-end (real dockerd + docker CLI), and beside them
# the sanitizer half (ASan+UBSan unit tests and a short libFuzzer run per
# target, fuzz/ci.sh, at lower priority). Prints a final line `tests: N passed, M failed, K skipped`;
# a skip is never a pass, and under CI (CI=true) every test must run, so a
# skipped one fails the run.
# Usage: bash tests/run.sh [BUILD_DIR]
#   DOCKPOL_SKIP_SANITIZE=1  skip fuzz/ci.sh (quick local runs); the request-path unit tests,
#                            which fuzz/ci.sh runs under ASan, are then built and run here
#   FUZZ_SECONDS=N           libFuzzer time per target (default 30)
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
cd "$root"

passed=0
failed=0
skipped=0
finish() {
  echo "tests: $passed passed, $failed failed, $skipped skipped"
  if [ "$failed" -ne 0 ]; then exit 1; fi
  if [ "$skipped" -ne 0 ] && [ "${CI:-}" = "true" ]; then echo "CI runs every test: $skipped skipped"; exit 1; fi
  exit 0
}

# The request-path unit tests (suite asan) run in the sanitizer half; without it, they are built here.
sanitizer_half=true
if [ -n "${DOCKPOL_SKIP_SANITIZE:-}" ]; then sanitizer_half=false; fi
if [ ! -f "$build/build.ninja" ]; then
  if ! meson setup "$build" "$root" -Dsanitizer_half=$sanitizer_half >"/tmp/dockpol-meson-setup.log" 2>&1; then
    tail -30 /tmp/dockpol-meson-setup.log; failed=1; finish
  fi
elif [ "$sanitizer_half" = false ] && meson introspect "$build" --buildoptions 2>/dev/null |
    python3 -c 'import json,sys; sys.exit(0 if any(o["name"] == "sanitizer_half" and o["value"] for o in json.load(sys.stdin)) else 1)'; then
  meson configure "$build" -Dsanitizer_half=false >/dev/null
fi

# The sanitizer half (its own clang build, then libFuzzer runs) starts first, at
# lower priority: it takes the CPU the release build leaves (its serial tail),
# then runs beside the tests, which mostly wait on dockerd and the docker CLI.
fuzz_log=$(mktemp)
fuzz_pid=""
if [ -z "${DOCKPOL_SKIP_SANITIZE:-}" ]; then
  nice -n 10 bash "$root/fuzz/ci.sh" >"$fuzz_log" 2>&1 &
  fuzz_pid=$!
fi

if ! ninja -C "$build" -j 2 >"$build/ninja.log" 2>&1; then
  grep -E "error|FAILED" "$build/ninja.log" | head -40
  echo "build failed (full log: $build/ninja.log)"
  if [ -n "$fuzz_pid" ]; then pkill -P "$fuzz_pid"; kill "$fuzz_pid" 2>/dev/null; fi
  failed=1; finish
fi

meson test -C "$build" --no-rebuild --print-errorlogs --num-processes 2
counts=$(python3 - "$build/meson-logs/testlog.json" <<'PY'
import json, sys
p = f = s = 0
try:
    for line in open(sys.argv[1]):
        r = json.loads(line)
        if r.get("result") in ("OK", "EXPECTEDFAIL"):
            p += 1
        elif r.get("result") == "SKIP":
            s += 1
            print("SKIPPED:", r.get("name"), file=sys.stderr)
        else:
            f += 1
            print("FAILED:", r.get("name"), r.get("result"), file=sys.stderr)
except FileNotFoundError:
    f = 1
print(p, f, s)
PY
)
read -r p f s <<<"$counts"
passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))

if [ -n "$fuzz_pid" ]; then
  wait "$fuzz_pid"
  cat "$fuzz_log"
  out=$(sed -n 's/^fuzzci: \([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\1 \2 \3/p' "$fuzz_log" | tail -1)
  rm -f "$fuzz_log"
  if [ -n "$out" ]; then
    read -r p f s <<<"$out"
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
  else
    echo "fuzz/ci.sh printed no summary"; failed=$((failed + 1))
  fi
fi
finish
