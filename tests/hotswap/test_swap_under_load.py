#!/usr/bin/env python3
"""Swap under load: 1,000 swaps between two bundles (A allows `docker ps`, B
denies it) by SIGHUP, file rename and the admin call, while clients run
keep-alive requests, new connections and long streams through dockpold.

Usage: test_swap_under_load.py DOCKPOLD DOCKPOLC [SWAPS]
Asserts: no failed request (no reset, no 5xx, nothing but 200/403), every
decision consistent with exactly one revision (audit: allow⇔rev-A/list_ok,
deny⇔rev-B/list_blocked; client 200/403 counts equal the audit's), both
revisions seen, streams (`logs -f`, `events`) uninterrupted.
"""

import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hotswap_lib as hs  # noqa: E402
from hotswap_lib import e2e  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e", "lib"))
from streams import LineStream  # noqa: E402

DEFAULT_SWAPS = 1000
PS = "/v1.41/containers/json"
DENIALS = {PS: b"[dockpol] The command 'container_list' denied for user 'bob' by rule 'list_blocked'"}
# The ticker prints every 100 ms; a gap this long means the stream stalled.
MAX_STREAM_GAP = 3.0


def body(ws, checks, argv):
    dockpold, dockpolc = e2e.programs(argv, "test_swap_under_load.py DOCKPOLD DOCKPOLC [SWAPS]")
    swaps = int(argv[2]) if len(argv) > 2 else int(os.environ.get("DOCKPOL_SWAPS", DEFAULT_SWAPS))
    c = checks

    d = e2e.Dockerd(ws).start()
    certs = e2e.standard_pki(ws)
    d.import_busybox()
    r = d.docker("run", "-d", "--name", "ticker", e2e.BB_IMAGE, "sh", "-c",
                 "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.1; done")
    if r.rc != 0:
        raise e2e.Fatal("cannot start the ticker container:\n" + r.describe())

    a = hs.build(dockpolc, "allow_list.dpol", ws.path("A.dpb"), "rev-A")
    b = hs.build(dockpolc, "deny_list.dpol", ws.path("B.dpb"), "rev-B")
    active = hs.copy(a, ws.path("active.dpb"))
    p = hs.HotDockpold(ws, dockpold, active, certs, d).start()
    c.eq("starts on revision A", "rev-A", p.status()["revision"])
    c.eq("A allows docker ps", 200, hs.ps_status(p))

    logs = LineStream(["docker", "logs", "-f", "--tail", "0", "ticker"], env=p.env("alice"))
    events = LineStream(["docker", "events", "--format", "{{.Type}} {{.Action}} {{.Actor.ID}}"], env=p.env("alice"))
    ws.on_cleanup(lambda: [s.proc.kill() for s in (logs, events)])
    c.check("logs -f streams before the swaps", logs.wait_line(lambda l: l.startswith("tick"), 15) is not None,
            logs.err)
    time.sleep(1)   # let `docker events` subscribe

    load = hs.Load(p, certs, (PS,), DENIALS, keep_alive=2, new_conns=1)
    load.start()
    # Most swaps by the admin call and SIGHUP (immediate); every 10th by rename alone, which waits for the
    # file watch's debounce (200 ms): the three ways are all exercised and 1,000 swaps stay well under a minute.
    methods = ("admin", "sighup", "admin", "sighup", "admin", "sighup", "admin", "sighup", "admin", "rename")
    bad_swaps = []
    started = time.monotonic()
    for i in range(swaps):
        src, rev = (b, "rev-B") if i % 2 == 0 else (a, "rev-A")
        how = methods[i % len(methods)]
        hs.install(src, active)
        if how == "admin":
            st, res = p.admin("POST", "/v1/bundle/reload")
            if st != 200 or res.get("revision") != rev:
                bad_swaps.append(f"swap {i} (admin): {st} {res}")
        else:
            if how == "sighup":
                p.proc.send_signal(signal.SIGHUP)
            if not p.wait_revision(rev, timeout=10):
                bad_swaps.append(f"swap {i} ({how}): revision stayed {p.status().get('revision')}")
        if len(bad_swaps) > 5:
            break
    swap_seconds = time.monotonic() - started
    time.sleep(0.5)
    load.finish()
    e2e.log(f"[hotswap] {swaps} swaps in {swap_seconds:.1f}s; client statuses {load.statuses}")

    c.eq("every swap took effect (admin 200 / revision observed)", [], bad_swaps[:6])
    c.eq("no failed request (no reset, no 5xx, only 200/403)", [], load.failures[:10])
    c.check("clients ran a real load", load.total() >= 200, f"only {load.total()} requests")
    c.check("both revisions decided requests", load.count(200) > 0 and load.count(403) > 0,
            str(load.statuses))

    # Every audited `docker ps` names one revision, and the decision is that revision's.
    expect = {("allow", "list_ok", "rev-A"), ("deny", "list_blocked", "rev-B")}
    total = load.total()
    deadline = time.monotonic() + 10
    while True:
        evs = [e for e in p.audit_lines() if isinstance(e, dict) and e.get("action") == "container_list"
               and e.get("user") == "bob"]
        if len(evs) >= total + 1 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    mismatched = [e for e in evs if (e.get("decision"), e.get("rule"), e.get("revision")) not in expect]
    c.eq("audit: every decision matches its revision", [], mismatched[:5])
    allows = sum(1 for e in evs if e.get("decision") == "allow")
    denies = sum(1 for e in evs if e.get("decision") == "deny")
    # +1: the 200 of the check before the load.
    c.eq("audit allow count equals client 200s", load.count(200) + 1, allows)
    c.eq("audit deny count equals client 403s", load.count(403), denies)
    c.eq("audit status matches decision", [],
         [e for e in evs if (e["decision"] == "allow") != (e.get("status") == 200)][:5])

    # Streams: still running, no stall, no lost line.
    c.check("logs -f still running", logs.proc.poll() is None, logs.err)
    c.check("events still running", events.proc.poll() is None, events.err)
    times = [t for t, l in logs.lines if l.startswith("tick")]
    gaps = [b2 - a2 for a2, b2 in zip(times, times[1:])]
    c.check("logs -f had no stall during the swaps", gaps and max(gaps) < MAX_STREAM_GAP,
            f"max gap {max(gaps) if gaps else None}")
    ticks = [int(l.split()[1]) for _, l in logs.lines if l.startswith("tick ")]
    c.eq("logs -f lost no line", list(range(ticks[0], ticks[0] + len(ticks))) if ticks else [], ticks)
    r = p.docker("alice", "tag", e2e.BB_IMAGE, "bb:after-swaps")
    c.check("tag after the swaps", r.rc == 0, r.describe())
    c.check("events stream delivers an event after the swaps",
            events.wait_line(lambda l: l.startswith("image tag"), 15) is not None, events.text()[-5:])

    m = p.metrics()
    c.check("success reloads counted", m.get(hs.RELOAD_OK, 0) >= swaps, str(m.get(hs.RELOAD_OK)))
    c.eq("no failed reloads", 0.0, m.get(hs.RELOAD_FAIL))
    st = p.status()
    c.eq("status has no error", None, st.get("last_error"))
    p.stop()


if __name__ == "__main__":
    e2e.main("swap_under_load", body, deadline=1500)
