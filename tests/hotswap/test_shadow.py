#!/usr/bin/env python3
"""Shadow bundle under load: dockpold serves A (allows `docker ps`) with a
shadow candidate, while client threads run `ps` and `info` requests over
keep-alive and new connections. The candidate is swapped between B (denies
`ps`) and C (denies `info`) by rename and by SIGHUP, then promoted.

Usage: test_shadow.py DOCKPOLD DOCKPOLC
Asserts: the shadow never changes an answer (every request 200 while A
serves); the disagreement counts of GET /v1/shadow and /metrics equal an
offline recount of the audit lines carrying a `shadow` key, per action and
decision pair, exactly; both candidates disagreed; every `shadow` key is the
decision and rule an offline `dockpolc diff A CANDIDATE` gives that line; with
the candidate fixed, the growth of GET /v1/shadow equals the offline diff of
the same stretch of the audit log, per action and decision pair, and nothing
else changes; POST /v1/shadow/promote under load fails no request, and
afterwards `ps` is denied by B's rule.
"""

import collections
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hotswap_lib as hs  # noqa: E402
from hotswap_lib import e2e  # noqa: E402

PS, INFO = "/v1.41/containers/json", "/v1.41/info"
DENIALS = {PS: b"[dockpol] The command 'container_list' denied for user 'bob' by rule 'list_blocked'"}
# How long the load runs around each swap: enough for a few hundred requests, little CI time.
PHASE = 0.7


def shadow(p):
    st, body = p.admin("GET", "/v1/shadow")
    if st != 200:
        raise e2e.Fatal(f"/v1/shadow answered {st}: {body}")
    return body


