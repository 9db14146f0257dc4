#!/usr/bin/env python3
"""Admin operations: /metrics values follow the requests made (exact deltas),
/healthz and /readyz, `dockpold probe` exit codes, and the SIGTERM drain
(an in-flight slow request completes, new connections are refused, exit 0).

Usage: test_admin_ops.py DOCKPOLD DOCKPOLC
"""

import os
import signal
import socket
import ssl
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hotswap_lib as hs  # noqa: E402
from hotswap_lib import e2e  # noqa: E402

REQ = 'dockpol_requests_total{decision="%s",action="%s"}'


def delta(before, after, key):
    return after.get(key, 0) - before.get(key, 0)


def probe(dockpold, url):
    return e2e.run([dockpold, "probe", url], timeout=15)


def body(ws, checks, argv):
    dockpold, dockpolc = e2e.programs(argv, "test_admin_ops.py DOCKPOLD DOCKPOLC")
    c = checks

    d = e2e.Dockerd(ws).start()
    certs = e2e.standard_pki(ws)
    d.import_busybox()
    b = hs.build(dockpolc, "deny_list.dpol", ws.path("B.dpb"), "rev-B")
    p = hs.HotDockpold(ws, dockpold, b, certs, d, extra=["--drain-timeout", "30s"]).start()
    admin = f"http://127.0.0.1:{p.admin_port}"

    # ---- metrics move with the requests (exact deltas).
    m0 = p.metrics()
    c.eq("bundle_info names the revision", 1.0, m0.get('dockpol_bundle_info{revision="rev-B"}'))
    for _ in range(3):
        c.eq("docker ps denied by B", 403, hs.ps_status(p))
    for _ in range(2):
        st, _ = hs.request(p, "bob", "GET", "/v1.41/version")
        c.eq("version allowed", 200, st)
    # The request histogram is observed when a response has been fully
    # written, which can be just after the client has read it: wait for it.
    m1 = p.metrics()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and delta(m0, m1, "dockpol_request_seconds_count") < 5:
        time.sleep(0.05)
        m1 = p.metrics()
    c.eq("requests_total deny/container_list +3", 3, delta(m0, m1, REQ % ("deny", "container_list")))
    c.eq("requests_total allow/system_version +2", 2, delta(m0, m1, REQ % ("allow", "system_version")))
    c.eq("decision histogram count +5", 5, delta(m0, m1, "dockpol_decision_seconds_count"))
    c.eq("request histogram count +5", 5, delta(m0, m1, "dockpol_request_seconds_count"))
    c.check("request histogram sum grew", delta(m0, m1, "dockpol_request_seconds_sum") > 0)
    c.eq("request histogram +Inf bucket equals count", m1.get("dockpol_request_seconds_count"),
         m1.get('dockpol_request_seconds_bucket{le="+Inf"}'))

    # A handshake without a client certificate fails and is counted.
    ctx = ssl.create_default_context(cafile=certs.ca_pem)
    try:
        with socket.create_connection(("127.0.0.1", p.port), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                s.sendall(b"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n")
                s.recv(100)
    except (OSError, ssl.SSLError):
        pass
    time.sleep(0.3)
    m2 = p.metrics()
    c.eq("tls_handshake_failures_total +1", 1, delta(m1, m2, "dockpol_tls_handshake_failures_total"))

    # An idle keep-alive connection is an active connection.
    bob = certs.users["bob"]
    ctx2 = ssl.create_default_context(cafile=certs.ca_pem)
    ctx2.load_cert_chain(os.path.join(bob, "cert.pem"), os.path.join(bob, "key.pem"))
    held = ctx2.wrap_socket(socket.create_connection(("127.0.0.1", p.port), timeout=5), server_hostname="localhost")
    held.sendall(b"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n")
    held.recv(1000)
    c.eq("connections_active counts a held connection", 1.0, p.metrics().get("dockpol_connections_active"))
    held.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and p.metrics().get("dockpol_connections_active") != 0.0:
        time.sleep(0.1)
    c.eq("connections_active back to 0", 0.0, p.metrics().get("dockpol_connections_active"))
    c.eq("audit_dropped_total present and 0", 0.0, p.metrics().get("dockpol_audit_dropped_total"))

    # ---- health, readiness, probe.
    c.eq("healthz 200", 200, p.admin("GET", "/healthz")[0])
    c.eq("readyz 200", 200, p.admin("GET", "/readyz")[0])
    c.eq("probe healthz: exit 0", 0, probe(dockpold, admin + "/healthz").rc)
    c.eq("probe readyz: exit 0", 0, probe(dockpold, admin + "/readyz").rc)
    r = probe(dockpold, admin + "/nope")
    c.check("probe 404: exit 1", r.rc == 1 and "404" in r.err, r.describe())
    r = probe(dockpold, f"http://127.0.0.1:{e2e.free_port()}/healthz")
    c.check("probe closed port: exit 1", r.rc == 1, r.describe())
    r = probe(dockpold, "gopher://x/")
    c.check("probe bad URL: exit 1", r.rc == 1, r.describe())

    # ---- drain: a slow request in flight completes, then exit 0.
    r = d.docker("run", "-d", "--name", "sleeper", e2e.BB_IMAGE, "sleep", "4")
    c.check("sleeper started", r.rc == 0, r.describe())
    result = {}

    def slow():
        try:
            result["wait"] = hs.request(p, "alice", "POST", "/v1.41/containers/sleeper/wait", body=b"", timeout=60)
        except Exception as e:
            result["error"] = repr(e)

    t = threading.Thread(target=slow)
    t.start()
    time.sleep(1.0)
    p.proc.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    st, _ = p.admin("GET", "/readyz")
    c.eq("readyz 503 while draining", 503, st)
    refused = False
    try:
        hs.request(p, "alice", "GET", "/_ping", timeout=3)
    except (OSError, ssl.SSLError):
        refused = True
    c.check("no new connections while draining", refused)
    t.join(30)
    st, wait_body = result.get("wait", (0, b""))
    c.check("in-flight slow request completed with 200", st == 200 and b'"StatusCode":0' in wait_body,
            f"{result}")
    try:
        rc = p.proc.wait(timeout=15)
    except Exception:
        rc = None
    c.eq("dockpold exits 0 after the drain", 0, rc)
    p.proc = None
    c.check("probe healthz after exit: exit 1", probe(dockpold, admin + "/healthz").rc == 1)

    # readyz without dockerd: start another dockpold, stop dockerd.
    p2 = hs.HotDockpold(ws, dockpold, b, certs, d).start()
    # Only dockerd itself: Dockerd.stop() also kills every process naming its socket, dockpold included.
    e2e.stop_process(d.proc, grace=25)
    st, res = p2.admin("GET", "/readyz")
    c.check("readyz 503 when dockerd does not answer", st == 503 and "not ready" in str(res), f"{st} {res}")
    c.eq("probe readyz without dockerd: exit 1", 1, probe(dockpold, f"http://127.0.0.1:{p2.admin_port}/readyz").rc)
    c.eq("healthz still 200", 200, p2.admin("GET", "/healthz")[0])
    p2.stop()


if __name__ == "__main__":
    e2e.main("admin_ops", body, deadline=600)
