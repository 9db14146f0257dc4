#!/usr/bin/env python3
"""Ownership end to end: the real docker CLI through dockpold with
examples/policies/shared_host.dpol (`owner label "dockpol.owner"`, dev may
`allow own`, admins everything).

Usage: test_ownership.py DOCKPOLD DOCKPOLC

bob and carol are in group dev, alice in admins. bob's `run -d`, `ps`,
`ps -a`, `volume ls`, `events --since`, `exec`, `logs`, `stop`, `rm` work on
his own objects; the same commands on carol's are denied (lists do not show
them); `run -v carolvol:/x` and `--network carolnet` as bob are denied;
`ps` as alice shows both; `container prune` as bob removes only bob's stopped
containers; a container alice creates from an image labelled
`dockpol.owner=bob` belongs to alice; the audit line records the rewrites.
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import e2e  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
BB = e2e.BB_IMAGE
LABEL = "dockpol.owner"
DENIED = "Error response from daemon: [dockpol] The command '{action}' denied for user '{user}' by rule '{rule}'"


def names(r):
    return sorted(x for x in r.out.split() if x)


def owner_of(d, kind, name):
    fmt = "{{index .Config.Labels \"%s\"}}" % LABEL if kind == "container" else "{{index .Labels \"%s\"}}" % LABEL
    r = d.docker(kind, "inspect", "--format", fmt, name)
    return r.out.strip() if r.rc == 0 else None


def denied(r, actions, user, rule="default"):
    """The command failed with dockpol's denial of one of `actions` (the CLI inspects first for some commands)."""
    lines = [ln.strip() for ln in r.err.splitlines()]
    for action in ([actions] if isinstance(actions, str) else actions):
        want = DENIED.format(action=action, user=user, rule=rule)
        if r.rc != 0 and any(ln in lines for ln in (want, "docker: " + want, "docker: " + want + ".")):
            return True
    return False


