#!/usr/bin/env bash
# dockpold vs dockerd's own socket (see proxy_bench.py). Needs root, dockerd, docker, busybox-static, g++.
#   tests/bench/proxy_bench.sh [--quick] [--reps N] [--duration S] [--big-mib M] ...
#   BUILD=build-main tests/bench/proxy_bench.sh        # binaries from another build dir (default: build)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-build}
[[ $build = /* ]] || build=$root/$build
dockpold=${DOCKPOLD:-$build/sidecar/dockpold}
dockpolc=${DOCKPOLC:-$build/dsl/dockpolc}
hop_relay=$build/tests/bench/hop_relay
for f in "$dockpold" "$dockpolc" "$hop_relay"; do
  [[ -x $f ]] || { echo "not found: $f (set BUILD=<meson build dir> or DOCKPOLD/DOCKPOLC)" >&2; exit 2; }
done
exec python3 "$root/tests/bench/proxy_bench.py" --dockpold "$dockpold" --dockpolc "$dockpolc" --hop-relay "$hop_relay" "$@"
