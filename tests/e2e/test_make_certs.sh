#!/usr/bin/env bash
# examples/certs/make-certs.sh: layout, modes, subjects, SANs, usages, validity,
# and that its certificates verify (or, for --expired, do not) against the CA.
set -uo pipefail
script=$(cd "$(dirname "$0")/../.." && pwd)/examples/certs/make-certs.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=0; fail=0
check() {  # NAME CONDITION-EXIT-CODE [DETAIL]
  if [ "$2" = 0 ]; then pass=$((pass + 1)); echo "ok   - $1"
  else fail=$((fail + 1)); echo "FAIL - $1${3:+: $3}"; fi
}
has() { grep -qF -- "$2" <<<"$1"; echo $?; }
mk() { bash "$script" "$@" >/dev/null 2>"$work/err"; }

mk ca "$work/pki"; check "ca: exit 0" $? "$(cat "$work/err")"
mk ca "$work/pki"; rc=$?
check "ca: refuses to overwrite a CA (exit 2)" "$([ $rc = 2 ]; echo $?)" "rc=$rc"
mk server "$work/pki" --host localhost --host docker.example.com --ip 127.0.0.1 --days 30
check "server: exit 0" $? "$(cat "$work/err")"
mk client "$work/pki" --user alice --group admins --group "Dev Team"
check "client: exit 0" $? "$(cat "$work/err")"
mk client "$work/pki" --user bob --group dev --expired --out "$work/bob-old"
check "client --expired: exit 0" $? "$(cat "$work/err")"
mk client "$work/pki" --group dev --no-cn --out "$work/nocn"
check "client --no-cn: exit 0" $? "$(cat "$work/err")"
mk client "$work/pki" --group dev; rc=$?
check "client without --user: exit 2" "$([ $rc = 2 ]; echo $?)" "rc=$rc"
mk client "$work/pki" --user x --days -1; rc=$?
check "negative --days: exit 2" "$([ $rc = 2 ]; echo $?)" "rc=$rc"

for d in server alice; do
  for f in ca.pem cert.pem key.pem; do
    check "$d/$f exists" "$([ -s "$work/pki/$d/$f" ]; echo $?)"
  done
  check "$d/key.pem mode 0600" "$([ "$(stat -c %a "$work/pki/$d/key.pem")" = 600 ]; echo $?)"
  check "$d/key.pem is P-256" "$(has "$(openssl pkey -in "$work/pki/$d/key.pem" -noout -text)" "NIST CURVE: P-256")"
  check "$d/cert.pem verifies against ca.pem" \
    "$(openssl verify -CAfile "$work/pki/ca.pem" "$work/pki/$d/cert.pem" >/dev/null 2>&1; echo $?)"
done
check "ca-key.pem mode 0600" "$([ "$(stat -c %a "$work/pki/ca-key.pem")" = 600 ]; echo $?)"

srv=$(openssl x509 -in "$work/pki/server/cert.pem" -noout -text)
check "server SAN has every DNS name and IP" \
  "$(has "$srv" "DNS:localhost, DNS:docker.example.com, IP Address:127.0.0.1")"
check "server EKU is serverAuth" "$(has "$srv" "TLS Web Server Authentication")"
end=$(openssl x509 -in "$work/pki/server/cert.pem" -noout -enddate | cut -d= -f2)
days=$(( ($(date -d "$end" +%s) - $(date +%s)) / 86400 ))
check "server --days 30 honoured" "$([ "$days" -ge 29 ] && [ "$days" -le 30 ]; echo $?)" "days=$days"

subj=$(openssl x509 -in "$work/pki/alice/cert.pem" -noout -subject -nameopt RFC2253)
check "client subject is CN + one O per group" "$([ "$subj" = "subject=CN=alice,O=Dev Team,O=admins" ]; echo $?)" "$subj"
cli=$(openssl x509 -in "$work/pki/alice/cert.pem" -noout -text)
check "client EKU is clientAuth" "$(has "$cli" "TLS Web Client Authentication")"
check "client is not a CA" "$(has "$cli" "CA:FALSE")"

old=$(openssl verify -CAfile "$work/pki/ca.pem" "$work/bob-old/cert.pem" 2>&1)
check "--expired: verification fails as expired" "$(has "$old" "certificate has expired")" "$old"
check "--expired: keeps the subject" "$(has "$(openssl x509 -in "$work/bob-old/cert.pem" -noout -subject)" "CN = bob")"
nocn=$(openssl x509 -in "$work/nocn/cert.pem" -noout -subject)
check "--no-cn: no CN in the subject" "$(! grep -q "CN" <<<"$nocn"; echo $?)" "$nocn"

# --ca: the first argument is the output directory.
mk client "$work/direct" --ca "$work/pki" --user carol
check "--ca CADIR: files in DIR" "$([ -s "$work/direct/cert.pem" ] && [ -s "$work/direct/ca.pem" ]; echo $?)"

echo "make_certs: $pass passed, $fail failed"
[ "$fail" = 0 ]
