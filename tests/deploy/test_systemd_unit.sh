#!/usr/bin/env bash
# examples/deploy/dockpold.service passes `systemd-analyze verify` and keeps
# the hardening the deployment notes promise. verify needs ExecStart's binary
# to exist, so a copy of the unit points at a stand-in made here.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
unit=$root/examples/deploy/dockpold.service
command -v systemd-analyze >/dev/null || { echo "skip: systemd-analyze missing"; exit 77; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin" "$work/units"
printf '#!/bin/sh\nexit 0\n' > "$work/bin/dockpold"
chmod +x "$work/bin/dockpold"
sed "s|/usr/local/bin/dockpold|$work/bin/dockpold|" "$unit" > "$work/units/dockpold.service"
grep -q "ExecStart=$work/bin/dockpold" "$work/units/dockpold.service"

fail=0
out=$(cd "$work/units" && systemd-analyze verify --man=no ./dockpold.service 2>&1) || {
    echo "systemd-analyze verify failed:"; echo "$out"; fail=1; }
# verify exits 0 on some warnings; any line naming our unit is a problem.
if grep -q 'dockpold.service' <<<"$out"; then
    echo "systemd-analyze verify complained:"; echo "$out"; fail=1
fi

expect() {
    grep -qxF "$1" "$unit" || { echo "missing in unit: $1"; fail=1; }
}
expect 'NoNewPrivileges=yes'
expect 'ProtectSystem=strict'
expect 'ProtectHome=yes'
expect 'CapabilityBoundingSet='
expect 'SupplementaryGroups=docker'
expect 'ExecReload=/bin/kill -HUP $MAINPID'
expect 'Restart=on-failure'
expect 'LogsDirectory=dockpold'
expect 'StateDirectory=dockpold'
expect 'User=dockpold'
# The writable paths the service uses live under its own directories.
grep -q -- '--audit-log /var/log/dockpold/' "$unit" || { echo "audit log not under LogsDirectory"; fail=1; }
grep -q -- '--bundle-cache /var/lib/dockpold/' "$unit" || { echo "bundle cache not under StateDirectory"; fail=1; }
grep -q -- '--admin 127.0.0.1:' "$unit" || { echo "admin listener not on loopback"; fail=1; }
[ $fail = 0 ] && echo "ok: dockpold.service"
exit $fail
