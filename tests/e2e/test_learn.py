#!/usr/bin/env python3
"""Learn mode: the audit log of real docker CLI commands, learned into a draft
policy that allows exactly those commands again and denies what was never seen.

Usage: test_learn.py DOCKPOLD DOCKPOLC
1. dockpold under a permissive policy (fixtures/learn_permissive.dpol, which
   reads host_access so every audit line records it) with --audit-log; alice
   (group dev) and bob (group ops) run a set of commands, alice also a run
   with a bind of a host path (host access).
2. `dockpolc learn` the log: the draft passes `check --werror` and its own
   cases; the privileged requests are left out.
3. `dockpolc diff permissive draft --against the log`: exactly the requests
   with host access change (allow → deny), nothing else.
4. dockpold restarted with the draft: the same commands all succeed; commands
   never seen (alice `volume rm`, alice `run --privileged`, bob `ps`) and the
   host-access run are denied by rule `default` with dockpol's message.
"""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import e2e  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
MESSAGE = "[dockpol] The command '{action}' denied for user '{user}' by rule '{rule}'"

# What each user does; every command can run twice (names are reused, --rm, create is idempotent for volumes).
SEEN = [
    ("alice", ["ps", "-a"]),
    ("alice", ["images"]),
    ("alice", ["run", "--rm", e2e.BB_IMAGE, "echo", "hello"]),
    ("alice", ["volume", "ls"]),
    ("bob", ["volume", "create", "learn_vol"]),
    ("bob", ["volume", "ls"]),
    ("bob", ["volume", "inspect", "learn_vol"]),
    ("bob", ["network", "ls"]),
]
# Host access (a bind of a host path): allowed by the permissive policy, never learned.
HOST_ACCESS = ("alice", ["run", "--rm", "-v", "/tmp:/host_tmp:ro", e2e.BB_IMAGE, "true"])
# Never seen: (user, command, action denied, expected exit code).
UNSEEN = [
    ("alice", ["volume", "rm", "learn_vol"], "volume_delete", 1),
    ("alice", ["run", "--rm", "--privileged", e2e.BB_IMAGE, "true"], "container_create", 125),
    HOST_ACCESS + ("container_create", 125),
    ("bob", ["ps"], "container_list", 1),
]


def body(ws, checks, argv):
    dockpold, dockpolc = e2e.programs(argv, "test_learn.py DOCKPOLD DOCKPOLC")
    c = checks

    d = e2e.Dockerd(ws).start()
    d.import_busybox()
    certs = e2e.Certs(ws).ca()
    certs.server()
    certs.client("alice", ["dev"])
    certs.client("bob", ["ops"])

    permissive = os.path.join(HERE, "fixtures", "learn_permissive.dpol")
    bundle = e2e.compile_policy(dockpolc, [permissive], ws.path("permissive.dpb"), revision="e2e-permissive")
    p = e2e.Dockpold(ws, dockpold, bundle, certs, d, host_name="dev-1").start()
    for user, cmd in SEEN + [HOST_ACCESS]:
        r = p.docker(user, *cmd)
        c.check(f"permissive: {user}: docker {' '.join(cmd)}", r.rc == 0, r.describe())
    p.stop()
    log_path = p.audit_path
    events = [e for e in p.audit_lines() if isinstance(e, dict)]
    decided = [e for e in events if "facts" in e]
    c.check("permissive: audit lines record facts with host_access",
            decided and all("host_access" in e["facts"] for e in decided), json.dumps(events[:3]))
    privileged = [e for e in decided if e["facts"]["host_access"] is True]
    c.check("permissive: the bind run recorded host_access true (its create)",
            any(e["action"] == "container_create" and e["user"] == "alice" for e in privileged),
            json.dumps(privileged))

    draft = ws.path("draft.dpol")
    cases = ws.path("draft.cases.json")
    r = e2e.run([dockpolc, "learn", log_path, "-o", draft, "--cases", cases])
    c.eq("learn: exit 0", 0, r.rc, r.describe())
    with open(draft) as f:
        text = f.read()
    e2e.log(text)
    c.check("learn: host-access requests left out and counted",
            f"with host access (host_access true), left out: {len(privileged)}" in text, text)
    r = e2e.run([dockpolc, "check", "--werror", draft])
    c.eq("learn: check --werror passes", 0, r.rc, r.describe())
    r = e2e.run([dockpolc, "test", draft, "--cases", cases])
    c.check("learn: the draft passes its own cases", r.rc == 0 and r.out.endswith(" 0 failed\n"), r.describe())

    # Replaying the log: the permissive policy and the draft differ exactly on the host-access requests.
    r = e2e.run([dockpolc, "diff", "--format", "json", permissive, draft, "--against", log_path])
    c.eq("diff: exit 1 (the host-access requests change)", 1, r.rc, r.describe())
    try:
        report = json.loads(r.out)
    except ValueError:
        report = {}
    changed = sorted(ch["line"] for ch in report.get("changes", []))
    # Line numbers of the file itself: audit_lines() leaves the chain's checkpoint lines out.
    with open(p.audit_path) as f:
        raw = [json.loads(ln) for ln in f if ln.strip()]
    want = sorted(i + 1 for i, e in enumerate(raw)
                  if isinstance(e, dict) and e.get("facts", {}).get("host_access") is True)
    c.eq("diff: the changed lines are exactly those with host access", want, changed, r.out)
    c.check("diff: every change is allow (host_access_seen) -> deny (default)",
            all(ch["old"] == {"decision": "allow", "rule": "host_access_seen"}
                and ch["new"] == {"decision": "deny", "rule": "default"} for ch in report.get("changes", [])),
            r.out)
    c.eq("diff: every line with facts replayed", len(decided), report.get("replayed"), r.out)
    # Without the host-access requests, no decision changes at all.
    seen_only = ws.path("seen_only.log")
    with open(log_path) as src, open(seen_only, "w") as dst:
        for line in src:
            if json.loads(line).get("facts", {}).get("host_access") is not True:
                dst.write(line)
    r = e2e.run([dockpolc, "diff", permissive, draft, "--against", seen_only])
    c.eq("diff: exit 0 on the seen requests without host access", 0, r.rc, r.describe())

    # The draft in dockpold: the same commands pass, others are denied.
    draft_bundle = e2e.compile_policy(dockpolc, [draft], ws.path("draft.dpb"), revision="e2e-draft")
    q = e2e.Dockpold(ws, dockpold, draft_bundle, certs, d, host_name="dev-1").start()
    for user, cmd in SEEN:
        r = q.docker(user, *cmd)
        c.check(f"draft: {user}: docker {' '.join(cmd)} allowed again", r.rc == 0, r.describe())
    for user, cmd, action, rc in UNSEEN:
        r = q.docker(user, *cmd)
        want = MESSAGE.format(action=action, user=user, rule="default")
        c.check(f"draft: {user}: docker {' '.join(cmd)} denied", r.rc == rc and want in r.err,
                f"expected exit {rc} and: {want}\n{r.describe()}")
    q.stop()


if __name__ == "__main__":
    e2e.main("learn", body, deadline=540)
