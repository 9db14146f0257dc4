#!/usr/bin/env python3
"""Tamper-evident audit: dockpold --audit-key, logrotate's rename + SIGUSR1, then audit-verify.

Usage: test_audit_chain.py DOCKPOLD DOCKPOLC
dockpold signs its audit checkpoints with a key from `dockpolc keygen`; docker
CLI requests (allowed and denied) go through it; the log is renamed and
SIGUSR1 sent, more requests follow, and SIGTERM stops it. `dockpolc
audit-verify OLD NEW --pubkey` must pass; the files swapped, a foreign key or
one flipped byte must fail, naming the line. A bad --audit-key refuses the
start (exit 2, naming the file).
"""

import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import e2e  # noqa: E402

# The writer reopens within its flush interval; 10 s leaves room for a slow box.
REOPEN_TIMEOUT = 10
# A refusal to start is immediate.
EXIT_TIMEOUT = 15


def verify(dockpolc, *args):
    r = e2e.run([dockpolc, "audit-verify", *args, "--format", "json"], timeout=60)
    try:
        report = json.loads(r.out)
    except ValueError:
        report = {}
    return r, report


def error_at(report):
    err = report.get("error") or {}
    return os.path.basename(err.get("file", "")), err.get("line")


def body(ws, checks, argv):
    dockpold, dockpolc = e2e.programs(argv, "test_audit_chain.py DOCKPOLD DOCKPOLC")
    c = checks

    key, pub, other_pub = ws.path("audit.pem"), ws.path("audit.pub"), ws.path("other.pub")
    for k, p in ((key, pub), (ws.path("other.pem"), other_pub)):
        r = e2e.run([dockpolc, "keygen", "-o", k, "--pub", p], timeout=30)
        if r.rc != 0:
            raise e2e.Fatal("dockpolc keygen failed:\n" + r.describe())

    d = e2e.Dockerd(ws).start()
    certs = e2e.standard_pki(ws)
    bundle = e2e.compile_policy(dockpolc, [e2e.example_policy("demo")], ws.path("demo.dpb"))

    # A key that is not a key: exit 2 at start-up, naming the flag and the file.
    junk = ws.path("junk.pem")
    with open(junk, "w") as f:
        f.write("not a key\n")
    bad = e2e.Dockpold(ws, dockpold, bundle, certs, d, extra=["--audit-key", junk])
    bad.port = e2e.free_port()
    r = e2e.run(bad.args(), timeout=EXIT_TIMEOUT)
    rc, err = r.rc, r.err
    c.eq("a bad --audit-key: exit 2", 2, rc, err)
    c.check("a bad --audit-key: the error names the flag and the file", "--audit-key" in err and junk in err, err)

    p = e2e.Dockpold(ws, dockpold, bundle, certs, d, extra=["--audit-key", key]).start(ready_user="alice")
    new_path = p.audit_path
    old_path = new_path + ".1"

    for user, args, want_rc in (("alice", ["ps"], 0), ("alice", ["images"], 0), ("bob", ["network", "create", "n1"], 1)):
        r = p.docker(user, *args)
        c.eq(f"before rotation: {user} docker {' '.join(args)}", want_rc, r.rc, r.describe())
    c.check("before rotation: the denial is audited",
            p.wait_audit(lambda e: e.get("action") == "network_create" and e.get("decision") == "deny") is not None)

    # logrotate: rename, then SIGUSR1; the writer opens a new file at the same path.
    os.rename(new_path, old_path)
    p.proc.send_signal(signal.SIGUSR1)
    deadline = time.monotonic() + REOPEN_TIMEOUT
    while not os.path.exists(new_path) and time.monotonic() < deadline:
        time.sleep(0.1)
    c.check("SIGUSR1 opens a new file at the audit path", os.path.exists(new_path))

    for user, args, want_rc in (("alice", ["version"], 0), ("bob", ["network", "create", "n2"], 1)):
        r = p.docker(user, *args)
        c.eq(f"after rotation: {user} docker {' '.join(args)}", want_rc, r.rc, r.describe())
    p.wait_audit(lambda e: e.get("action") == "network_create" and e.get("decision") == "deny")
    p.stop()   # SIGTERM: the final checkpoint

    with open(old_path) as f:
        old_lines = f.read().splitlines()
    with open(new_path) as f:
        new_lines = f.read().splitlines()
    kinds = lambda lines: [json.loads(l).get("checkpoint", {}).get("kind") for l in lines]  # noqa: E731
    c.eq("old file: opens with start, ends with close", ["start", "close"],
         [kinds(old_lines)[0], kinds(old_lines)[-1]], "\n".join(old_lines))
    c.eq("new file: opens with rotate, ends with stop", ["rotate", "stop"],
         [kinds(new_lines)[0], kinds(new_lines)[-1]], "\n".join(new_lines))

    r, rep = verify(dockpolc, old_path, new_path, "--pubkey", pub)
    c.eq("audit-verify OLD NEW --pubkey: exit 0", 0, r.rc, r.describe())
    audited = [l for l in old_lines + new_lines if "checkpoint" not in json.loads(l)]
    c.eq("audit-verify counts every request line", len(audited), rep.get("audit_lines"), r.out)
    c.eq("audit-verify checked the signatures", "checked", rep.get("signatures"), r.out)

    r, rep = verify(dockpolc, new_path, old_path, "--pubkey", pub)
    c.eq("files swapped: exit 1", 1, r.rc, r.describe())
    c.eq("files swapped: the old file's first line is named", (os.path.basename(old_path), 1), error_at(rep), r.out)

    r, rep = verify(dockpolc, old_path, new_path, "--pubkey", other_pub)
    c.eq("a foreign key: exit 1 at the first checkpoint", (1, (os.path.basename(old_path), 1)), (r.rc, error_at(rep)),
         r.out)

    # One flipped byte inside a request line's user name: the next line's link names it.
    target = next(i for i, l in enumerate(old_lines) if '"user":"alice"' in l)
    with open(old_path, "rb") as f:
        data = bytearray(f.read())
    offset = sum(len(l) + 1 for l in old_lines[:target]) + old_lines[target].index('"alice"') + 1
    data[offset] ^= 0x20
    with open(old_path, "wb") as f:
        f.write(data)
    r, rep = verify(dockpolc, old_path, new_path, "--pubkey", pub)
    c.eq("a flipped byte: exit 1", 1, r.rc, r.describe())
    c.eq("a flipped byte: the first broken link is named", (os.path.basename(old_path), target + 2), error_at(rep),
         r.out)


if __name__ == "__main__":
    e2e.main("audit_chain", body, deadline=240)
