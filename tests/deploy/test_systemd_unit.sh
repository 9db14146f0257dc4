#!/usr/bin/env bash
# examples/deploy/dockpold.service and dockpold-plugin.service pass
# `systemd-analyze verify` and keep the hardening the deployment notes
# promise. verify needs ExecStart's binary to exist, so a copy of each unit
# points at a stand-in made here.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
command -v systemd-analyze >/dev/null || { echo "skip: systemd-analyze missing"; exit 77; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin" "$work/units"
printf '#!/bin/sh\nexit 0\n' > "$work/bin/dockpold"
chmod +x "$work/bin/dockpold"

fail=0
# verify NAME: the unit passes systemd-analyze verify with the stand-in binary.
verify() {
    local name=$1
    sed "s|/usr/local/bin/dockpold|$work/bin/dockpold|" "$root/examples/deploy/$name" > "$work/units/$name"
    grep -q "ExecStart=$work/bin/dockpold" "$work/units/$name"
    local out
    out=$(cd "$work/units" && systemd-analyze verify --man=no "./$name" 2>&1) || {
        echo "systemd-analyze verify $name failed:"; echo "$out"; fail=1; }
    # verify exits 0 on some warnings; any line naming our unit is a problem.
    if grep -q "$name" <<<"$out"; then
        echo "systemd-analyze verify complained about $name:"; echo "$out"; fail=1
    fi
}
# expect UNIT LINE: the unit has this exact line.
expect() {
    grep -qxF "$2" "$root/examples/deploy/$1" || { echo "missing in $1: $2"; fail=1; }
}
hardened() {
    expect "$1" 'NoNewPrivileges=yes'
    expect "$1" 'ProtectSystem=strict'
    expect "$1" 'ProtectHome=yes'
    expect "$1" 'CapabilityBoundingSet='
    expect "$1" 'ExecReload=/bin/kill -HUP $MAINPID'
    expect "$1" 'User=dockpold'
}

unit=$root/examples/deploy/dockpold.service
verify dockpold.service
hardened dockpold.service
expect dockpold.service 'SupplementaryGroups=docker'
expect dockpold.service 'Restart=on-failure'
expect dockpold.service 'LogsDirectory=dockpold'
expect dockpold.service 'StateDirectory=dockpold'
# The writable paths the service uses live under its own directories.
grep -q -- '--audit-log /var/log/dockpold/' "$unit" || { echo "audit log not under LogsDirectory"; fail=1; }
grep -q -- '--bundle-cache /var/lib/dockpold/' "$unit" || { echo "bundle cache not under StateDirectory"; fail=1; }
grep -q -- '--admin 127.0.0.1:' "$unit" || { echo "admin listener not on loopback"; fail=1; }

# The plugin: up before dockerd, back at once when it stops (dockerd refuses
# every request meanwhile), its socket where dockpol.spec tells dockerd to look.
plugin=$root/examples/deploy/dockpold-plugin.service
verify dockpold-plugin.service
hardened dockpold-plugin.service
expect dockpold-plugin.service 'Before=docker.service'
expect dockpold-plugin.service 'Restart=always'
expect dockpold-plugin.service 'RuntimeDirectory=dockpold-plugin'
# No way to dockerd's socket: the plugin only answers it.
if grep -q 'SupplementaryGroups=docker' "$plugin"; then echo "the plugin must not be in group docker"; fail=1; fi
sock=$(sed -n 's|^unix://||p' "$root/examples/deploy/dockpol.spec")
grep -q -- "--socket $sock" "$plugin" || { echo "dockpol.spec names $sock, the unit another socket"; fail=1; }
grep -q -- '--audit-log /var/log/dockpold-plugin/' "$plugin" || { echo "plugin audit log not under LogsDirectory"; fail=1; }
grep -q -- '--bundle-cache /var/lib/dockpold-plugin/' "$plugin" || { echo "plugin bundle cache not under StateDirectory"; fail=1; }
[ $fail = 0 ] && echo "ok: dockpold.service, dockpold-plugin.service"
exit $fail
