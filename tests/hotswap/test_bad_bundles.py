#!/usr/bin/env python3
"""Bad bundles never replace the good one: corrupted, truncated, empty,
unsigned, wrong-key, tampered and verifier-rejected bundles, at start and on
reload, through a file rename, SIGHUP, the admin call and a URL (plain HTTP
with `python3 -m http.server`, HTTPS with ETags via bundle_server.py), plus
the bundle cache that lets dockpold start while the server is down.

Usage: test_bad_bundles.py DOCKPOLD DOCKPOLC
After every refusal: /v1/status keeps the old revision with last_error set,
the failure counter went up by exactly one, and the old policy still decides.
"""

import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hotswap_lib as hs  # noqa: E402
from hotswap_lib import e2e  # noqa: E402

# Refusing to start should be immediate; 15 s leaves room for a slow box.
EXIT_TIMEOUT = 15
# Polls are every second in these tests; a change must show within a few.
POLL_WAIT = 15

# Variant → the reason the loader must give (a fragment of last_error).
REASONS = {
    "corrupted": "digest mismatch",
    "truncated": "truncated",
    "empty": "truncated",
    "unsigned": "not signed",
    "wrong-key": "not a trusted key",
    "tampered": "bad signature",
    "verifier": "reserved name",
}


def start_refused(args):
    return e2e.run(args, timeout=EXIT_TIMEOUT)


def expect_unchanged(c, p, label, revision, fails_before, reason, ps_expect, wait=True):
    """The refusal was counted once, reported in status, and the old policy still decides."""
    if wait:
        p.wait_metric(hs.RELOAD_FAIL, fails_before + 1, timeout=POLL_WAIT)
    m = p.metrics()
    c.eq(f"{label}: failure counted once", fails_before + 1, m.get(hs.RELOAD_FAIL))
    st = p.status()
    c.eq(f"{label}: revision unchanged", revision, st.get("revision"))
    c.check(f"{label}: last_error says why", reason in (st.get("last_error") or ""), str(st))
    c.eq(f"{label}: old policy still decides", ps_expect, hs.ps_status(p))
    return int(m.get(hs.RELOAD_FAIL))