def wait_shadow_revision(p, rev, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if shadow(p).get("revision") == rev:
            return True
        time.sleep(0.02)
    return False


def settled_audit(p, n, timeout=10):
    """The audit events once at least n are written (the writer is asynchronous)."""
    deadline = time.monotonic() + timeout
    while True:
        evs = [e for e in p.audit_lines() if isinstance(e, dict)]
        if len(evs) >= n or time.monotonic() > deadline:
            return evs
        time.sleep(0.05)


def request_lines(p):
    """(line number in the audit file, event) of every request line (checkpoints left out)."""
    with open(p.audit_path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    out = []
    for n, line in enumerate(lines, 1):
        e = json.loads(line)
        if "checkpoint" not in e:
            out.append((n, e))
    return out, lines


def offline_diff(dockpolc, ws, old, new, lines, name):
    """`dockpolc diff OLD NEW --against` over the given audit lines, as JSON."""
    log = ws.path(name)
    with open(log, "w", encoding="utf-8") as f:
        f.write("".join(line + "\n" for line in lines))
    r = e2e.run([dockpolc, "diff", old, new, "--against", log, "--format", "json"], timeout=120)
    if r.rc not in (0, 1):
        raise e2e.Fatal("dockpolc diff failed:\n" + r.describe())
    return json.loads(r.out)


def by_action_counts(sh):
    out = collections.Counter()
    for row in sh["by_action"]:
        out[(row["action"], row["live"], row["shadow"])] += row["count"]
    return out


def body(ws, checks, argv):
    dockpold, dockpolc = e2e.programs(argv, "test_shadow.py DOCKPOLD DOCKPOLC")
    c = checks

    d = e2e.Dockerd(ws).start()
    certs = e2e.standard_pki(ws)
    a = hs.build(dockpolc, "allow_list.dpol", ws.path("A.dpb"), "rev-A")
    b = hs.build(dockpolc, "deny_list.dpol", ws.path("B.dpb"), "rev-B")
    cc = hs.build(dockpolc, "deny_info.dpol", ws.path("C.dpb"), "rev-C")
    live = hs.copy(a, ws.path("live.dpb"))
    candidate = hs.copy(b, ws.path("candidate.dpb"))
    p = hs.HotDockpold(ws, dockpold, live, certs, d, extra=["--shadow-bundle", candidate]).start()
    c.eq("serves A", "rev-A", p.status()["revision"])
    c.eq("shadow is B", "rev-B", shadow(p)["revision"])

    # ---- the candidate swapped under load: rename (file watch), then rename + SIGHUP
    load = hs.Load(p, certs, (PS, INFO), DENIALS)
    load.start()
    time.sleep(PHASE)
    for i, (src, rev) in enumerate(((cc, "rev-C"), (b, "rev-B"), (cc, "rev-C"), (b, "rev-B"))):
        hs.install(src, candidate)
        if i % 2:
            p.proc.send_signal(signal.SIGHUP)
        c.check(f"swap {i}: shadow revision {rev}", wait_shadow_revision(p, rev), shadow(p))
        time.sleep(PHASE)
    load.finish()
    c.eq("no failed request while the candidate swapped", [], load.failures[:10])
    c.eq("every request answered as A decides (the shadow changes no answer)", {200},
         {st for (_, st) in load.statuses})
    c.check("load ran", load.total() >= 100, str(load.statuses))

    # +1: the readiness ping before the load.
    evs = settled_audit(p, load.total() + 1)
    sh = shadow(p)
    c.eq("every request audited", load.total() + 1, len(evs))
    c.eq("every audited request compared with the shadow", len(evs), sh["requests"])
    recount = collections.Counter((e["action"], e["decision"], e["shadow"]["decision"]) for e in evs if "shadow" in e)
    c.check("recount: both candidates disagreed",
            recount[("container_list", "allow", "deny")] > 0 and recount[("system_info", "allow", "deny")] > 0,
            str(recount))
    c.eq("recount: the shadow key only where decisions differ", [],
         [e for e in evs if "shadow" in e and e["shadow"]["decision"] == e["decision"]][:3])
    c.eq("recount: both shadow revisions audited", {"rev-B", "rev-C"},
         {e["shadow"]["revision"] for e in evs if "shadow" in e})
    c.eq("GET /v1/shadow disagreements == audit recount", sum(recount.values()), sh["disagreements"])
    c.eq("GET /v1/shadow by_action == audit recount", dict(recount), dict(by_action_counts(sh)))
    m = p.metrics()
    from_metrics = {}
    for k, v in m.items():
        if k.startswith("dockpol_shadow_disagreements_total{"):
            labels = dict(kv.split("=", 1) for kv in k[k.index("{") + 1:-1].split(","))
            from_metrics[(labels["action"].strip('"'), labels["live"].strip('"'), labels["shadow"].strip('"'))] = int(v)
    c.eq("dockpol_shadow_disagreements_total == audit recount", dict(recount), from_metrics)
    c.eq("dockpol_shadow_bundle_info names the candidate", 1.0, m.get('dockpol_shadow_bundle_info{revision="rev-B"}'))
    c.eq("live reloads: only the 2 SIGHUPs (the candidate's are counted apart)", 2.0, m.get(hs.RELOAD_OK, 0.0))
    c.check("shadow reloads counted", m.get('dockpol_shadow_reloads_total{result="success"}', 0) >= 4, str(m))

    # ---- every `shadow` key is what the offline diff says of that line for the candidate it names
    numbered, raw = request_lines(p)
    offline = {rev: offline_diff(dockpolc, ws, a, cand, raw, f"swaps-{rev}.log")
               for rev, cand in (("rev-B", b), ("rev-C", cc))}
    for rev, rep in offline.items():
        c.eq(f"diff A {rev}: every line replayed", (len(numbered), 0), (rep["replayed"], rep["not_replayable"]))
    changed = {rev: {ch["line"]: (ch["new"]["decision"], ch["new"]["rule"]) for ch in rep["changes"]}
               for rev, rep in offline.items()}
    mismatch = [(n, e["shadow"]) for n, e in numbered if "shadow" in e and
                changed[e["shadow"]["revision"]].get(n) != (e["shadow"]["decision"], e["shadow"]["rule"])]
    c.eq("each shadow key == the offline diff of its line against the candidate it names", [], mismatch[:3])

    # ---- candidate fixed (B): the live counts grow exactly by the offline diff of the same lines
    sh0, start = shadow(p), len(raw)
    load = hs.Load(p, certs, (PS, INFO), DENIALS)
    load.start()
    time.sleep(2 * PHASE)
    load.finish()
    c.eq("no failed request with the candidate fixed", [], load.failures[:10])
    settled_audit(p, len(evs) + load.total())
    sh1 = shadow(p)
    numbered, raw = request_lines(p)
    stretch = raw[start:]
    c.eq("the stretch holds every request of the phase", load.total(),
         sum(1 for n, _ in numbered if n > start))
    rep = offline_diff(dockpolc, ws, a, b, stretch, "fixed-B.log")
    c.eq("diff A B over the stretch: every line replayed", (load.total(), 0), (rep["replayed"], rep["not_replayable"]))
    from_diff = collections.Counter((ch["action"], ch["old"]["decision"], ch["new"]["decision"])
                                    for ch in rep["changes"] if ch["kind"] == "decision")
    growth = by_action_counts(sh1)
    growth.subtract(by_action_counts(sh0))
    c.check("the stretch had disagreements", sum(from_diff.values()) > 0, str(rep)[:300])
    c.eq("GET /v1/shadow growth == offline dockpolc diff, per action and decision pair",
         dict(from_diff), {k: v for k, v in growth.items() if v})
    c.eq("GET /v1/shadow disagreements growth == diff's decisions_changed",
         rep["decisions_changed"], sh1["disagreements"] - sh0["disagreements"])
    evs = settled_audit(p, len(evs) + load.total())

    # ---- promotion under load: no request fails, then B decides
    before = len(evs)
    load = hs.Load(p, certs, (PS, INFO), DENIALS)
    load.start()
    time.sleep(PHASE)
    st, res = p.admin("POST", "/v1/shadow/promote")
    c.eq("promote answers 200 with the new status", (200, "rev-B"), (st, res.get("revision") if isinstance(res, dict) else res))
    time.sleep(PHASE)
    load.finish()
    c.eq("no failed request across the promotion", [], load.failures[:10])
    c.check("ps denied by B after the promotion", load.statuses[(PS, 403)] > 0, str(load.statuses))
    c.eq("`ps` now denied by B's rule", 403, hs.ps_status(p))
    c.eq("/v1/status source names the shadow", "shadow:" + candidate, p.status()["source"])
    evs = settled_audit(p, before + load.total() + 1)[before:]
    wrong = [e for e in evs if e["action"] == "container_list" and
             (e["decision"] == "allow") != (e["revision"] == "rev-A")]
    c.eq("each `ps` decided by the revision it started with (A allows, B denies)", [], wrong[:3])
    c.eq("the shadow agrees with the promoted program", [],
         [e for e in evs if e["revision"] == "rev-B" and "shadow" in e][:3])
    p.stop()


if __name__ == "__main__":
    e2e.main("shadow", body, deadline=300)
