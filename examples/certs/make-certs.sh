#!/usr/bin/env bash
# Makes the certificates dockpold and the docker CLI need for mTLS, with
# openssl only: P-256 keys, SHA-256 signatures.
#
#   make-certs.sh ca DIR [--days N]
#       DIR/ca.pem, DIR/ca-key.pem (a fresh CA; refuses to overwrite one)
#   make-certs.sh server DIR --host NAME [--host NAME]... --ip IP [--ip IP]...
#                 [--days N] [--out OUTDIR] [--ca CADIR]
#       OUTDIR/{ca.pem,cert.pem,key.pem}; SAN = every DNS name and IP given
#   make-certs.sh client DIR --user NAME [--group G]... [--days N] [--expired]
#                 [--no-cn] [--out OUTDIR] [--ca CADIR]
#       OUTDIR/{ca.pem,cert.pem,key.pem}; subject O=G... CN=NAME, clientAuth
#   make-certs.sh crl DIR [--revoke CERT]... [--days N] [--out FILE]
#       FILE (default DIR/crl.pem): a CRL signed by DIR's CA listing every
#       CERT given (none: an empty CRL); pass it to dockpold --tls-crl
#
# DIR is the CA's directory; the output goes to DIR/server (server) or
# DIR/NAME (client) unless --out says otherwise, laid out as DOCKER_CERT_PATH
# expects. With --ca CADIR the CA is read from CADIR and DIR itself is the
# output directory. Keys are written with mode 0600.
# --expired backdates the validity (both dates in the past), --no-cn leaves
# the CN out: both exist to prove that dockpold refuses such certificates.
set -euo pipefail

# Defaults: a CA outlives the certificates it signs.
ca_days=3650
leaf_days=365

usage() {
  sed -n '4,22p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
die() { echo "make-certs.sh: $*" >&2; exit 2; }

# Escapes a value for an openssl -subj component (`/`, `+`, `=`, `\` are special).
subj_escape() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\//\\/}
  s=${s//+/\\+}
  s=${s//=/\\=}
  printf '%s' "$s"
}

new_key() {  # FILE
  (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null)
  chmod 0600 "$1"
}

# 20 random bytes would overflow the 20-octet limit once DER adds a sign byte.
rand_serial() { echo "0x$(openssl rand -hex 16)"; }

# Signs CSR with the CA for DAYS (or with past dates when EXPIRED=1).
# sign CSR EXTFILE OUT
sign() {
  local csr=$1 ext=$2 out=$3
  if [ "${expired:-0}" = 1 ]; then
    # OpenSSL 3.0's `x509 -days` cannot go negative; `openssl ca` takes explicit dates.
    local work; work=$(mktemp -d)
    touch "$work/index.txt"
    openssl rand -hex 16 >"$work/serial"
    cat >"$work/ca.cnf" <<EOF
[ca]
default_ca = expired_ca
[expired_ca]
database = $work/index.txt
serial = $work/serial
new_certs_dir = $work
default_md = sha256
policy = any_policy
unique_subject = no
copy_extensions = none
[any_policy]
commonName = optional
organizationName = optional
EOF
    openssl ca -batch -notext -config "$work/ca.cnf" -cert "$ca_dir/ca.pem" -keyfile "$ca_dir/ca-key.pem" \
      -in "$csr" -out "$out" -startdate 20200101000000Z -enddate 20200102000000Z \
      -extfile "$ext" -preserveDN >/dev/null 2>"$work/err" || { cat "$work/err" >&2; rm -rf "$work"; die "openssl ca failed"; }
    rm -rf "$work"
  else
    openssl x509 -req -sha256 -in "$csr" -CA "$ca_dir/ca.pem" -CAkey "$ca_dir/ca-key.pem" \
      -set_serial "$(rand_serial)" -days "$days" -extfile "$ext" -out "$out" 2>/dev/null \
      || die "openssl x509 -req failed for $out"
  fi
}

cmd=${1:-}; shift || true
[ -n "$cmd" ] || usage
[ $# -ge 1 ] || usage
dir=$1; shift

hosts=(); ips=(); groups=(); revoke=(); user=""; days=""; out=""; ca_opt=""; expired=0; no_cn=0
while [ $# -gt 0 ]; do
  case $1 in
    --host) [ $# -ge 2 ] || usage; hosts+=("$2"); shift 2 ;;
    --ip) [ $# -ge 2 ] || usage; ips+=("$2"); shift 2 ;;
    --user) [ $# -ge 2 ] || usage; user=$2; shift 2 ;;
    --group) [ $# -ge 2 ] || usage; groups+=("$2"); shift 2 ;;
    --days) [ $# -ge 2 ] || usage; days=$2; shift 2 ;;
    --out) [ $# -ge 2 ] || usage; out=$2; shift 2 ;;
    --ca) [ $# -ge 2 ] || usage; ca_opt=$2; shift 2 ;;
    --revoke) [ $# -ge 2 ] || usage; revoke+=("$2"); shift 2 ;;
    --expired) expired=1; shift ;;
    --no-cn) no_cn=1; shift ;;
    -h|--help) usage ;;
    *) die "unknown option '$1'" ;;
  esac