def body(ws, checks, argv):
    dockpold, dockpolc = e2e.programs(argv, "test_bad_bundles.py DOCKPOLD DOCKPOLC")
    c = checks

    d = e2e.Dockerd(ws).start()
    certs = e2e.standard_pki(ws)
    k1, pub1 = hs.keygen(dockpolc, ws, "k1")
    k2, _pub2 = hs.keygen(dockpolc, ws, "k2")
    a = hs.build(dockpolc, "allow_list.dpol", ws.path("A.dpb"), "rev-A", sign=k1)
    b = hs.build(dockpolc, "deny_list.dpol", ws.path("B.dpb"), "rev-B", sign=k1)
    b_unsigned = hs.build(dockpolc, "deny_list.dpol", ws.path("B-unsigned.dpb"), "rev-B")
    b_k2 = hs.build(dockpolc, "deny_list.dpol", ws.path("B-k2.dpb"), "rev-B", sign=k2)
    bait = hs.build(dockpolc, "verifier_bait.dpol", ws.path("bait.dpb"), "rev-bait", sign=k1)
    bait_unsigned = hs.build(dockpolc, "verifier_bait.dpol", ws.path("bait-u.dpb"), "rev-bait")
    bad = {
        "corrupted": hs.damaged(ws, dockpolc, b, "corrupted"),
        "truncated": hs.damaged(ws, dockpolc, b, "truncated"),
        "empty": hs.damaged(ws, dockpolc, b, "empty"),
        "unsigned": hs.read(b_unsigned),
        "wrong-key": hs.read(b_k2),
        "tampered": hs.damaged(ws, dockpolc, b, "tampered"),
        "verifier": hs.damaged(ws, dockpolc, bait, "verifier", key=k1),
    }
    keyflags = ["--bundle-pubkey", pub1]

    # ---- control: the good signed bundles are accepted.
    active = hs.copy(a, ws.path("active.dpb"))
    p = hs.HotDockpold(ws, dockpold, active, certs, d, extra=keyflags).start()
    c.eq("control: signed A serves", "rev-A", p.status()["revision"])
    c.eq("control: A allows docker ps", 200, hs.ps_status(p))

    # ---- at start: every bad variant is refused with exit 2 and one line naming the file.
    for name, data in bad.items():
        path = hs.write(ws.path(f"bad-{name}.dpb"), data)
        q = hs.HotDockpold(ws, dockpold, path, certs, d, extra=keyflags)
        q.port, q.admin_port = e2e.free_port(), e2e.free_port()
        r = start_refused(q.args())
        lines = [l for l in r.err.splitlines() if l.strip()]
        c.check(f"start with {name} bundle: exit 2, reason and file named",
                r.rc == 2 and len(lines) == 1 and REASONS[name] in lines[0] and path in lines[0], r.describe())
    # Without --bundle-pubkey the verifier alone still refuses the bait.
    path = hs.write(ws.path("bad-verifier-unsigned.dpb"), hs.damaged(ws, dockpolc, bait_unsigned, "verifier"))
    q = hs.HotDockpold(ws, dockpold, path, certs, d)
    q.port, q.admin_port = e2e.free_port(), e2e.free_port()
    r = start_refused(q.args())
    c.check("start with verifier-rejected unsigned bundle: exit 2", r.rc == 2 and "reserved name" in r.err, r.describe())

    # ---- on reload, through file rename, SIGHUP and the admin call.
    fails = int(p.metrics().get(hs.RELOAD_FAIL, 0))
    for name, data in bad.items():
        hs.install(data, active)
        fails = expect_unchanged(c, p, f"{name} via file rename", "rev-A", fails, REASONS[name], 200)
        p.proc.send_signal(signal.SIGHUP)
        fails = expect_unchanged(c, p, f"{name} via SIGHUP", "rev-A", fails, REASONS[name], 200)
        st, res = p.admin("POST", "/v1/bundle/reload")
        c.check(f"{name} via admin: 422 with the reason",
                st == 422 and REASONS[name] in res.get("message", ""), f"{st} {res}")
        fails = expect_unchanged(c, p, f"{name} via admin", "rev-A", fails, REASONS[name], 200, wait=False)
    ok_before = p.metrics().get(hs.RELOAD_OK, 0)
    hs.install(b, active)
    c.check("good signed B after the bad ones is loaded", p.wait_revision("rev-B", timeout=10), str(p.status()))
    c.eq("B denies docker ps", 403, hs.ps_status(p))
    c.eq("success counted", ok_before + 1, p.metrics().get(hs.RELOAD_OK))
    c.eq("last_error cleared by the good reload", None, p.status().get("last_error"))
    p.stop()

    # ---- URL (plain HTTP, python3 -m http.server, no ETags) with a cache.
    served = ws.path("served")
    os.makedirs(served)
    hs.install(a, os.path.join(served, "bundle.dpb"))
    srv = hs.PlainHttpServer(ws, served)
    cache = ws.path("cache", "bundle.dpb")
    os.makedirs(os.path.dirname(cache))
    url_flags = keyflags + ["--poll-interval", "1s", "--bundle-cache", cache]
    u = hs.HotDockpold(ws, dockpold, None, certs, d, url=srv.url(), extra=url_flags).start()
    st = u.status()
    c.eq("URL: serves A", "rev-A", st.get("revision"))
    c.eq("URL: source is the URL", srv.url(), st.get("source"))
    c.check("URL: cache written after verification", os.path.exists(cache) and hs.read(cache) == hs.read(a))
    fails = int(u.metrics().get(hs.RELOAD_FAIL, 0))
    for name, data in bad.items():
        hs.install(data, os.path.join(served, "bundle.dpb"))
        fails = expect_unchanged(c, u, f"{name} via URL poll", "rev-A", fails, REASONS[name], 200)
        c.check(f"{name} via URL: cache untouched", hs.read(cache) == hs.read(a))
    st, res = u.admin("POST", "/v1/bundle/reload")
    c.check("bad bundle via admin in URL mode: 422", st == 422 and "reserved name" in res.get("message", ""),
            f"{st} {res}")
    fails += 1
    hs.install(b, os.path.join(served, "bundle.dpb"))
    c.check("URL: good B is fetched and swapped", u.wait_revision("rev-B", timeout=POLL_WAIT), str(u.status()))
    c.eq("URL: B denies docker ps", 403, hs.ps_status(u))
    c.check("URL: cache now holds B", hs.read(cache) == hs.read(b))
    srv.stop()
    fails = expect_unchanged(c, u, "server down", "rev-B", int(u.metrics().get(hs.RELOAD_FAIL, 0)),
                             "cannot fetch", 403)
    u.stop()

    # Server still down: start from the cache, and report why.
    u2 = hs.HotDockpold(ws, dockpold, None, certs, d, url=srv.url(), extra=url_flags).start()
    st = u2.status()
    c.eq("cache start: revision B", "rev-B", st.get("revision"))
    c.eq("cache start: source is the cache", cache, st.get("source"))
    c.check("cache start: last_error names the fetch failure", "cannot fetch" in (st.get("last_error") or ""), str(st))
    c.eq("cache start: B decides", 403, hs.ps_status(u2))
    u2.stop()
    os.unlink(cache)
    q = hs.HotDockpold(ws, dockpold, None, certs, d, url=srv.url(), extra=url_flags)
    q.port, q.admin_port = e2e.free_port(), e2e.free_port()
    r = start_refused(q.args())
    c.check("server down and no cache: exit 2", r.rc == 2 and "cannot fetch" in r.err, r.describe())

    # ---- HTTPS with ETags, verified against --bundle-url-ca.
    tls_root = ws.path("tls-served")
    os.makedirs(tls_root)
    hs.install(a, os.path.join(tls_root, "bundle.dpb"))
    tsrv = hs.BundleServer(ws, tls_root, cert=certs.server_cert, key=certs.server_key)
    tls_flags = keyflags + ["--poll-interval", "1s", "--bundle-url-ca", certs.ca_pem]
    t = hs.HotDockpold(ws, dockpold, None, certs, d, url=tsrv.url(), extra=tls_flags).start()
    c.eq("HTTPS: serves A", "rev-A", t.status().get("revision"))
    deadline = time.monotonic() + POLL_WAIT
    while time.monotonic() < deadline and tsrv.statuses().count(304) < 2:
        time.sleep(0.2)
    sts = tsrv.statuses()
    c.check("HTTPS: unchanged bundle polled with If-None-Match → 304", sts[:1] == [200] and sts.count(304) >= 2, str(sts))
    c.eq("HTTPS: 304s are not reloads", 0.0, t.metrics().get(hs.RELOAD_OK))
    hs.install(b, os.path.join(tls_root, "bundle.dpb"))
    c.check("HTTPS: changed bundle is fetched and swapped", t.wait_revision("rev-B", timeout=POLL_WAIT), str(t.status()))
    c.eq("HTTPS: B decides", 403, hs.ps_status(t))
    t.stop()
    other = e2e.Certs(ws, "other-pki").ca()
    q = hs.HotDockpold(ws, dockpold, None, certs, d, url=tsrv.url(),
                       extra=keyflags + ["--bundle-url-ca", other.ca_pem])
    q.port, q.admin_port = e2e.free_port(), e2e.free_port()
    r = start_refused(q.args())
    c.check("HTTPS: a server the CA does not vouch for is refused (exit 2)",
            r.rc == 2 and "certificate verify failed" in r.err, r.describe())


if __name__ == "__main__":
    e2e.main("bad_bundles", body, deadline=1200)
