#!/usr/bin/env python3
"""Parity: a user the demo policy allows sees through dockpold exactly what dockerd gives directly.

Usage: test_parity.py DOCKPOLD DOCKPOLC [USER]
       test_parity.py --direct        (harness self-check: both sides are dockerd)
Every docker CLI command runs twice, directly against the private dockerd and
through dockpold, and stdout and the exit code must match after the explicit
normalisations below (relative times, table padding, volatile counters).
"""

import difflib
import hashlib
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import e2e  # noqa: E402
from streams import LineStream  # noqa: E402

# Big enough to span many TLS records and relay buffers, and to show that no
# body cap applies to cp/load/import.
BIG_FILE_MIB = 64
LAYER_MIB = 32
TRANSFER_TIMEOUT = 240

HEX64 = re.compile(r"^[0-9a-f]{64}$")
AGO = re.compile(r"(About an? \w+|Less than a second|\d+ \w+) ago")
UP = re.compile(r"Up (About an? \w+|Less than a second|\d+ \w+)")


def norm_table(text):
    """Relative times and tabwriter padding differ between two runs a second apart."""
    rows = []
    for line in text.splitlines():
        line = AGO.sub("<AGO>", line)
        line = UP.sub("Up <T>", line)
        rows.append(" | ".join(f.strip() for f in re.split(r"\s{2,}", line.strip())))
    return "\n".join(rows)


# `docker info` counters that change on their own between two calls.
VOLATILE_INFO = ("System Time", "File Descriptors", "Goroutines", "EventsListeners")
# dockerd prints these from a Go map: the order changes between calls.
UNORDERED_INFO = ("Runtimes",)


def norm_info(text):
    out = []
    for line in text.splitlines():
        key = line.strip().split(":", 1)[0]
        if key in VOLATILE_INFO:
            line = f"{key}: <volatile>"
        elif key in UNORDERED_INFO:
            line = f"{key}: " + " ".join(sorted(line.split(":", 1)[1].split()))
        out.append(line)
    return "\n".join(out)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class Direct:
    """Stands in for dockpold in --direct mode so the harness itself can be checked."""

    def __init__(self, dockerd):
        self.d = dockerd

    def docker(self, _user, *args, **kw):
        return self.d.docker(*args, **kw)

    def env(self, _user):
        return self.d.env()

    def wait_audit(self, _pred, timeout=0):
        return None


class Parity:
    def __init__(self, checks, dockerd, proxy, user):
        self.c = checks
        self.d = dockerd
        self.p = proxy
        self.user = user

    def via(self, *args, **kw):
        return self.p.docker(self.user, *args, **kw)

    def same(self, name, args, norm=lambda s: s, input=None, timeout=e2e.COMMAND_TIMEOUT,
             expect_rc=0):
        """Runs args directly then through dockpold; stdout (normalised) and exit code must match."""
        d = self.d.docker(*args, input=input, timeout=timeout)
        p = self.via(*args, input=input, timeout=timeout)
        nd, np_ = norm(d.out), norm(p.out)
        ok = (d.rc == p.rc == expect_rc) and nd == np_
        diff = "\n".join(difflib.unified_diff(str(nd).splitlines(), str(np_).splitlines(),
                                              "direct", "via dockpold", lineterm="", n=1))
        self.c.check(f"parity: docker {' '.join(args)}", ok,
                     f"expected exit {expect_rc}, direct {d.rc}, via dockpold {p.rc}\n"
                     f"normalised stdout diff:\n{diff}\n--- direct ---\n{d.describe()}\n"
                     f"--- via dockpold ---\n{p.describe()}")
        return d, p


