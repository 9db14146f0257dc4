#!/usr/bin/env bash
# examples/policy-repo/ci.sh is the merge gate: it passes as shipped and
# publishes a verified, signed bundle; each planted problem (broken case,
# unknown action, shadowed rule, non-canonical file) fails it with the
# diagnostic that names the problem, and publishes nothing.
# usage: test_policy_repo.sh [DOCKPOLC]
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
export DOCKPOLC=${1:-${DOCKPOLC:-dockpolc}}
repo_src=$root/examples/policy-repo
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# fresh_repo NAME: a copy of the policy repository to plant a problem in.
fresh_repo() {
    rm -rf "$work/$1"
    cp -r "$repo_src" "$work/$1"
    rm -rf "$work/$1/public"
    echo "$work/$1"
}

# run_ci DIR: runs ci.sh, output in $work/out, exit status in $rc.
run_ci() {
    DOCKPOL_REVISION=${REV:-rev-test} PUBLISH_DIR="$1/public" "$1/ci.sh" > "$work/out" 2>&1
    rc=$?
}

# expect_failure NAME DIR PATTERN...: ci.sh exits 1, prints every pattern, publishes nothing.
expect_failure() {
    local name=$1 dir=$2 before=$failures; shift 2
    run_ci "$dir"
    [ "$rc" = 1 ] || fail "$name: exit $rc, want 1"
    for p in "$@"; do
        grep -qE -- "$p" "$work/out" || fail "$name: output lacks /$p/"
    done
    [ ! -e "$dir/public/bundle.dpb" ] || fail "$name: published a bundle"
    if [ "$failures" != "$before" ]; then sed 's/^/    | /' "$work/out"; fi
}

# --- as shipped: passes and publishes bundle, checksum and revision.
d=$(fresh_repo shipped)
key=$work/signing.pem
"$DOCKPOLC" keygen -o "$key" --pub "$work/signing.pub.pem" >/dev/null || fail "keygen"
DOCKPOL_SIGNING_KEY=$key REV=rev-shipped run_ci "$d"
[ "$rc" = 0 ] || { fail "shipped repo: exit $rc"; sed 's/^/    | /' "$work/out"; }
grep -q 'warning: DOCKPOL_SIGNING_KEY' "$work/out" && fail "shipped repo: throwaway-key warning with a key set"
for f in bundle.dpb bundle.dpb.sha256 revision; do
    [ -s "$d/public/$f" ] || fail "shipped repo: $f not published"
done
[ "$(cat "$d/public/revision" 2>/dev/null)" = rev-shipped ] || fail "revision file is not DOCKPOL_REVISION"
(cd "$d/public" && sha256sum -c --quiet bundle.dpb.sha256) || fail "bundle.dpb.sha256 does not match"
"$DOCKPOLC" inspect "$d/public/bundle.dpb" > "$work/inspect" 2>&1 || fail "inspect of the published bundle"
grep -q 'revision "rev-shipped"' "$work/inspect" || fail "bundle revision is not rev-shipped"
grep -q "signature: key" "$work/inspect" || fail "bundle is not signed"
ls "$d"/public/.*.tmp >/dev/null 2>&1 && fail "temporary files left in PUBLISH_DIR"

# --- no key: a throwaway key, with a warning; still passes.
d=$(fresh_repo nokey)
DOCKPOL_SIGNING_KEY= run_ci "$d"
[ "$rc" = 0 ] || fail "no key: exit $rc"
grep -q 'warning: DOCKPOL_SIGNING_KEY is not set' "$work/out" || fail "no key: no warning"
grep -q "signature: key" <("$DOCKPOLC" inspect "$d/public/bundle.dpb" 2>&1) || fail "no key: bundle not signed"

# --- a broken case: the expected rule no longer decides.
d=$(fresh_repo broken_case)
sed -i 's/"expect": {"decision": "allow", "rule": "devs_read"}},/"expect": {"decision": "allow", "rule": "platform_admins"}},/' "$d/cases/teams.json"
grep -q '"rule": "platform_admins"}},' "$d/cases/teams.json" || fail "broken case was not planted"
expect_failure "broken case" "$d" 'dev lists containers on prod' 'platform_admins' 'devs_read' '[1-9][0-9]* failed' 'FAILED: policy cases failed'

# --- an unknown action, with its did-you-mean.
d=$(fresh_repo unknown_action)
printf '\nrule ops_logs: allow if group in ops_groups and action == "contianer_logs"\n' >> "$d/policies/20_ops.dpol"
expect_failure "unknown action" "$d" 'policies/20_ops.dpol:[0-9]+:[0-9]+: error\[dp-unknown-action\]' 'contianer_logs' 'container_logs' 'FAILED: dockpolc check'

# --- a shadowed rule: a warning, which --werror turns into a failure.
d=$(fresh_repo shadowed)
printf '\nrule devs_read_again: allow if group in dev_groups and action in read_only\n' >> "$d/policies/10_teams.dpol"
expect_failure "shadowed rule" "$d" 'policies/10_teams.dpol:[0-9]+:[0-9]+: warning\[dp-shadowed-rule\]' 'devs_read_again. is shadowed by rule .devs_read' 'FAILED: dockpolc check'

# --- a non-canonical file: fmt --check prints the diff.
d=$(fresh_repo noncanonical)
sed -i 's/^rule no_privileged_exec: deny if/rule no_privileged_exec:   deny   if/' "$d/policies/00_guards.dpol"
grep -q 'no_privileged_exec:   deny' "$d/policies/00_guards.dpol" || fail "non-canonical file was not planted"
expect_failure "non-canonical file" "$d" '^--- policies/00_guards.dpol' '^-rule no_privileged_exec:   deny   if' 'FAILED: policy files are not canonical'

if [ "$failures" = 0 ]; then echo "ok: policy repository gate"; exit 0; fi
echo "$failures failure(s)"; exit 1