def body(ws, checks, argv):
    dockpold, dockpolc = e2e.programs(argv, "test_ownership.py DOCKPOLD DOCKPOLC")
    c = checks

    d = e2e.Dockerd(ws, debug=True).start()
    d.import_busybox()
    certs = e2e.standard_pki(ws)
    certs.client("carol", ["dev"])
    bundle = e2e.compile_policy(dockpolc, [e2e.example_policy("shared_host")], ws.path("shared_host.dpb"),
                                revision="e2e-ownership")
    p = e2e.Dockpold(ws, dockpold, bundle, certs, d).start(ready_user="bob")

    def as_(user, *args, **kw):
        return p.docker(user, *args, **kw)

    # ---- each developer makes objects of their own
    for user in ("bob", "carol"):
        r = as_(user, "volume", "create", f"{user}vol")
        c.check(f"{user}: volume create", r.rc == 0, r.describe())
        c.eq(f"{user}: the volume is labelled as {user}'s", user, owner_of(d, "volume", f"{user}vol"))
        r = as_(user, "network", "create", f"{user}net")
        c.check(f"{user}: network create", r.rc == 0, r.describe())
        c.eq(f"{user}: the network is labelled as {user}'s", user, owner_of(d, "network", f"{user}net"))
        r = as_(user, "run", "-d", "--name", f"{user}box", "-v", f"{user}vol:/data", BB, "sleep", "600", timeout=90)
        c.check(f"{user}: docker run -d with the own volume", r.rc == 0, r.describe())
        c.eq(f"{user}: the container is labelled as {user}'s", user, owner_of(d, "container", f"{user}box"))
        r = as_(user, "create", "--name", f"{user}stopped", BB, "true")
        c.check(f"{user}: docker create (stays stopped)", r.rc == 0, r.describe())

    # ---- bob on his own objects
    r = as_("bob", "ps", "--format", "{{.Names}}")
    c.eq("bob: ps shows only bob's running container", ["bobbox"], names(r), r.describe())
    r = as_("bob", "ps", "-a", "--format", "{{.Names}}")
    c.eq("bob: ps -a shows only bob's containers", ["bobbox", "bobstopped"], names(r), r.describe())
    r = as_("bob", "ps", "-a", "--filter", f"label={LABEL}=carol", "--format", "{{.Names}}")
    c.eq("bob: a filter on carol's label shows bob's, never carol's", ["bobbox", "bobstopped"], names(r), r.describe())
    r = as_("bob", "volume", "ls", "-q")
    c.eq("bob: volume ls shows only bob's", ["bobvol"], names(r), r.describe())
    r = as_("bob", "exec", "bobbox", "echo", "hi-from-bob")
    c.check("bob: exec into his container", r.rc == 0 and "hi-from-bob" in r.out, r.describe())
    r = as_("bob", "logs", "bobbox")
    c.check("bob: logs of his container", r.rc == 0, r.describe())

    # ---- bob on carol's objects
    r = as_("bob", "exec", "carolbox", "true")
    c.check("bob: exec into carol's container denied",
            denied(r, ("container_inspect", "container_exec"), "bob"), r.describe())
    r = as_("bob", "logs", "carolbox")
    c.check("bob: logs of carol's container denied",
            denied(r, ("container_inspect", "container_logs"), "bob"), r.describe())
    # The CLI stops at its inspect; the exec itself, sent directly, is denied too.
    st, got = p.raw_request("bob", "POST", "/v1.41/containers/carolbox/exec", body=b'{"Cmd":["true"]}')
    c.check("bob: POST /containers/carolbox/exec denied (container_exec)",
            st == 403 and b"The command 'container_exec' denied for user 'bob' by rule 'default'" in got,
            f"{st} {got[:200]!r}")
    r = as_("bob", "stop", "carolbox")
    c.check("bob: stop carol's container denied", denied(r, "container_stop", "bob"), r.describe())
    r = as_("bob", "rm", "-f", "carolbox")
    c.check("bob: rm carol's container denied", denied(r, "container_delete", "bob"), r.describe())
    r = as_("bob", "volume", "rm", "carolvol")
    c.check("bob: volume rm of carol's denied", denied(r, "volume_delete", "bob"), r.describe())
    r = as_("bob", "run", "--rm", "-v", "carolvol:/x", BB, "true", timeout=60)
    c.check("bob: run -v carolvol denied", denied(r, "container_create", "bob"), r.describe())
    r = as_("bob", "run", "--rm", "--network", "carolnet", BB, "true", timeout=60)
    c.check("bob: run --network carolnet denied", denied(r, "container_create", "bob"), r.describe())
    r = as_("bob", "run", "--rm", "--volumes-from", "carolbox", BB, "true", timeout=60)
    c.check("bob: run --volumes-from carolbox denied", denied(r, "container_create", "bob"), r.describe())
    r = as_("bob", "run", "--rm", "--label", f"{LABEL}=carol", BB, "true", timeout=60)
    c.check("bob: a create labelled as carol's is denied by rule error",
            denied(r, "container_create", "bob", "error"), r.describe())
    c.eq("carol's container still runs", "true",
         d.docker("inspect", "--format", "{{.State.Running}}", "carolbox").out.strip())

    # ---- events: bob sees his container's events only
    since = str(int(time.time()) - 3600)
    r = as_("bob", "events", "--since", since, "--until", str(int(time.time()) + 1),
            "--filter", "type=container", "--format", "{{.Actor.Attributes.name}}", timeout=30)
    seen = set(names(r))
    c.check("bob: events show his containers", "bobbox" in seen, r.describe())
    c.check("bob: events never show carol's", not any(n.startswith("carol") for n in seen), str(seen))

    # ---- admin sees everyone's
    r = as_("alice", "ps", "--format", "{{.Names}}")
    c.eq("alice (admin): ps shows both", ["bobbox", "carolbox"], names(r), r.describe())

    # ---- prune: only bob's stopped containers go
    r = as_("bob", "container", "prune", "-f")
    c.check("bob: container prune", r.rc == 0, r.describe())
    left = names(d.docker("ps", "-a", "--format", "{{.Names}}"))
    c.check("bob: prune removed bob's stopped container", "bobstopped" not in left, str(left))
    c.check("bob: prune left carol's stopped container", "carolstopped" in left, str(left))

    # ---- an image carrying the owner label does not hand its containers to bob
    d.docker("create", "--name", "exporter", BB, "true")
    exp = ws.path("rootfs.tar")
    d.docker("export", "-o", exp, "exporter")
    d.docker("rm", "exporter")
    r = d.docker("import", "--change", f"LABEL {LABEL}=bob", "--change", 'CMD ["sleep","600"]', exp, "labelled")
    c.check("image labelled dockpol.owner=bob imported", r.rc == 0, r.describe())
    r = as_("alice", "run", "-d", "--name", "alicebox", "labelled", timeout=90)
    c.check("alice: run from the labelled image", r.rc == 0, r.describe())
    c.eq("alice's container from bob-labelled image belongs to alice", "alice", owner_of(d, "container", "alicebox"))
    r = as_("bob", "exec", "alicebox", "true")
    c.check("bob: exec into alice's container (bob-labelled image) denied",
            denied(r, ("container_inspect", "container_exec"), "bob"), r.describe())

    # ---- bob cleans up his own
    r = as_("bob", "stop", "-t", "1", "bobbox", timeout=60)
    c.check("bob: stop his container", r.rc == 0, r.describe())
    r = as_("bob", "rm", "bobbox")
    c.check("bob: rm his container", r.rc == 0, r.describe())

    # ---- the audit line records the rewrites
    lines = [e for e in p.audit_lines() if isinstance(e, dict)]
    lists = [e for e in lines if e.get("user") == "bob" and e.get("action") == "container_list"]
    c.check("audit: bob's container_list records the filter rewrite",
            any(any(rw.get("kind") == "query" for rw in e.get("rewrites", [])) for e in lists),
            json.dumps(lists[-1:]))
    creates = [e for e in lines if e.get("user") == "bob" and e.get("action") == "container_create"
               and e.get("decision") == "allow"]
    c.check("audit: bob's container_create records the label splice",
            any(any(rw.get("kind") == "body" for rw in e.get("rewrites", [])) for e in creates),
            json.dumps(creates[-1:]))
    p.stop()


if __name__ == "__main__":
    e2e.main("ownership", body, deadline=400)
