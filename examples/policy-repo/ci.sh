#!/usr/bin/env bash
# The merge gate of a dockpol policy repository: format, check, test, build
# (signed) and publish. Any failing step fails the pipeline, so a policy that
# does not pass never reaches the hosts.
#
# Environment:
#   DOCKPOLC             dockpolc binary (default: dockpolc on PATH)
#   DOCKPOL_SIGNING_KEY  Ed25519 private key (PEM) that signs the bundle; when
#                        unset a throwaway key is made and a warning printed
#   DOCKPOL_REVISION     bundle revision (default: the git commit)
#   PUBLISH_DIR          where bundle.dpb, bundle.dpb.sha256 and revision go
#                        (default: ./public); serve it for dockpold --bundle-url
set -euo pipefail

# Relative paths in the environment are the caller's; the steps below run in the repository.
absolute() { case "$1" in /*) printf '%s' "$1" ;; *) printf '%s/%s' "$PWD" "$1" ;; esac; }
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dockpolc=${DOCKPOLC:-dockpolc}
case "$dockpolc" in */*) dockpolc=$(absolute "$dockpolc") ;; esac
publish_dir=$(absolute "${PUBLISH_DIR:-$repo/public}")
key=${DOCKPOL_SIGNING_KEY:-}
[ -z "$key" ] || key=$(absolute "$key")
cd "$repo"

say() { printf '== %s\n' "$*"; }
die() { printf 'ci.sh: FAILED: %s\n' "$*" >&2; exit 1; }

shopt -s nullglob
# Rules are ordered across files by command-line order: the file names' sort order.
policies=(policies/*.dpol)
cases=(cases/*.json)
data_args=()
for f in data/*.json; do data_args+=(--data "$f"); done
shopt -u nullglob
[ ${#policies[@]} -gt 0 ] || die "no policies/*.dpol"
[ ${#cases[@]} -gt 0 ] || die "no cases/*.json: every policy change needs cases"
command -v "$dockpolc" >/dev/null 2>&1 || die "dockpolc not found (set DOCKPOLC)"

say "fmt --check"
"$dockpolc" fmt "${policies[@]}" --check || die "policy files are not canonical; run: dockpolc fmt --write ${policies[*]}"

say "check --werror"
"$dockpolc" check "${policies[@]}" "${data_args[@]}" --werror || die "dockpolc check reported problems (warnings count as errors)"

say "test"
case_args=()
for c in "${cases[@]}"; do case_args+=(--cases "$c"); done
"$dockpolc" test "${policies[@]}" "${data_args[@]}" "${case_args[@]}" || die "policy cases failed"

revision=${DOCKPOL_REVISION:-}
if [ -z "$revision" ]; then
    revision=$(git -C "$repo" rev-parse HEAD 2>/dev/null || true)
fi
[ -n "$revision" ] || die "no revision: not a git checkout and DOCKPOL_REVISION is unset"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -z "$key" ]; then
    echo "ci.sh: warning: DOCKPOL_SIGNING_KEY is not set; signing with a throwaway key," \
         "which hosts running dockpold --bundle-pubkey will reject" >&2
    key=$work/throwaway.pem
    "$dockpolc" keygen -o "$key" --pub "$work/throwaway.pub.pem" >/dev/null || die "dockpolc keygen"
fi
[ -r "$key" ] || die "signing key $key is not readable"

say "build (revision $revision)"
"$dockpolc" build "${policies[@]}" "${data_args[@]}" --werror --sign "$key" --revision "$revision" \
    -o "$work/bundle.dpb" || die "dockpolc build"

say "publish to $publish_dir"
mkdir -p "$publish_dir"
# Each file is written beside its final name and renamed into place: a poller
# (dockpold --bundle-url) never sees a half-written bundle.
(cd "$work" && sha256sum bundle.dpb) > "$work/bundle.dpb.sha256"
printf '%s\n' "$revision" > "$work/revision"
for f in bundle.dpb bundle.dpb.sha256 revision; do
    cp "$work/$f" "$publish_dir/.$f.tmp"
    mv -f "$publish_dir/.$f.tmp" "$publish_dir/$f"
done
say "ok: $publish_dir/bundle.dpb ($revision)"
