#!/usr/bin/env bash
# examples/deploy/compose.yaml is valid for Debian's docker-compose (v1) and
# carries what a safe deployment needs; a missing DOCKER_GID is refused.
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
file=$repo/examples/deploy/compose.yaml
command -v docker-compose >/dev/null || { echo "SKIP: docker-compose not installed"; exit 77; }
fail=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }

out=$(DOCKER_GID=998 DOCKPOL_VERSION=9.9.9 docker-compose -f "$file" config 2>&1)
rc=$?
check "config accepted" '[ $rc -eq 0 ]'
check "image version from the environment" 'grep -q "image: dockpol/dockpold:9.9.9" <<<"$out"'
check "socket group added" 'grep -Eq "^ *- .?998.?$" <<<"$out"'
check "host network" 'grep -q "network_mode: host" <<<"$out"'
check "non-root user" 'grep -q "user: .\?65532:65532" <<<"$out"'
check "certificates read-only" 'grep -q "/etc/dockpol:/etc/dockpol:ro" <<<"$out"'
check "healthcheck uses probe" 'grep -q "probe" <<<"$out" && grep -q "readyz" <<<"$out"'
check "restart policy" 'grep -q "restart: unless-stopped" <<<"$out"'
check "admin on loopback" 'grep -q -- "--admin=127.0.0.1:9999" <<<"$out"'

out2=$(env -u DOCKER_GID docker-compose -f "$file" config 2>&1)
rc2=$?
check "missing DOCKER_GID refused" '[ $rc2 -ne 0 ] && grep -q "DOCKER_GID" <<<"$out2"'
exit $fail
