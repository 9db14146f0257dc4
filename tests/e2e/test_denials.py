#!/usr/bin/env python3
"""Denials: for every example policy, denied commands fail in the docker CLI with
dockpol's exact message and never reach dockerd; allowed controls do reach it.

Usage: test_denials.py DOCKPOLD DOCKPOLC [FIXTURE.json]
Proof that dockerd never saw a denied request: its debug log (`dockerd -D`
logs `Calling METHOD PATH` for every API call) has no new line for the
endpoint, and the object the command would have made (or removed) is
checked directly on dockerd's socket. The allowed controls show that the
same probe does see requests that were forwarded.
"""

import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import e2e  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
MESSAGE = "Error response from daemon: [dockpol] The command '{action}' denied for user '{user}' by rule '{rule}'"


def endpoint_calls(dockerd, endpoint):
    method, path = endpoint.split(" ", 1)
    pat = re.compile(r'msg="Calling ' + re.escape(method) + r" (/v[0-9.]+)?" + re.escape(path)
                     + r'(\?[^"]*)?"')
    return sum(1 for line in dockerd.log_text().splitlines() if pat.search(line))


def names(dockerd, kind):
    if kind == "container":
        r = dockerd.docker("ps", "-a", "--format", "{{.Names}}")
    else:
        r = dockerd.docker(kind, "ls", "--format", "{{.Name}}")
    if r.rc != 0:
        raise e2e.Fatal("direct listing failed:\n" + r.describe())
    return set(r.out.split())


def check_objects(c, dockerd, case, label):
    for kind, name in case.get("absent", {}).items():
        c.check(f"{label}: {kind} {name} absent (seen directly)", name not in names(dockerd, kind), "")
    for kind, name in case.get("present", {}).items():
        c.check(f"{label}: {kind} {name} present (seen directly)", name in names(dockerd, kind), "")


def body(ws, checks, argv):
    dockpold, dockpolc = e2e.programs(argv, "test_denials.py DOCKPOLD DOCKPOLC [FIXTURE.json]")
    fixture = argv[2] if len(argv) > 2 else os.path.join(HERE, "fixtures", "denials.json")
    with open(fixture) as f:
        spec = json.load(f)
    c = checks

    d = e2e.Dockerd(ws, debug=True).start()
    d.import_busybox()
    for args in (["run", "-d", "--name", "target", e2e.BB_IMAGE, "sleep", "600"],
                 ["network", "create", "e2e_keep_net"]):
        r = d.docker(*args)
        if r.rc != 0:
            raise e2e.Fatal("setup failed:\n" + r.describe())

    certs = e2e.Certs(ws).ca()
    certs.server()
    made = {}
    bundles = {}
    for server in spec["servers"]:
        for user, groups in server["users"].items():
            if made.get(user, groups) != groups:
                raise e2e.Fatal(f"fixture gives {user} two group lists")
            if user not in made:
                certs.client(user, groups)
                made[user] = groups
        name = server["policy"]
        if name not in bundles:
            bundles[name] = e2e.compile_policy(dockpolc, [e2e.example_policy(name)],
                                               ws.path(name + ".dpb"), revision="e2e-" + name)

    for server in spec["servers"]:
        tag = f"{server['policy']}@{server['host']}"
        p = e2e.Dockpold(ws, dockpold, bundles[server["policy"]], certs, d,
                         host_name=server["host"])
        p.start(ready_user=next(iter(server["users"])))

        for case in server["allowed"]:
            label = f"{tag}: {case['user']} allowed: docker {' '.join(case['cmd'])}"
            before = endpoint_calls(d, case["endpoint"])
            r = p.docker(case["user"], *case["cmd"])
            ok = r.rc == 0 and ("stdout" not in case or r.out == case["stdout"])
            c.check(label, ok, r.describe())
            c.check(f"{label}: dockerd received {case['endpoint']}",
                    endpoint_calls(d, case["endpoint"]) > before, d.log_tail(10))
            check_objects(c, d, case, label)

        for case in server["denied"]:
            label = f"{tag}: {case['user']} denied: docker {' '.join(case['cmd'])}"
            want = MESSAGE.format(action=case["action"], user=case["user"], rule=case["rule"])
            before = endpoint_calls(d, case["endpoint"])
            audit_start = len(p.audit_lines())
            r = p.docker(case["user"], *case["cmd"])
            lines = [ln.strip() for ln in r.err.splitlines()]
            # `docker run` prefixes "docker: " (and CLI 20.10 appends a period).
            c.check(f"{label}: exact CLI message",
                    any(ln in lines for ln in (want, "docker: " + want, "docker: " + want + ".")),
                    f"expected line: {want}\n{r.describe()}")
            c.eq(f"{label}: exit code", case["rc"], r.rc, r.describe())
            c.eq(f"{label}: dockerd never received {case['endpoint']}", before,
                 endpoint_calls(d, case["endpoint"]))
            check_objects(c, d, case, label)
            ev = p.wait_audit(lambda e: e.get("action") == case["action"]
                              and e.get("user") == case["user"] and e.get("decision") == "deny"
                              and e.get("rule") == case["rule"], start=audit_start)
            c.check(f"{label}: audit event", ev is not None and ev.get("status") == 403 and ev.get("host") == server["host"]
                    and ev.get("groups") == server["users"][case["user"]],
                    f"event: {ev}")
        p.stop()


if __name__ == "__main__":
    e2e.main("denials", body, deadline=540)
