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
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import e2e  # noqa: E402

from plugin_env import DENIAL, Plugin, audit_events, has_line, need_unshare, plugin_call, unix_http, wait_audit  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PRIVILEGED = json.dumps({"Image": "nosuch:1", "Cmd": ["true"], "HostConfig": {"Privileged": True}}).encode()


def body(ws, checks, argv):
    dockpold, dockpolc = e2e.programs(argv, "test_plugin.py DOCKPOLD DOCKPOLC")
    need_unshare()
    c = checks

    bundle = e2e.compile_policy(dockpolc, [os.path.join(HERE, "fixtures", "plugin_policy.dpol")],
                                ws.path("plugin.dpb"), revision="e2e-plugin")
    plugin = Plugin(ws, dockpold, bundle).start()
    sock, audit, proc = plugin.sock, plugin.audit, plugin.proc

    status, text = plugin_call(sock, "/Plugin.Activate", b"{}")
    c.eq("activate", {"Implements": ["authz"]}, json.loads(text) if status == 200 else text)
    status, text = plugin_call(sock, "/AuthZPlugin.AuthZReq", b"{oops")
    answer = json.loads(text) if status == 200 else {}
    c.check("malformed call denied with a reason", answer.get("Allow") is False and "not JSON" in answer.get("Err", ""),
            f"status {status}: {text}")

    # dockerd in its own mount namespace sees the plugin's dir as /run/docker/plugins; the host sees nothing.
    d = plugin.dockerd()

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
    plugin.stop()
    r = d.docker("volume", "ls", timeout=90)
    c.check("plugin down: dockerd refuses the request, naming the plugin", r.rc != 0 and "dockpol" in r.err,
            r.describe())
    # Back up: requests are decided again.
    proc = plugin.start().proc
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
    plugin.stop()
    c.check("the plugin removes its socket when it stops", not os.path.exists(sock), "")


if __name__ == "__main__":
    e2e.main("plugin", body, deadline=300)
