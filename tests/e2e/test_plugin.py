#!/usr/bin/env python3
"""Authorization-plugin mode: a private dockerd started with
--authorization-plugin=dockpol asks `dockpold plugin` about every request on
its UNIX socket. Denials reach the docker CLI with dockpol's exact message,
allowed requests reach dockerd, a chunked body the policy must read is never
allowed, malformed plugin calls are denied, and every decision is audited with
"mode":"plugin".

Usage: test_plugin.py DOCKPOLD DOCKPOLC
dockerd finds plugins in /run/docker/plugins; this test runs its dockerd in a
private mount namespace with a temp dir bound over that path, so nothing
outside the test's temp dir is created or changed.
"""

import json
import os
import shutil
import socket
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import e2e  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PLUGINS_DIR = "/run/docker/plugins"
PREFIX = "Error response from daemon: authorization denied by plugin dockpol: "
DENIAL = PREFIX + "[dockpol] The command '{action}' denied for user '{user}' by rule '{rule}'"
PRIVILEGED = json.dumps({"Image": "nosuch:1", "Cmd": ["true"], "HostConfig": {"Privileged": True}}).encode()


def unix_http(path, request, timeout=30):
    """One raw HTTP/1.1 exchange on a UNIX socket; returns (status, body text)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    s.sendall(request)
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/1.") else 0
    return status, body.decode("utf-8", "replace")


def plugin_call(sock, target, body):
    req = (f"POST {target} HTTP/1.1\r\nHost: plugin\r\nContent-Type: application/vnd.docker.plugins.v1.2+json\r\n"
           f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body
    return unix_http(sock, req)


def has_line(text, want):
    lines = [ln.strip() for ln in text.splitlines()]
    return any(ln in lines for ln in (want, "docker: " + want, "docker: " + want + "."))


def audit_events(path):
    try:
        with open(path) as f:
            return [json.loads(ln) for ln in f if ln.strip()]
    except OSError:
        return []


def wait_audit(path, pred, timeout=5):
    deadline = time.monotonic() + timeout
    while True:
        for ev in audit_events(path):
            if pred(ev):
                return ev
        if time.monotonic() > deadline:
            return None
        time.sleep(0.1)


def body(ws, checks, argv):
    if len(argv) < 2:
        raise e2e.Fatal("usage: test_plugin.py DOCKPOLD DOCKPOLC")
    dockpold = e2e.need_file(argv[0], "dockpold")
    dockpolc = e2e.need_file(argv[1], "dockpolc")
    if shutil.which("unshare") is None:
        raise e2e.Skip("unshare not found (util-linux)")
    # The private mount needs a mount point there; an empty directory under /run (a tmpfs) changes
    # nothing for a system dockerd, which makes it itself when it first starts.
    os.makedirs(PLUGINS_DIR, mode=0o700, exist_ok=True)
    c = checks

    bundle = e2e.compile_policy(dockpolc, [os.path.join(HERE, "fixtures", "plugin_policy.dpol")],
                                ws.path("plugin.dpb"), revision="e2e-plugin")
    plugdir = ws.path("plugins")
    os.makedirs(plugdir)
    sock = os.path.join(plugdir, "dockpol.sock")
    audit = ws.path("plugin-audit.jsonl")
    log_path = ws.path("plugin.log")
    logf = open(log_path, "wb")

    def start_plugin():
        p = subprocess.Popen([dockpold, "plugin", "--socket", sock, "--bundle", bundle, "--audit-log", audit,
                              "--host-name", "e2e-host"],
                             stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT)
        ws.on_cleanup(lambda: e2e.stop_process(p, grace=10))
        deadline = time.monotonic() + e2e.DOCKPOLD_START_TIMEOUT
        while not os.path.exists(sock):
            if p.poll() is not None or time.monotonic() > deadline:
                logf.flush()
                with open(log_path, "rb") as f:
                    raise e2e.Fatal("dockpold plugin did not start:\n" + f.read().decode("utf-8", "replace"))
            time.sleep(0.1)
        return p

    proc = start_plugin()

    status, text = plugin_call(sock, "/Plugin.Activate", b"{}")
    c.eq("activate", {"Implements": ["authz"]}, json.loads(text) if status == 200 else text)
    status, text = plugin_call(sock, "/AuthZPlugin.AuthZReq", b"{oops")
    answer = json.loads(text) if status == 200 else {}
    c.check("malformed call denied with a reason", answer.get("Allow") is False and "not JSON" in answer.get("Err", ""),
            f"status {status}: {text}")

    # dockerd in its own mount namespace sees the temp dir as /run/docker/plugins; the host sees nothing.
    prefix = ["unshare", "-m", "--propagation", "private", "sh", "-c",
              'mount --bind "$0" ' + PLUGINS_DIR + ' && exec "$@"', plugdir]
    d = e2e.Dockerd(ws, debug=True, extra=["--authorization-plugin=dockpol"], prefix=prefix).start()

    r = d.docker("volume", "create", "keepme")
    c.eq("allowed: volume create", 0, r.rc, r.describe())
    r = d.docker("volume", "rm", "keepme")
    c.check("denied: exact CLI message for volume rm",
            r.rc != 0 and has_line(r.err, DENIAL.format(action="volume_delete", user="local", rule="no_volume_rm")),
            r.describe())
    r = d.docker("volume", "ls", "--format", "{{.Name}}")
    c.check("the denied volume rm never ran", r.rc == 0 and "keepme" in r.out.split(), r.describe())

    r = d.docker("create", "--pull", "never", "--privileged", "nosuch:1", "true")
    c.check("denied: privileged create, decided on the body dockerd sent",
            r.rc != 0 and has_line(r.err, DENIAL.format(action="container_create", user="local", rule="no_priv")),
            r.describe())
    r = d.docker("create", "--pull", "never", "nosuch:1", "true")
    c.check("allowed: the same create without --privileged reaches dockerd (no such image)",
            r.rc != 0 and "authorization denied" not in r.err and "nosuch" in r.err, r.describe())

    # A chunked body: dockerd may or may not pass it to the plugin; it must never be allowed.
    chunked = (b"POST /v1.41/containers/create HTTP/1.1\r\nHost: docker\r\nContent-Type: application/json\r\n"
               b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
               + f"{len(PRIVILEGED):x}\r\n".encode() + PRIVILEGED + b"\r\n0\r\n\r\n")
    status, text = unix_http(d.sock, chunked)
    c.check("chunked privileged create is denied", status == 403 and "authorization denied by plugin dockpol" in text,
            f"status {status}: {text}")

    ev = wait_audit(audit, lambda e: e.get("action") == "volume_delete" and e.get("decision") == "deny")
    c.check("audit: the denial, with mode plugin",
            ev is not None and ev.get("mode") == "plugin" and ev.get("rule") == "no_volume_rm"
            and ev.get("user") == "local" and ev.get("host") == "e2e-host" and ev.get("revision") == "e2e-plugin",
            f"event: {ev}")
    ev = wait_audit(audit, lambda e: e.get("action") == "volume_create" and e.get("decision") == "allow")
    c.check("audit: the allowed create", ev is not None and ev.get("rule") == "locals", f"event: {ev}")
    ev = wait_audit(audit, lambda e: e.get("reason", "").startswith("bad plugin request"))
    c.check("audit: the malformed call", ev is not None and ev.get("decision") == "deny", f"event: {ev}")

    # The plugin down: dockerd cannot ask it and refuses every request (after retrying for a while).
    e2e.stop_process(proc, grace=10)
    r = d.docker("volume", "ls", timeout=90)
    c.check("plugin down: dockerd refuses the request, naming the plugin", r.rc != 0 and "dockpol" in r.err,
            r.describe())
    # Back up: requests are decided again.
    proc = start_plugin()
    for _ in range(40):
        r = d.docker("volume", "ls", "--format", "{{.Name}}", timeout=90)
        if r.rc == 0:
            break
        time.sleep(0.5)
    c.check("plugin restarted: requests are decided again", r.rc == 0 and "keepme" in r.out.split(), r.describe())
    r = d.docker("volume", "rm", "keepme")
    c.check("plugin restarted: the denial again",
            r.rc != 0 and has_line(r.err, DENIAL.format(action="volume_delete", user="local", rule="no_volume_rm")),
            r.describe())

    # Bundle swaps under load: the same policy under two revisions, swapped (rename + SIGHUP) while the
    # docker CLI keeps asking; no request may fail, and both revisions must have decided some.
    other = e2e.compile_policy(dockpolc, [os.path.join(HERE, "fixtures", "plugin_policy.dpol")],
                               ws.path("plugin-b.dpb"), revision="e2e-plugin-b")
    with open(bundle, "rb") as f:
        versions = [f.read()]
    with open(other, "rb") as f:
        versions.append(f.read())
    stop = threading.Event()
    swaps = []

    def swapper():
        i = 0
        while not stop.is_set():
            i += 1
            tmp = bundle + ".new"
            with open(tmp, "wb") as f:
                f.write(versions[i % 2])
            os.replace(tmp, bundle)
            proc.send_signal(signal.SIGHUP)
            swaps.append(i)
            time.sleep(0.2)

    t = threading.Thread(target=swapper)
    t.start()
    failed = []
    try:
        for i in range(60):
            r = d.docker("volume", "ls", "--format", "{{.Name}}")
            if r.rc != 0 or "keepme" not in r.out.split():
                failed.append(r.describe())
    finally:
        stop.set()
        t.join()
    c.eq("swaps under load: no request failed", [], failed[:3])
    revisions = {e.get("revision") for e in audit_events(audit) if e.get("action") == "volume_list"}
    c.check("swaps under load: both revisions decided requests",
            len(swaps) >= 5 and {"e2e-plugin", "e2e-plugin-b"} <= revisions,
            f"{len(swaps)} swaps; revisions seen: {sorted(r for r in revisions if r)}")
    d.stop()
    e2e.stop_process(proc, grace=10)
    c.check("the plugin removes its socket when it stops", not os.path.exists(sock), "")


if __name__ == "__main__":
    e2e.main("plugin", body, deadline=300)
