#!/usr/bin/env python3
"""Bad start: dockpold refuses to start on a missing or broken file, exit 2, one clear line.

Usage: test_bad_start.py DOCKPOLD DOCKPOLC
Each case replaces one file of an otherwise good command line (the control:
the good command line starts and answers). dockpold must exit 2 promptly and
print exactly one non-empty line that names the offending file.
"""

import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import e2e  # noqa: E402

# A refusal to start should be immediate; 15 s leaves room for a slow box.
EXIT_TIMEOUT = 15

FLAG_OF = {"cert": "--tls-cert", "key": "--tls-key", "ca": "--tls-client-ca", "bundle": "--bundle",
           "docker": "--docker", "handoff": "--handoff-key"}


def key_file(path, text, mode):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


def corrupt_copy(src, dst, how):
    with open(src, "rb") as f:
        data = bytearray(f.read())
    if how == "flip":
        data[len(data) // 2] ^= 0x5A
    elif how == "truncate":
        data = data[: len(data) // 2]
    elif how == "empty":
        data = bytearray()
    elif how == "text":
        data = bytearray(b"default allow\n")
    elif how == "magic":
        data[0] ^= 0xFF
    with open(dst, "wb") as f:
        f.write(data)
    return dst


def start_with(p, flag, path):
    args = p.args()
    args[args.index(flag) + 1] = path
    return e2e.run(args, timeout=EXIT_TIMEOUT)


def body(ws, checks, argv):
    dockpold, dockpolc = e2e.programs(argv, "test_bad_start.py DOCKPOLD DOCKPOLC")
    c = checks

    d = e2e.Dockerd(ws).start()
    certs = e2e.standard_pki(ws)
    bundle = e2e.compile_policy(dockpolc, [e2e.example_policy("demo")], ws.path("demo.dpb"))
    # A good hand-off key in the control run; the cases swap in bad ones.
    good_key = key_file(ws.path("handoff.key"), "k" * 32 + "\n", 0o640)
    p = e2e.Dockpold(ws, dockpold, bundle, certs, d, extra=["--handoff-key", good_key])

    # Control: the unmodified command line starts and serves.
    p.start()
    r = p.docker("alice", "version", "--format", "{{.Server.Version}}")
    c.check("control: good files start and serve", r.rc == 0 and r.out.strip(), r.describe())
    p.stop()

    garbage = ws.path("garbage.pem")
    with open(garbage, "w") as f:
        f.write("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
    other_key = ws.path("other-key.pem")
    e2e.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-out", other_key])
    cases = [
        ("missing server certificate", "cert", ws.path("missing-cert.pem")),
        ("missing server key", "key", ws.path("missing-key.pem")),
        ("missing client CA", "ca", ws.path("missing-ca.pem")),
        ("missing bundle", "bundle", ws.path("missing.dpb")),
        ("garbage server certificate", "cert", garbage),
        ("garbage client CA", "ca", shutil.copy(garbage, ws.path("garbage-ca.pem"))),
        ("key that does not match the certificate", "key", other_key),
        ("bundle with a flipped byte", "bundle", corrupt_copy(bundle, ws.path("flip.dpb"), "flip")),
        ("truncated bundle", "bundle", corrupt_copy(bundle, ws.path("trunc.dpb"), "truncate")),
        ("empty bundle", "bundle", corrupt_copy(bundle, ws.path("empty.dpb"), "empty")),
        ("policy source given as bundle", "bundle", corrupt_copy(bundle, ws.path("text.dpb"), "text")),
        ("bundle with a bad magic", "bundle", corrupt_copy(bundle, ws.path("magic.dpb"), "magic")),
        ("missing docker socket", "docker", ws.path("missing-docker.sock")),
        ("docker socket path that is a regular file", "docker", bundle),
        ("missing hand-off key", "handoff", ws.path("missing.key")),
        ("hand-off key readable by others", "handoff", key_file(ws.path("open.key"), "k" * 32, 0o644)),
        ("hand-off key shorter than 32 bytes", "handoff", key_file(ws.path("short.key"), "k" * 31 + "\n", 0o600)),
    ]
    for what, which, path in cases:
        p.port = e2e.free_port()
        r = start_with(p, FLAG_OF[which], "unix://" + path if which == "docker" else path)
        lines = [ln for ln in (r.out + r.err).splitlines() if ln.strip()]
        detail = r.describe()
        c.eq(f"{what}: exit code 2", 2, r.rc, detail)
        c.check(f"{what}: exactly one line of output", len(lines) == 1, detail)
        # A key/certificate mismatch involves two files; naming either is clear.
        names = [path, certs.server_cert] if which == "key" and path == other_key else [path]
        c.check(f"{what}: the line names the file", any(n in ln for ln in lines for n in names),
                detail)


if __name__ == "__main__":
    e2e.main("bad_start", body, deadline=270)
