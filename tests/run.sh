#!/usr/bin/env bash
# Builds dockpol and runs every test (unit, golden, examples, fuzz replay,
# end-to-end). Prints a final line `tests: N passed, M failed`.
# Usage: bash tests/run.sh [BUILD_DIR] [-- meson test args]
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
shift || true
[ "${1:-}" = "--" ] && shift

if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" "$root" >/dev/null || { echo "tests: 0 passed, 1 failed"; exit 1; }
fi
if ! ninja -C "$build" >"$build/ninja.log" 2>&1; then
  tail -50 "$build/ninja.log"
  echo "build failed"
  echo "tests: 0 passed, 1 failed"
  exit 1
fi
meson test -C "$build" --print-errorlogs --num-processes 2 "$@"
rc=$?
python3 - "$build/meson-logs/testlog.json" <<'PY'
import json, sys
passed = failed = 0
try:
    with open(sys.argv[1]) as f:
        for line in f:
            r = json.loads(line)
            if r.get("result") in ("OK", "EXPECTEDFAIL", "SKIP"):
                passed += 1
            else:
                failed += 1
                print("FAILED:", r.get("name"), r.get("result"))
except FileNotFoundError:
    failed = 1
print(f"tests: {passed} passed, {failed} failed")
PY
exit $rc