done
if [ -n "$days" ] && ! [[ $days =~ ^[1-9][0-9]*$ ]]; then die "--days wants a positive integer, got '$days'"; fi
command -v openssl >/dev/null || die "openssl not found"

case $cmd in
  ca)
    mkdir -p "$dir"
    [ -e "$dir/ca-key.pem" ] && die "$dir/ca-key.pem exists; not overwriting a CA"
    new_key "$dir/ca-key.pem"
    openssl req -new -x509 -sha256 -key "$dir/ca-key.pem" -days "${days:-$ca_days}" \
      -subj "/O=dockpol/CN=$(subj_escape "dockpol CA $(basename "$(cd "$dir" && pwd)")")" \
      -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
      -addext "keyUsage=critical,keyCertSign,cRLSign" \
      -addext "subjectKeyIdentifier=hash" \
      -out "$dir/ca.pem" 2>/dev/null || die "openssl req failed for the CA"
    echo "$dir/ca.pem"
    ;;
  server|client)
    if [ -n "$ca_opt" ]; then ca_dir=$ca_opt; out=${out:-$dir}; else ca_dir=$dir; fi
    [ -f "$ca_dir/ca.pem" ] && [ -f "$ca_dir/ca-key.pem" ] || die "no CA in $ca_dir (run: make-certs.sh ca $ca_dir)"
    days=${days:-$leaf_days}
    ext=$(mktemp); csr=$(mktemp)
    trap 'rm -f "$ext" "$csr"' EXIT
    if [ "$cmd" = server ]; then
      [ ${#hosts[@]} -gt 0 ] || [ ${#ips[@]} -gt 0 ] || die "server needs --host NAME and/or --ip IP"
      out=${out:-$dir/server}
      san=""
      for h in "${hosts[@]}"; do san+="${san:+,}DNS:$h"; done
      for i in "${ips[@]}"; do san+="${san:+,}IP:$i"; done
      cn=${hosts[0]:-${ips[0]}}
      subj="/O=dockpol/CN=$(subj_escape "$cn")"
      cat >"$ext" <<EOF
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = $san
authorityKeyIdentifier = keyid
subjectKeyIdentifier = hash
EOF
    else
      [ -n "$user" ] || [ "$no_cn" = 1 ] || die "client needs --user NAME"
      out=${out:-$dir/${user:-no-cn}}
      subj=""
      for g in "${groups[@]}"; do subj+="/O=$(subj_escape "$g")"; done
      [ "$no_cn" = 1 ] || subj+="/CN=$(subj_escape "$user")"
      # openssl req needs a non-empty subject: a lone OU keeps a CN-less cert valid.
      [ -n "$subj" ] || subj="/OU=no-cn"
      cat >"$ext" <<EOF
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
subjectKeyIdentifier = hash
EOF
    fi
    mkdir -p "$out"
    new_key "$out/key.pem"
    openssl req -new -sha256 -utf8 -key "$out/key.pem" -subj "$subj" -out "$csr" 2>/dev/null \
      || die "openssl req failed for subject '$subj'"
    sign "$csr" "$ext" "$out/cert.pem"
    if [ "$(cd "$ca_dir" && pwd)/ca.pem" != "$(cd "$out" && pwd)/ca.pem" ]; then cp "$ca_dir/ca.pem" "$out/ca.pem"; fi
    echo "$out/cert.pem"
    ;;
  crl)
    [ -f "$dir/ca.pem" ] && [ -f "$dir/ca-key.pem" ] || die "no CA in $dir (run: make-certs.sh ca $dir)"
    out=${out:-$dir/crl.pem}
    # `openssl ca` keeps its revocation list in a database: a fresh one per call, so the CRL lists exactly --revoke.
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    touch "$work/index.txt"
    echo 01 >"$work/crlnumber"
    cat >"$work/ca.cnf" <<EOF
[ca]
default_ca = crl_ca
[crl_ca]
database = $work/index.txt
crlnumber = $work/crlnumber
default_md = sha256
default_crl_days = ${days:-30}
EOF
    for c in "${revoke[@]}"; do
      [ -f "$c" ] || die "--revoke $c: no such certificate"
      openssl ca -batch -config "$work/ca.cnf" -cert "$dir/ca.pem" -keyfile "$dir/ca-key.pem" \
        -revoke "$c" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; die "openssl ca -revoke failed for $c"; }
    done
    openssl ca -batch -gencrl -config "$work/ca.cnf" -cert "$dir/ca.pem" -keyfile "$dir/ca-key.pem" \
      -out "$out.tmp" 2>"$work/err" || { cat "$work/err" >&2; die "openssl ca -gencrl failed"; }
    # Readers (dockpold on SIGHUP) never see a half-written file.
    mv "$out.tmp" "$out"
    echo "$out"
    ;;
  *) usage ;;
esac
