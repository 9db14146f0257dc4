#!/usr/bin/env bash
# Entry point for the peer benchmark: dockpold against stunnel, HAProxy, nginx and
# Caddy in front of the same dockerd (tests/bench/peer_bench.py runs it).
#   ./run.sh [bench.py options]          e.g. ./run.sh --reps 3 --frontends direct,haproxy,nginx
#   PBENCH_INSTALL=1 ./run.sh ...         apt-get install the tools first (Debian 12)
#   PBENCH_SIDECAR_CMD='/path/to/sidecar --listen 127.0.0.1:{port} --cert {cert} --key {key} --ca {ca} --docker {socket}' ./run.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=${PBENCH_ROOT:-/tmp/pbench}
mkdir -p "$root"
if [[ ${PBENCH_INSTALL:-0} == 1 ]]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    haproxy nginx-light caddy stunnel4 socat openssl libssl-dev g++ python3 >/dev/null
fi
missing=()
for t in docker dockerd openssl socat haproxy nginx caddy stunnel g++ python3; do
  command -v "$t" >/dev/null || missing+=("$t")
done
if ((${#missing[@]})); then
  echo "missing tools: ${missing[*]} (PBENCH_INSTALL=1 installs haproxy nginx-light caddy stunnel4 socat libssl-dev from apt)" >&2
  exit 2
fi
if [[ ! -x $root/pbload || $here/../pbload.cc -nt $root/pbload ]]; then
  g++ -O2 -std=c++17 -pthread "$here/../pbload.cc" -o "$root/pbload" -lssl -lcrypto
fi
exec python3 "$here/bench.py" --root "$root" --pbload "$root/pbload" "$@"