def body(ws, checks, argv):
    if argv and argv[0] == "--direct":
        proxy_mode = False
        user = "alice"
    else:
        dockpold, dockpolc = e2e.programs(argv, "test_parity.py DOCKPOLD DOCKPOLC [USER]")
        user = argv[2] if len(argv) > 2 else "alice"
        proxy_mode = True

    d = e2e.Dockerd(ws).start()
    d.import_busybox()
    if proxy_mode:
        certs = e2e.standard_pki(ws)
        bundle = e2e.compile_policy(dockpolc, [e2e.example_policy("demo")], ws.path("demo.dpb"))
        p = e2e.Dockpold(ws, dockpold, bundle, certs, d).start(ready_user=user)
    else:
        p = Direct(d)
    t = Parity(checks, d, p, user)
    c = checks

    # --- version, info: the server answers as itself; API version negotiated through ping.
    dv = d.docker("version", "--format", "{{json .Server}}")
    pv = t.via("version", "--format", "{{json .Server}}")
    try:
        dj, pj = json.loads(dv.out), json.loads(pv.out)
        c.eq("parity: version Server section keys", sorted(dj), sorted(pj))
        c.eq("parity: version Server section values", dj, pj)
    except ValueError:
        c.check("parity: version Server section", False, dv.describe() + "\n" + pv.describe())
    t.same("version API negotiation", ["version", "--format", "{{.Client.APIVersion}}"])
    t.same("info", ["info"], norm=norm_info)

    # --- foreground run: create, attach, start, wait through dockpold.
    d_run, p_run = t.same("run", ["run", "--rm", e2e.BB_IMAGE, "echo", "hi"])
    c.eq("run --rm bb echo hi prints hi", "hi\n", p_run.out)
    t.same("run exit code", ["run", "--rm", e2e.BB_IMAGE, "sh", "-c", "echo x; exit 7"],
           expect_rc=7)
    ev = p.wait_audit(lambda e: e.get("action") == "container_create" and e.get("user") == user)
    if proxy_mode:
        keys = {"time", "id", "user", "groups", "peer", "host", "method", "path", "action",
                "resource", "decision", "rule", "revision", "status", "bytes_in", "bytes_out",
                "duration_ms"}
        c.check("audit: container_create event with every key", ev is not None and keys <= set(ev),
                f"event: {ev}\nmissing: {sorted(keys - set(ev or {}))}")
        if ev:
            c.eq("audit: container_create decision/user/groups",
                 ("allow", user, ["admins"], "e2e-host"),
                 (ev.get("decision"), ev.get("user"), ev.get("groups"), ev.get("host")))

    # --- a TTY container: raw stream (no multiplexing) plus container_resize.
    t.same("run -t", ["run", "-t", "--rm", e2e.BB_IMAGE, "sh", "-c", "echo tty; exit 4"],
           expect_rc=4)

    # --- run -i with piped stdin: half-close must reach the container.
    t.same("run -i", ["run", "-i", "--rm", e2e.BB_IMAGE, "sh", "-c", "cat; echo done"],
           input="a\nb\n")
    _, pri = t.same("run -i wc", ["run", "-i", "--rm", e2e.BB_IMAGE, "wc", "-c"],
                    input=b"z" * (1 << 20), timeout=120)
    c.eq("run -i passes 1 MiB of stdin", "1048576", pri.out.strip())

    # --- detached run + logs + logs -f (streamed while the container runs).
    script = "for i in $(seq 1 20); do echo line$i; sleep 0.2; done"
    r = t.via("run", "-d", "--name", "logf", e2e.BB_IMAGE, "sh", "-c", script)
    c.check("run -d prints a container id", r.rc == 0 and HEX64.match(r.out.strip()), r.describe())
    follow = LineStream(["docker", "logs", "-f", "logf"], env=p.env(user))
    try:
        first = follow.wait_line(lambda s: s == "line1", timeout=15)
        running = d.docker("inspect", "-f", "{{.State.Running}}", "logf").out.strip()
        c.check("logs -f: first line arrives while the container still runs",
                first is not None and running == "true",
                f"first={first} running={running} lines={follow.text()}")
        rc = follow.wait_exit(30)
        c.check("logs -f: ends when the container stops", rc == 0,
                f"rc={rc} stderr={follow.err!r}")
        c.eq("logs -f: every line", [f"line{i}" for i in range(1, 21)], follow.text())
        spread = follow.lines[-1][0] - follow.lines[0][0] if follow.lines else 0
        c.check("logs -f: lines arrive over time, not in one burst", spread > 2.0,
                f"first-to-last {spread:.2f}s")
    finally:
        follow.stop()
    t.same("logs", ["logs", "logf"])
    t.same("logs --tail", ["logs", "--tail", "3", "-t", "logf"])

    # --- attach: output after attaching, exit code of the container.
    attached = {}
    for side, runner in (("direct", d.docker), ("dockpold", t.via)):
        name = f"att_{side}"
        runner("run", "-d", "--name", name, e2e.BB_IMAGE, "sh", "-c",
               "sleep 2; echo att1; sleep 0.3; echo att2; exit 5")
        attached[side] = runner("attach", "--no-stdin", name, timeout=30)
    a_d, a_p = attached["direct"], attached["dockpold"]
    c.check("parity: docker attach (output and exit code)",
            (a_d.rc, a_d.out) == (a_p.rc, a_p.out) == (5, "att1\natt2\n"),
            a_d.describe() + "\n" + a_p.describe())

    # --- exec: output, exit code, stdin.
    r = t.via("run", "-d", "--name", "exe", e2e.BB_IMAGE, "sleep", "600")
    c.check("run -d sleep", r.rc == 0, r.describe())
    _, pe = t.same("exec exit code", ["exec", "exe", "sh", "-c", "echo out; echo err >&2; exit 3"],
                   expect_rc=3)
    c.check("exec: stderr is relayed", "err" in pe.err, pe.describe())
    t.same("exec ls", ["exec", "exe", "ls", "/"])
    t.same("exec -t", ["exec", "-t", "exe", "sh", "-c", "echo tty; exit 2"], expect_rc=2)
    t.same("exec -i", ["exec", "-i", "exe", "cat"], input="data\n")
    _, pei = t.same("exec -i wc", ["exec", "-i", "exe", "wc", "-c"], input=b"q" * (1 << 20),
                    timeout=120)
    c.eq("exec -i passes 1 MiB of stdin", "1048576", pei.out.strip())

    # --- cp in and out with a big random file.
    big = ws.path("big.bin")
    with open(big, "wb") as f:
        for _ in range(BIG_FILE_MIB):
            f.write(os.urandom(1 << 20))
    want = sha256_file(big)
    r = t.via("cp", big, "exe:/tmp/big.bin", timeout=TRANSFER_TIMEOUT)
    c.check(f"cp into a container ({BIG_FILE_MIB} MiB)", r.rc == 0, r.describe())
    inside = d.docker("exec", "exe", "sha256sum", "/tmp/big.bin").out.split()
    c.eq("cp into: sha256 inside equals the source", want, inside[0] if inside else "")
    out_path = ws.path("big.out")
    r = t.via("cp", "exe:/tmp/big.bin", out_path, timeout=TRANSFER_TIMEOUT)
    c.check("cp out of a container", r.rc == 0, r.describe())
    c.eq("cp out: sha256 equals the source", want,
         sha256_file(out_path) if os.path.exists(out_path) else "")
    os.unlink(big)

    # --- a large image: commit, save/load and export/import through dockpold.
    r = t.via("run", "--name", "mk", e2e.BB_IMAGE, "dd", "if=/dev/urandom", "of=/big",
              "bs=1048576", f"count={LAYER_MIB}", timeout=120)
    c.check("run dd (large layer)", r.rc == 0, r.describe())
    r = t.via("commit", "mk", "bigimg:1")
    c.check("commit", r.rc == 0 and r.out.startswith("sha256:"), r.describe())
    big_sha = d.docker("run", "--rm", "bigimg:1", "sha256sum", "/big").out.split()[:1]
    save_d, save_p = ws.path("save-d.tar"), ws.path("save-p.tar")
    rd = d.docker("save", "-o", save_d, "bigimg:1", timeout=TRANSFER_TIMEOUT)
    rp = t.via("save", "-o", save_p, "bigimg:1", timeout=TRANSFER_TIMEOUT)
    c.check("save through dockpold", rd.rc == 0 and rp.rc == 0, rd.describe() + "\n" + rp.describe())
    if rd.rc == 0 and rp.rc == 0:
        size = os.path.getsize(save_p)
        c.check(f"save: archive is large ({size} bytes)", size > LAYER_MIB << 20, "")
        c.eq("save: archive identical to the direct one", sha256_file(save_d), sha256_file(save_p))
    r = d.docker("rmi", "bigimg:1")
    c.check("rmi before load", r.rc == 0, r.describe())
    r = t.via("load", "-i", save_p, timeout=TRANSFER_TIMEOUT)
    c.check("load through dockpold", r.rc == 0 and "bigimg:1" in r.out, r.describe())
    after = d.docker("run", "--rm", "bigimg:1", "sha256sum", "/big").out.split()[:1]
    c.check("load: the image's content survived", bool(big_sha) and big_sha == after,
            f"{big_sha} vs {after}")
    exp_d, exp_p = ws.path("exp-d.tar"), ws.path("exp-p.tar")
    rd = d.docker("export", "-o", exp_d, "mk", timeout=TRANSFER_TIMEOUT)
    rp = t.via("export", "-o", exp_p, "mk", timeout=TRANSFER_TIMEOUT)
    c.check("export through dockpold", rd.rc == 0 and rp.rc == 0,
            rd.describe() + "\n" + rp.describe())
    if rp.rc == 0 and rd.rc == 0:
        ld = e2e.run(["tar", "-tvf", exp_d]).out
        lp = e2e.run(["tar", "-tvf", exp_p]).out
        c.check("export: same archive listing as direct", ld == lp and "big" in lp,
                f"direct {len(ld)} chars, via {len(lp)} chars")
    r = t.via("import", exp_p, "imported:1", timeout=TRANSFER_TIMEOUT)
    c.check("import through dockpold", r.rc == 0 and r.out.startswith("sha256:"), r.describe())
    imp = d.docker("run", "--rm", "imported:1", "/bin/sha256sum", "/big").out.split()[:1]
    c.check("import: content equals the original layer", bool(big_sha) and imp == big_sha,
            f"{big_sha} vs {imp}")
    for f in (save_d, save_p, exp_d, exp_p, out_path):
        if os.path.exists(f):
            os.unlink(f)

    # --- events stream while another command runs.
    events = LineStream(["docker", "events", "--format",
                         "{{.Type}} {{.Action}} {{.Actor.ID}}"], env=p.env(user))
    try:
        time.sleep(1.5)
        r = d.docker("volume", "create", "evtvol")
        got = events.wait_line(lambda s: s == "volume create evtvol", timeout=15)
        c.check("events: a line arrives while the stream stays open",
                got is not None and events.proc.poll() is None,
                f"lines={events.text()} rc={events.proc.poll()} err={events.err!r}")
        r = t.via("volume", "rm", "evtvol")
        got = events.wait_line(lambda s: s == "volume destroy evtvol", timeout=15)
        c.check("events: a second event on the same stream", got is not None,
                f"lines={events.text()}")
    finally:
        events.stop()

    # --- stats, inspect, listings.
    ds = d.docker("stats", "--no-stream", "--format", "{{.Name}} {{.ID}}", timeout=60)
    ps = t.via("stats", "--no-stream", "--format", "{{.Name}} {{.ID}}", timeout=60)
    c.check("parity: docker stats --no-stream (containers listed)",
            ds.rc == ps.rc == 0 and sorted(ds.out.split("\n")) == sorted(ps.out.split("\n"))
            and "exe" in ps.out, ds.describe() + "\n" + ps.describe())
    ps2 = t.via("stats", "--no-stream", "exe", timeout=60)
    c.check("stats --no-stream exe shows a MEM USAGE row", ps2.rc == 0 and "exe" in ps2.out
            and "MEM USAGE" in ps2.out, ps2.describe())
    t.same("inspect", ["inspect", "mk"], norm=lambda s: json.loads(s) if s.strip() else s)
    t.same("image inspect", ["image", "inspect", e2e.BB_IMAGE],
           norm=lambda s: json.loads(s) if s.strip() else s)
    t.same("inspect missing", ["inspect", "no_such_thing"], expect_rc=1)
    t.same("ps -a", ["ps", "-a"], norm=norm_table)
    t.same("ps -a --no-trunc", ["ps", "-a", "--no-trunc"], norm=norm_table)
    t.same("images", ["images"], norm=norm_table)
    t.same("diff", ["diff", "mk"])
    t.same("history", ["history", "bigimg:1"], norm=norm_table)
    t.same("top", ["top", "exe"], norm=lambda s: [ln.split()[-1] for ln in s.splitlines()])

    # --- rm -f through dockpold.
    r = t.via("rm", "-f", "exe")
    c.check("rm -f prints the name", r.rc == 0 and r.out.strip() == "exe", r.describe())
    left = d.docker("ps", "-a", "--format", "{{.Names}}").out.split()
    c.check("rm -f: container gone (seen directly)", "exe" not in left, f"{left}")

    # --- networks.
    r = t.via("network", "create", "e2enet")
    c.check("network create", r.rc == 0 and HEX64.match(r.out.strip()), r.describe())
    t.same("network ls", ["network", "ls"], norm=norm_table)
    t.same("network inspect", ["network", "inspect", "e2enet"],
           norm=lambda s: json.loads(s) if s.strip() else s)
    r = t.via("network", "rm", "e2enet")
    c.check("network rm", r.rc == 0 and r.out.strip() == "e2enet", r.describe())
    c.check("network rm: gone (seen directly)",
            "e2enet" not in d.docker("network", "ls", "--format", "{{.Name}}").out.split(), "")

    # --- volumes.
    r = t.via("volume", "create", "e2evol")
    c.check("volume create", r.rc == 0 and r.out.strip() == "e2evol", r.describe())
    t.same("volume ls", ["volume", "ls"], norm=norm_table)
    r = t.via("volume", "rm", "e2evol")
    c.check("volume rm", r.rc == 0 and r.out.strip() == "e2evol", r.describe())
    c.check("volume rm: gone (seen directly)",
            "e2evol" not in d.docker("volume", "ls", "--format", "{{.Name}}").out.split(), "")

    # --- system df last, when nothing runs any more.
    t.same("system df", ["system", "df"], norm=norm_table, timeout=120)


if __name__ == "__main__":
    e2e.main("parity", body, deadline=840)
