#!/usr/bin/env python3
"""Handshake: only a valid client certificate from the configured CA gets in.

Usage: test_handshake.py DOCKPOLD DOCKPOLC
Refused at the TLS handshake: no client certificate, a certificate from another
CA, an expired certificate, one without the clientAuth usage (both the docker CLI and `openssl s_client` see it;
s_client shows the alert). A certificate without a CN, or with two, passes
TLS but is refused before anything reaches dockerd. A valid certificate is the
positive control for every probe.
"""

import os
import re
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import e2e  # noqa: E402

PING = "GET /_ping HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
LIST = "GET /containers/json HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"


def s_client(p, cert_dir, request=PING, extra=()):
    args = ["openssl", "s_client", "-connect", f"127.0.0.1:{p.port}", "-servername", "localhost",
            "-CAfile", p.certs.ca_pem, "-ign_eof", "-brief", *extra]
    if cert_dir and os.path.exists(os.path.join(cert_dir, "cert.pem")):
        args += ["-cert", os.path.join(cert_dir, "cert.pem"), "-key", os.path.join(cert_dir, "key.pem")]
    r = e2e.run(args, input=request, timeout=20)
    r.all = r.out + r.err
    return r


def list_calls(dockerd):
    pat = re.compile(r'msg="Calling GET (/v[0-9.]+)?/containers/json')
    return sum(1 for ln in dockerd.log_text().splitlines() if pat.search(ln))


def raw_cert(certs, label, subj):
    """A client cert with an arbitrary subject, signed by the CA (make-certs.sh refuses two CNs)."""
    out = os.path.join(certs.dir, label)
    os.makedirs(out, exist_ok=True)
    key, csr, crt, ext = (os.path.join(out, n) for n in ("key.pem", "req.csr", "cert.pem", "ext"))
    with open(ext, "w") as f:
        f.write("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                "extendedKeyUsage=clientAuth\n")
    for args in (["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                  "-out", key],
                 ["openssl", "req", "-new", "-key", key, "-subj", subj, "-out", csr],
                 ["openssl", "x509", "-req", "-in", csr, "-CA", certs.ca_pem, "-CAkey",
                  os.path.join(certs.dir, "ca-key.pem"), "-set_serial", "4242", "-days", "30",
                  "-extfile", ext, "-out", crt]):
        r = e2e.run(args)
        if r.rc != 0:
            raise e2e.Fatal(r.describe())
    shutil.copy(certs.ca_pem, os.path.join(out, "ca.pem"))
    certs.users[label] = out
    return out


def body(ws, checks, argv):
    dockpold, dockpolc = e2e.programs(argv, "test_handshake.py DOCKPOLD DOCKPOLC")
    c = checks

    d = e2e.Dockerd(ws, debug=True).start()
    certs = e2e.standard_pki(ws)
    certs.client("alice", ["admins"], label="alice-expired", extra=["--expired"])
    certs.client("", ["admins"], label="no-cn", extra=["--no-cn"])
    raw_cert(certs, "two-cn", "/O=admins/CN=alice/CN=mallory")
    # Only the CA file: the CLI then presents no client certificate.
    nocert = ws.path("no-client-cert")
    os.makedirs(nocert)
    shutil.copy(certs.ca_pem, os.path.join(nocert, "ca.pem"))
    certs.users["none"] = nocert
    # Another CA entirely, with a client cert that claims the admins group.
    other = e2e.Certs(ws, "other-pki").ca()
    other_alice = other.client("alice", ["admins"])
    shutil.copy(certs.ca_pem, os.path.join(other_alice, "ca.pem"))  # trust the real server
    certs.users["other-ca"] = other_alice

    # The server's own certificate (serverAuth only) offered as a client certificate.
    certs.users["server-as-client"] = os.path.join(certs.dir, "server")

    bundle = e2e.compile_policy(dockpolc, [e2e.example_policy("demo")], ws.path("demo.dpb"))
    p = e2e.Dockpold(ws, dockpold, bundle, certs, d).start()

    # Positive controls: the valid certificate works with both clients.
    r = p.docker("alice", "ps", "-a")
    c.check("valid certificate: docker ps works", r.rc == 0 and "CONTAINER ID" in r.out,
            r.describe())
    r = s_client(p, certs.users["alice"])
    c.check("valid certificate: s_client gets HTTP 200", "HTTP/1.1 200" in r.all, r.describe())

    refused = {
        "no client certificate": ("none", ("certificate required", "handshake failure")),
        "certificate from another CA": ("other-ca", ("unknown ca",)),
        "expired certificate": ("alice-expired", ("certificate expired",)),
        "certificate without clientAuth usage": ("server-as-client", ("unsupported certificate",)),
    }
    for what, (label, alerts) in refused.items():
        before = list_calls(d)
        r = p.docker(label, "ps", "-a")
        c.check(f"{what}: docker CLI fails", r.rc != 0 and "CONTAINER ID" not in r.out,
                r.describe())
        c.check(f"{what}: CLI error is a TLS error", "tls" in r.err.lower(), r.describe())
        s = s_client(p, certs.users[label], request=LIST)
        c.check(f"{what}: s_client shows the alert ({' or '.join(alerts)})",
                any(f"alert {a}" in s.all for a in alerts) and "HTTP/1.1" not in s.all,
                s.describe())
        c.eq(f"{what}: dockerd never received the request", before, list_calls(d))

    # TLS below 1.2 is refused even when the client offers it.
    s = s_client(p, certs.users["alice"], extra=("-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"))
    c.check("TLS 1.1 is refused", "HTTP/1.1" not in s.all and s.rc != 0, s.describe())

    # Valid chain but no usable identity: refused, nothing forwarded.
    for label, what in (("no-cn", "certificate without CN"),
                        ("two-cn", "certificate with two CNs")):
        before = list_calls(d)
        audit_start = len(p.audit_lines())
        r = p.docker(label, "ps", "-a")
        c.check(f"{what}: docker CLI fails", r.rc != 0 and "CONTAINER ID" not in r.out,
                r.describe())
        s = s_client(p, certs.users[label], request=LIST)
        c.check(f"{what}: no 2xx answer to s_client", not re.search(r"HTTP/1\.1 2\d\d", s.all),
                s.describe())
        c.eq(f"{what}: dockerd never received the request", before, list_calls(d))
        allowed = [e for e in p.audit_lines()[audit_start:] if isinstance(e, dict)
                   and e.get("decision") == "allow" and e.get("action") != "system_ping"]
        c.check(f"{what}: no allow in the audit log", not allowed, f"{allowed}")

    # Still serving after all that.
    r = p.docker("bob", "ps")
    c.check("dockpold still serves valid clients afterwards", r.rc == 0, r.describe())


if __name__ == "__main__":
    e2e.main("handshake", body, deadline=270)
