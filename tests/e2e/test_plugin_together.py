#!/usr/bin/env python3
"""Proxy and plugin together, and bodies the plugin never sees.

dockpold the proxy (remote users, mTLS) and dockpold the plugin (inside a
private dockerd started with --authorization-plugin=dockpol) share a
--handoff-key. What the proxy allowed — the requests it forwards and its own
inspects — carries its signed X-Dockpol-Decision and passes the plugin, which
would deny the same request from the socket's `local` caller; a header a
client makes up is refused by the plugin, and stripped by the proxy.

Then the CVE-2024-41110 class: dockerd sends the plugin no body for a
non-JSON Content-Type or a body over 1 MiB, so a privileged create sent so is
denied by rule `error` when the policy reads body facts for creates, and
allowed (dockerd then answers for itself) when it reads none.

Usage: test_plugin_together.py DOCKPOLD DOCKPOLC
"""

import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import e2e  # noqa: E402

from plugin_env import DENIAL, PREFIX, Plugin, has_line, need_unshare, unix_http, wait_audit  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PROXY_DENIAL = "Error response from daemon: [dockpol] The command '{action}' denied for user '{user}' by rule '{rule}'"


def fixture(name):
    return os.path.join(HERE, "fixtures", name)


def create_request(body, content_type):
    return (f"POST /v1.41/containers/create HTTP/1.1\r\nHost: docker\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body


def privileged_body(padding=0):
    labels = {"pad": "x" * padding} if padding else {}
    return json.dumps({"Image": "nosuch:1", "Cmd": ["true"], "Labels": labels,
                       "HostConfig": {"Privileged": True}}).encode()


def body(ws, checks, argv):
    dockpold, dockpolc = e2e.programs(argv, "test_plugin_together.py DOCKPOLD DOCKPOLC")
    need_unshare()
    c = checks

    key = ws.path("handoff.key")
    with open(key, "w") as f:
        f.write(os.urandom(32).hex() + "\n")
    os.chmod(key, 0o600)

    plugin_bundle = e2e.compile_policy(dockpolc, [fixture("plugin_together.dpol")], ws.path("plugin.dpb"),
                                       revision="plugin-body")
    plugin = Plugin(ws, dockpold, plugin_bundle, extra=["--handoff-key", key])
    d = plugin.make_dockerd()
    # --docker: the plugin inspects targets itself; its inspects come back through dockerd with its nonce.
    plugin.extra += ["--docker", d.host]
    plugin.start()
    d.start()
    d.import_busybox()
    for name in ("dev-1", "dev-2", "prod-db"):
        r = d.docker("create", "--name", name, e2e.BB_IMAGE, "true")
        c.eq(f"local: create {name}", 0, r.rc, r.describe())
    r = d.docker("volume", "create", "shared")
    c.eq("local: volume create", 0, r.rc, r.describe())

    certs = e2e.standard_pki(ws)
    proxy_bundle = e2e.compile_policy(dockpolc, [fixture("proxy_together.dpol")], ws.path("proxy.dpb"))
    proxy = e2e.Dockpold(ws, dockpold, proxy_bundle, certs, d, extra=["--handoff-key", key]).start()

    # ---- the hand-off ----------------------------------------------------------
    r = d.docker("inspect", "dev-1")
    c.check("local: inspect denied by the plugin",
            r.rc != 0 and DENIAL.format(action="container_inspect", user="local", rule="no_inspect") in r.err,
            r.describe())
    r = proxy.docker("bob", "inspect", "--format", "{{.Name}}", "dev-1")
    c.check("bob via the proxy: inspect passes both (the proxy's lookup and the request carry the hand-off)",
            r.rc == 0 and r.out.strip() == "/dev-1", r.describe())
    r = proxy.docker("alice", "volume", "rm", "shared")
    c.check("alice via the proxy: volume rm passes the plugin that denies it to local", r.rc == 0, r.describe())
    r = proxy.docker("alice", "create", "--pull", "never", "--privileged", "nosuch:1", "true")
    c.check("alice via the proxy: a privileged create reaches dockerd (no such image)",
            r.rc != 0 and "authorization denied" not in r.err and "[dockpol]" not in r.err and "nosuch" in r.err,
            r.describe())
    r = proxy.docker("bob", "volume", "create", "bobvol")
    c.check("bob via the proxy: denied by the proxy itself",
            r.rc != 0 and has_line(r.err, PROXY_DENIAL.format(action="volume_create", user="bob", rule="default")),
            r.describe())
    ev = wait_audit(plugin.audit, lambda e: e.get("action") == "volume_delete" and e.get("rule") == "handoff")
    c.check("plugin audit: the proxied volume rm, allowed by rule handoff",
            ev is not None and ev.get("decision") == "allow" and ev.get("mode") == "plugin", f"event: {ev}")
    ev = wait_audit(plugin.audit, lambda e: e.get("action") == "container_inspect" and e.get("rule") == "handoff"
                    and e.get("path") == "/containers/dev-1/json")
    c.check("plugin audit: the proxy's own inspect of dev-1, allowed by rule handoff", ev is not None, f"event: {ev}")

    # A client's own header: the plugin refuses it on the socket; the proxy drops it.
    r = d.docker("volume", "create", "keep2")
    forged = ("DELETE /v1.41/volumes/keep2 HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n"
              "X-Dockpol-Decision: 0123456789abcdef-0000000000000001-1700000000." + "0" * 64 + "\r\n\r\n").encode()
    status, text = unix_http(d.sock, forged)
    c.check("forged hand-off on the socket: refused by rule error",
            status == 403 and PREFIX.split(": ", 1)[1] in text and "by rule 'error'" in text, f"{status}: {text}")
    r = d.docker("volume", "ls", "--format", "{{.Name}}")
    c.check("the forged volume rm never ran", r.rc == 0 and "keep2" in r.out.split(), r.describe())
    ev = wait_audit(plugin.audit, lambda e: e.get("action") == "volume_delete" and e.get("rule") == "error")
    c.check("plugin audit: the forgery, with the reason",
            ev is not None and ev.get("reason") == "hand-off signature does not verify", f"event: {ev}")
    status, text = proxy.raw_request("bob", "DELETE", "/v1.41/volumes/keep2",
                                     headers=["X-Dockpol-Decision: " + "f" * 16 + "-1-1." + "0" * 64])
    c.check("bob's own hand-off header through the proxy changes nothing: denied by the proxy",
            status == 403 and b"denied for user 'bob' by rule 'default'" in text, f"{status}: {text[:300]}")
    status, text = proxy.raw_request("alice", "DELETE", "/v1.41/volumes/keep2", headers=["X-Dockpol-Decision: junk"])
    c.check("alice's junk header is replaced by the proxy's: the volume rm passes", status == 204,
            f"{status}: {text[:300]}")

    # ---- the plugin's own lookups ---------------------------------------------------
    r = d.docker("rm", "prod-db")
    c.check("local: rm prod-db denied on the name the plugin looked up",
            r.rc != 0 and has_line(r.err, DENIAL.format(action="container_delete", user="local", rule="keep_prod")),
            r.describe())
    r = d.docker("rm", "dev-2")
    c.check("local: rm dev-2 allowed after the lookup", r.rc == 0, r.describe())
    ev = wait_audit(plugin.audit, lambda e: e.get("rule") == "lookup" and e.get("path") == "/containers/prod-db/json")
    c.check("plugin audit: its own inspect of prod-db, allowed by rule lookup",
            ev is not None and ev.get("decision") == "allow", f"event: {ev}")
    forged = ("GET /v1.41/containers/dev-1/json HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n"
              "X-Dockpol-Lookup: " + "0" * 64 + "\r\n\r\n").encode()
    status, text = unix_http(d.sock, forged)
    c.check("a made-up lookup nonce on the socket: refused by rule error",
            status == 403 and "by rule 'error'" in text, f"{status}: {text}")

    # ---- bodies dockerd does not send the plugin ------------------------------------
    big = privileged_body(padding=2 << 20)
    cases = [("text/plain", privileged_body(), "text/plain"), ("2 MiB padded label", big, "application/json")]
    for name, payload, ctype in cases:
        status, text = unix_http(d.sock, create_request(payload, ctype))
        c.check(f"privileged create, {name}: denied by rule error (no body seen)",
                status == 403 and "denied for user 'local' by rule 'error'" in text, f"{status}: {text[:300]}")
    ev = wait_audit(plugin.audit, lambda e: e.get("action") == "container_create" and e.get("rule") == "error"
                    and "sent the plugin none" in e.get("reason", ""))
    c.check("plugin audit: body not seen", ev is not None, f"event: {ev}")

    # The same requests under a policy that reads no body facts: allowed, dockerd answers for itself.
    no_body = e2e.compile_policy(dockpolc, [fixture("plugin_no_body.dpol")], ws.path("nobody.dpb"),
                                 revision="plugin-nobody")
    os.replace(no_body, plugin_bundle)
    plugin.proc.send_signal(signal.SIGHUP)
    ev = None
    for _ in range(50):
        r = d.docker("volume", "ls")
        ev = wait_audit(plugin.audit, lambda e: e.get("revision") == "plugin-nobody", timeout=0.1)
        if ev:
            break
        time.sleep(0.1)
    c.check("bundle without body rules loaded", ev is not None, "no audit line with revision plugin-nobody")
    for name, payload, ctype in cases:
        status, text = unix_http(d.sock, create_request(payload, ctype))
        c.check(f"privileged create, {name}, policy reads no body: allowed (dockerd's own answer)",
                status != 403 and "authorization denied" not in text, f"{status}: {text[:300]}")


if __name__ == "__main__":
    e2e.main("plugin_together", body, deadline=300)
