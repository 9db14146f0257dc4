#!/usr/bin/env bash
# dockpol in one command: builds dockpolc and dockpold, makes demo certificates,
# starts a private dockerd and dockpold in front of it with examples/policies/demo.dpol,
# then runs docker commands as two users: one allowed, some denied. Shows the
# audit log and removes everything it started or made.
#
#   sudo bash examples/demo.sh            (root: it starts its own dockerd)
#
# Environment: BUILD_DIR (default: build/ in the source tree); DOCKPOLD and
# DOCKPOLC point at already built binaries and skip the build; DEMO_PORT picks
# the listening port (default 9998; 0, or 9998 taken: a free one).
# Nothing touches a system dockerd: this one has its own data root, exec root
# and socket in a temporary directory.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$root/build}
# Seconds to wait for dockerd and dockpold to come up on a slow machine.
start_timeout=90

bold=""; plain=""
if [ -t 1 ]; then bold=$(tput bold 2>/dev/null || true); plain=$(tput sgr0 2>/dev/null || true); fi
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
die() { echo "demo: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (the demo starts a private dockerd)"
for tool in dockerd docker openssl python3; do
  command -v "$tool" >/dev/null || die "$tool not found (see .ci/run for the Debian packages)"
done
[ -x /bin/busybox ] || die "/bin/busybox not found (apt-get install busybox-static)"

work=$(mktemp -d /tmp/dockpol-demo.XXXXXX)
dockerd_pid=""; dockpold_pid=""
cleanup() {
  set +e
  [ -n "$dockpold_pid" ] && kill "$dockpold_pid" 2>/dev/null && wait "$dockpold_pid" 2>/dev/null
  if [ -n "$dockerd_pid" ]; then
    kill "$dockerd_pid" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$dockerd_pid" 2>/dev/null
  fi
  # containerd shims of our dockerd name its exec root; they are ours to stop.
  for p in $(grep -l -a -F "$work" /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3); do
    [ "$p" != $$ ] && kill -9 "$p" 2>/dev/null
  done
  grep -F " $work/" /proc/self/mounts | cut -d' ' -f2 | sort -r | xargs -r -n1 umount -l 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

step "Build (meson + ninja into ${build#"$root"/})"
if [ -n "${DOCKPOLD:-}" ] && [ -n "${DOCKPOLC:-}" ]; then
  echo "using DOCKPOLD=$DOCKPOLD DOCKPOLC=$DOCKPOLC"
else
  [ -f "$build/build.ninja" ] || meson setup "$build" "$root" >"$work/meson.log" 2>&1 \
    || { cat "$work/meson.log"; die "meson setup failed"; }
  ninja -C "$build" -j 2 dsl/dockpolc sidecar/dockpold || die "build failed"
  DOCKPOLD=$build/sidecar/dockpold DOCKPOLC=$build/dsl/dockpolc
fi

step "Certificates: a CA, the server (localhost, 127.0.0.1), alice (group admins), bob (group dev)"
certs=$work/certs
mk() { bash "$root/examples/certs/make-certs.sh" "$@" >/dev/null; }
mk ca "$certs"
mk server "$certs" --host localhost --ip 127.0.0.1
mk client "$certs" --user alice --group admins
mk client "$certs" --user bob --group dev
for u in alice bob; do
  echo "$u: $(openssl x509 -in "$certs/$u/cert.pem" -noout -subject)"
done

step "Policy: examples/policies/demo.dpol compiled by dockpolc"
"$DOCKPOLC" build "$root/examples/policies/demo.dpol" -o "$work/demo.dpb" --revision demo
sed -n '/^rule\|^default/p' "$root/examples/policies/demo.dpol"

step "A private dockerd (data in $work/dockerd)"
dd_dir=$work/dockerd
mkdir -p "$dd_dir"
sock=$dd_dir/docker.sock
dockerd --iptables=false --ip6tables=false --bridge=none --storage-driver=vfs \
  --data-root "$dd_dir/root" --exec-root "$dd_dir/exec" -H "unix://$sock" \
  --pidfile "$dd_dir/pid" >"$dd_dir/log" 2>&1 &
dockerd_pid=$!
direct() { DOCKER_CONFIG=$work/cli docker -H "unix://$sock" "$@"; }
for _ in $(seq 1 $((start_timeout * 5))); do
  direct version >/dev/null 2>&1 && break
  kill -0 "$dockerd_pid" 2>/dev/null || { tail -20 "$dd_dir/log"; die "dockerd exited"; }
  sleep 0.2
done
direct version --format 'dockerd {{.Server.Version}} (API {{.Server.APIVersion}})' \
  || { tail -20 "$dd_dir/log"; die "dockerd did not start"; }

step "Image 'bb' imported directly (busybox-static plus applet links)"
rootfs=$work/rootfs
mkdir -p "$rootfs/bin" "$rootfs/tmp" "$rootfs/etc"
cp /bin/busybox "$rootfs/bin/busybox"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$rootfs/bin/$a"; done
tar -C "$rootfs" -c . | direct import -c 'CMD ["/bin/sh"]' - bb:latest

step "dockpold in front of it"
port=${DEMO_PORT:-9998}
if [ "$port" = 0 ] || ss -ltnH "sport = :$port" 2>/dev/null | grep -q .; then
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
fi
audit=$work/audit.jsonl
dockpold_cmd=("$DOCKPOLD" --listen "127.0.0.1:$port"
  --tls-cert "$certs/server/cert.pem" --tls-key "$certs/server/key.pem" --tls-client-ca "$certs/ca.pem"
  --bundle "$work/demo.dpb" --docker "unix://$sock" --host-name demo-host --audit-log "$audit")
echo "+ dockpold --listen 127.0.0.1:$port --tls-cert … --tls-key … --tls-client-ca … --bundle demo.dpb --docker unix://…/docker.sock --audit-log audit.jsonl"
"${dockpold_cmd[@]}" >"$work/dockpold.log" 2>&1 &
dockpold_pid=$!

# The docker CLI of USER, through dockpold with USER's client certificate.
as() {
  local user=$1; shift
  DOCKER_HOST=tcp://127.0.0.1:$port DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=$certs/$user \
    DOCKER_CONFIG=$work/cli docker "$@"
}
for _ in $(seq 1 $((start_timeout * 5))); do
  as alice version >/dev/null 2>&1 && break
  kill -0 "$dockpold_pid" 2>/dev/null || { cat "$work/dockpold.log"; die "dockpold exited"; }
  sleep 0.2
done
as alice version --format 'docker CLI {{.Client.Version}} -> dockpold -> dockerd {{.Server.Version}}' \
  || { cat "$work/dockpold.log"; die "dockpold did not start"; }

failures=0
# demo USER EXPECT(allow|deny) DOCKER-ARGS...: runs, shows output, checks the outcome.
demo() {
  local user=$1 expect=$2; shift 2
  printf '\n%s$ docker %s%s   # as %s, expect %s\n' "$bold" "$*" "$plain" "$user" "$expect"
  local rc=0 out
  out=$(as "$user" "$@" 2>&1) || rc=$?
  [ -n "$out" ] && printf '%s\n' "$out"
  echo "(exit $rc)"
  if [ "$expect" = allow ] && [ $rc -ne 0 ]; then failures=$((failures + 1)); echo "!! expected success"; fi
  if [ "$expect" = deny ] && ! grep -q "\[dockpol\] The command '.*' denied for user '$user'" <<<"$out"; then
    failures=$((failures + 1)); echo "!! expected a dockpol denial"
  fi
}

step "Allowed and denied commands"
demo bob allow ps -a
demo bob allow run --rm bb echo "hello from bob's container"
demo alice allow network create demo-net
demo alice allow network rm demo-net
demo bob deny network create bobs-net
demo bob deny run --privileged bb true
demo alice deny run --privileged bb true

step "Audit log (one JSON line per request; dockpold stopped first so it is flushed)"
kill "$dockpold_pid"; wait "$dockpold_pid" 2>/dev/null || true; dockpold_pid=""
if [ -s "$audit" ]; then
  python3 - "$audit" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    try:
        e = json.loads(line)
    except ValueError:
        print(line.rstrip()); continue
    if "checkpoint" in e:  # the chain's seals (docs/request-model.md#tamper-evident-chain)
        continue
    print(f'{e.get("user","?"):6} {e.get("decision","?"):5} {e.get("action","?"):20} '
          f'rule={e.get("rule","?"):14} status={e.get("status","?")} {e.get("method","")} {e.get("path","")}')
PY
  echo "(raw first request line: $(sed -n 2p "$audit"))"
  "$DOCKPOLC" audit-verify "$audit" || failures=$((failures + 1))
else
  echo "(audit log empty)"; failures=$((failures + 1))
fi

step "Rolling out a policy: learn a draft from this log, test it, compare it with the live policy"
echo "+ dockpolc learn audit.jsonl -o draft.dpol --cases draft.cases.json"
if "$DOCKPOLC" learn "$audit" -o "$work/draft.dpol" --cases "$work/draft.cases.json"; then
  grep -v '^#' "$work/draft.dpol" | cat -s
  echo "+ dockpolc check --werror draft.dpol && dockpolc test draft.dpol --cases draft.cases.json"
  "$DOCKPOLC" check --werror "$work/draft.dpol" && "$DOCKPOLC" test "$work/draft.dpol" --cases "$work/draft.cases.json" \
    || failures=$((failures + 1))
  # Exit 0: every request of the log is decided as before (exit 1 would list those that change); what the
  # draft denies that demo.dpol allows is what nobody did yet, which the shadow shows next.
  echo "+ dockpolc diff demo.dpol draft.dpol --against audit.jsonl"
  rc=0; "$DOCKPOLC" diff "$root/examples/policies/demo.dpol" "$work/draft.dpol" --against "$audit" || rc=$?
  [ $rc -le 1 ] || failures=$((failures + 1))
  "$DOCKPOLC" build "$work/draft.dpol" -o "$work/draft.dpb" --revision draft >/dev/null || failures=$((failures + 1))
else
  failures=$((failures + 1))
fi

step "Shadow, then promote: the draft decides next to the live policy, then takes over"
admin_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
admin() { python3 - "$admin_port" "$@" <<'PY'
import json, sys, urllib.request
port, method, path = sys.argv[1], sys.argv[2], sys.argv[3]
req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method)
try:
    body = urllib.request.urlopen(req, timeout=10).read()
except urllib.error.HTTPError as e:
    body = e.read()
j = json.loads(body)
keep = ("revision", "requests", "disagreements", "by_action", "last_error")
print(json.dumps({k: j[k] for k in keep if k in j}, indent=1))
PY
}
echo "+ dockpold … --bundle demo.dpb --shadow-bundle draft.dpb --admin 127.0.0.1:$admin_port"
"${dockpold_cmd[@]}" --shadow-bundle "$work/draft.dpb" --admin "127.0.0.1:$admin_port" >>"$work/dockpold.log" 2>&1 &
dockpold_pid=$!
for _ in $(seq 1 $((start_timeout * 5))); do as alice version >/dev/null 2>&1 && break; sleep 0.2; done
demo bob allow ps -a
# Never in the log, so the draft would deny it: a disagreement, while the live policy still allows it.
demo bob allow volume ls
echo "+ curl 127.0.0.1:$admin_port/v1/shadow"
admin GET /v1/shadow || failures=$((failures + 1))
echo "+ curl -X POST 127.0.0.1:$admin_port/v1/shadow/promote"
admin POST /v1/shadow/promote || failures=$((failures + 1))
demo bob allow ps -a
demo bob deny volume ls
kill "$dockpold_pid"; wait "$dockpold_pid" 2>/dev/null || true; dockpold_pid=""

step "Done"
if [ "$failures" -ne 0 ]; then
  echo "$failures step(s) did not behave as expected; dockpold's log:"; tail -20 "$work/dockpold.log"
  exit 1
fi
echo "Everything behaved as expected. Cleaning up."
