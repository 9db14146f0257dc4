#!/usr/bin/env python3
"""dockpold vs dockerd's own socket, in one interleaved run.

Usage: proxy_bench.py --dockpold BIN --dockpolc BIN --hop-relay BIN [--reps N] [--duration S] [--big-mib M]
                      [--quick] [--cli-reps N] [--idle-conns N] [--out FILE]

Starts a private dockerd and dockpold (tests/e2e/lib/e2e.py; policy examples/policies/demo.dpol,
client `alice` in group admins), builds the load client from tests/bench/pbload.cc into
the scratch dir, and measures every figure as a ratio to the direct socket measured in the same
repetition (targets and directions alternate order between repetitions):
keep-alive GET /_ping req/s at 1 and 16 connections (beside two zero-work plaintext relays,
tests/bench/hop_relay.cpp, that show what the extra hop alone costs on this machine, and the CPU
per request of client, dockerd and dockpold with the ceiling it implies); one-connection streaming of a big
GET /containers/C/archive download and PUT /containers/C/archive upload; new mTLS connections/s
and dockpold CPU per handshake (utime+stime from /proc/PID/stat); `docker ps -a` wall time;
dockpold VmRSS idle and with N idle TLS connections open. Writes a markdown table to --out.
The machine is assumed shared and noisy: read ratios and medians from one run, not absolutes.
"""

import argparse
import json
import os
import resource
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e", "lib"))
import e2e  # noqa: E402

REPO = e2e.SOURCE_ROOT
PBLOAD_SRC = os.path.join(REPO, "tests", "bench", "pbload.cc")
# Zero-work plaintext relays measured beside dockpold: what one extra hop costs here (no TLS).
# name -> (how it waits, its flags)
RELAYS = {"relay": ("blocking", []), "relay-spin": ("spinning", ["--spin"])}
PARTS = ("ping", "newconn", "stream", "cli", "idle")
DEFAULT_OUT = os.path.join(HERE, "results", "proxy-latest.md")
# A full run on 2 busy cores takes ~15 min; the deadline only guards against a hang.
DEADLINE_S = 3600
# pbload caps one streaming request; 512 MiB at a slow 20 MiB/s still fits.
STREAM_TIMEOUT_S = 300
CLK_TCK = os.sysconf("SC_CLK_TCK")
TARGETS = {"ping_ratio": 0.8, "stream_ratio": 0.9}


def log(msg):
    print(f"[bench] {msg}", flush=True)


def cpu_s(pid):
    """utime+stime of a process in seconds (/proc/PID/stat fields 14 and 15)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def children_cpu_s():
    """utime+stime of this script's waited-for children so far (the load client)."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def vm_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def med(xs):
    return statistics.median(xs) if xs else float("nan")


class NoAuditDockpold(e2e.Dockpold):
    """dockpold without --audit-log (to measure what the audit line costs per request)."""

    def args(self):
        a = super().args()
        i = a.index("--audit-log")
        return a[:i] + a[i + 2:]


class Bench:
    def __init__(self, ws, args):
        self.ws = ws
        self.a = args
        self.samples = []  # raw records, also written as JSON beside the table
        self.dockerd = None
        self.proxy = None
        self.pbload = None
        self.rss_conns = None  # set by idle_rss()
        self.relay_socks = {}  # relay name -> its socket, once started

    # ------------------------------------------------------------ setup

    def setup(self):
        a = self.a
        self.pbload = self.ws.path("pbload")
        log("building pbload from " + os.path.relpath(PBLOAD_SRC, REPO))
        r = e2e.run(["g++", "-O2", "-std=c++17", "-pthread", PBLOAD_SRC, "-o", self.pbload,
                     "-lssl", "-lcrypto"], timeout=300)
        if r.rc != 0:
            raise e2e.Fatal("pbload build failed:\n" + r.describe())
        # Private copies: other builds may relink the tree's binaries mid-run.
        dockpold = shutil.copy2(e2e.need_file(a.dockpold, "dockpold"), self.ws.path("dockpold"))
        self.hop_relay = shutil.copy2(e2e.need_file(a.hop_relay, "hop_relay"), self.ws.path("hop_relay"))
        dockpolc = e2e.need_file(a.dockpolc, "dockpolc")
        log("starting dockerd")
        self.dockerd = e2e.Dockerd(self.ws).start()
        self.dockerd.import_busybox()
        certs = e2e.standard_pki(self.ws)
        bundle = e2e.compile_policy(dockpolc, [e2e.example_policy("demo")], self.ws.path("demo.dpb"),
                                    revision="bench")
        extra = ["--max-conns", str(a.idle_conns + 256)]
        cls = e2e.Dockpold if a.audit == "file" else NoAuditDockpold
        self.proxy = cls(self.ws, dockpold, bundle, certs, self.dockerd, extra=extra)
        self.proxy.start()
        self.pid = self.proxy.proc.pid
        self.rss_start = vm_rss_kib(self.pid)
        self.alice = certs.users["alice"]
        log(f"dockpold pid {self.pid} on port {self.proxy.port}, VmRSS {self.rss_start} KiB")
        self.make_big()

    def make_big(self):
        mib = self.a.big_mib
        log(f"creating container bench-big with a {mib} MiB /bigfile and a {mib} MiB upload tar")
        r = self.dockerd.docker("run", "--name", "bench-big", e2e.BB_IMAGE, "dd", "if=/dev/zero",
                                "of=/bigfile", "bs=1M", f"count={mib}", timeout=600)
        if r.rc != 0:
            raise e2e.Fatal("creating bench-big failed:\n" + r.describe())
        src = self.ws.path("up")
        os.makedirs(src)
        with open(os.path.join(src, "upfile"), "wb") as f:
            block = b"\x5a" * (1 << 20)
            for _ in range(mib):
                f.write(block)
        self.tar = self.ws.path("up.tar")
        r = e2e.run(["tar", "-C", src, "-cf", self.tar, "upfile"], timeout=600)
        if r.rc != 0:
            raise e2e.Fatal("tar failed:\n" + r.describe())
        shutil.rmtree(src)

    def relay_target(self, name):
        """Starts relay `name` in front of dockerd on first use; its socket path."""
        if name not in self.relay_socks:
            sock = self.ws.path(f"{name}.sock")
            proc = subprocess.Popen([self.hop_relay, sock, self.dockerd.sock, *RELAYS[name][1]],
                                    stdin=subprocess.DEVNULL)
            self.ws.on_cleanup(lambda: e2e.stop_process(proc, grace=5))
            deadline = time.monotonic() + 5
            while not os.path.exists(sock):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise e2e.Fatal(f"hop_relay {name} did not start listening on {sock}")
                time.sleep(0.02)
            self.relay_socks[name] = sock
        return self.relay_socks[name]

    def hold(self, seconds):
        for target in ("direct", "dockpold"):
            log(f"{target}: {' '.join(self.load_cmd(target))} --path /_ping --mode keepalive -c 1 -d 5")
        log(f"dockerd pid {self.dockerd.proc.pid}, dockpold pid {self.pid}; holding {seconds:.0f} s")
        time.sleep(seconds)

    # ------------------------------------------------------------ load

    def load_cmd(self, target):
        if target == "direct":
            return [self.pbload, "--target", "unix:" + self.dockerd.sock]
        if target in RELAYS:
            return [self.pbload, "--target", "unix:" + self.relay_target(target)]
        return [self.pbload, "--target", f"tcp:127.0.0.1:{self.proxy.port}", "--tls",
                "--ca", self.proxy.certs.ca_pem, "--cert", os.path.join(self.alice, "cert.pem"),
                "--key", os.path.join(self.alice, "key.pem")]

    def load(self, target, extra, timeout=None):
        # CPU of all three parties: dockpold and dockerd from /proc, the client (pbload, the
        # only child waited for here) from RUSAGE_CHILDREN.
        c0, k0, u0, w0 = cpu_s(self.pid), cpu_s(self.dockerd.proc.pid), children_cpu_s(), time.monotonic()
        r = e2e.run([*self.load_cmd(target), *extra], timeout=timeout or (self.a.duration + 120))
        c1, k1, u1, w1 = cpu_s(self.pid), cpu_s(self.dockerd.proc.pid), children_cpu_s(), time.monotonic()
        if r.rc != 0:
            raise e2e.Fatal("pbload failed:\n" + r.describe())
        res = json.loads(r.out)
        res["proxy_cpu_s"] = c1 - c0
        res["dockerd_cpu_s"] = k1 - k0
        res["client_cpu_s"] = u1 - u0
        res["wall_s"] = w1 - w0
        if res["errors"] or res["non2xx"]:
            log(f"  WARNING {target} {extra}: errors={res['errors']} non2xx={res['non2xx']} "
                f"{res['first_error']}")
        return res

    def order(self, rep):
        return ["direct", "dockpold"] if rep % 2 == 0 else ["dockpold", "direct"]

    def record(self, kind, target, rep, **kw):
        self.samples.append({"kind": kind, "target": target, "rep": rep, **kw})

    def small(self):
        a = self.a
        for rep in range(a.reps):
            for conc in (1, 16):
                for t in [*self.order(rep + conc), *RELAYS]:
                    r = self.load(t, ["--path", "/_ping", "--mode", "keepalive", "-c", str(conc),
                                      "-d", str(a.duration), "--warmup", str(a.warmup),
                                      "-n", "10000000"])
                    per_req = 1e6 / max(r["ok"], 1)
                    cpu_us = r["proxy_cpu_s"] * per_req if t == "dockpold" else None
                    busy = r["client_cpu_s"] + r["dockerd_cpu_s"] + (r["proxy_cpu_s"] if t == "dockpold" else 0)
                    self.record(f"ping-c{conc}", t, rep, rps=r["rps"], p50=r["p50_us"],
                                p99=r["p99_us"], cpu_us=cpu_us, errors=r["errors"] + r["non2xx"],
                                client_us=r["client_cpu_s"] * per_req,
                                dockerd_us=r["dockerd_cpu_s"] * per_req,
                                cores_busy=busy / max(r["wall_s"], 1e-9))
                    log(f"rep {rep} ping c={conc} {t}: {r['rps']:.0f} req/s p50 {r['p50_us']:.0f} us"
                        + (f", dockpold {cpu_us:.1f} us CPU/req" if cpu_us else ""))

    def newconn(self):
        a = self.a
        for rep in range(a.reps):
            for t in self.order(rep):
                r = self.load(t, ["--path", "/_ping", "--mode", "newconn", "-c", str(a.newconn_conc),
                                  "-d", str(a.duration), "--warmup", str(a.warmup),
                                  "-n", "10000000"])
                cpu_ms = r["proxy_cpu_s"] / max(r["ok"], 1) * 1e3 if t == "dockpold" else None
                self.record("newconn", t, rep, rps=r["rps"], p50=r["p50_us"], p99=r["p99_us"],
                            cpu_ms=cpu_ms, errors=r["errors"] + r["non2xx"])
                log(f"rep {rep} newconn {t}: {r['rps']:.0f} conn/s p50 {r['p50_us']:.0f} us"
                    + (f", dockpold {cpu_ms:.2f} ms CPU/handshake" if cpu_ms else ""))

    def stream(self):
        a = self.a
        down = ["--method", "GET", "--path", "/containers/bench-big/archive?path=/bigfile"]
        up = ["--method", "PUT", "--path", "/containers/bench-big/archive?path=/tmp",
              "--body-file", self.tar]
        for rep in range(a.stream_reps):
            for name, extra in (("download", down), ("upload", up)):
                for t in self.order(rep):
                    r = self.load(t, [*extra, "-n", "1", "-d", str(STREAM_TIMEOUT_S), "--warmup", "0",
                                      "--timeout", str(STREAM_TIMEOUT_S)],
                                  timeout=STREAM_TIMEOUT_S + 60)
                    nbytes = r["rx_body_bytes"] if name == "download" else r["tx_body_bytes"]
                    mibs = nbytes / (1 << 20) / r["elapsed_s"] if r["ok"] else 0.0
                    cpu = r["proxy_cpu_s"] / (nbytes / (1 << 30)) if t == "dockpold" and nbytes else None
                    self.record(name, t, rep, mibs=mibs, cpu_s_per_gib=cpu,
                                errors=r["errors"] + r["non2xx"])
                    log(f"rep {rep} {name} {t}: {mibs:.0f} MiB/s"
                        + (f", dockpold {cpu:.2f} s CPU/GiB" if cpu else ""))

    def cli(self):
        for rep in range(self.a.cli_reps):
            for t in self.order(rep):
                if t == "direct":
                    r = self.dockerd.docker("ps", "-a")
                else:
                    r = self.proxy.docker("alice", "ps", "-a")
                ok = r.rc == 0 and "bench-big" in r.out
                self.record("docker-ps", t, rep, seconds=r.seconds, errors=0 if ok else 1)
                if not ok:
                    log(f"  WARNING docker ps via {t} failed:\n{r.describe()}")

    def idle_rss(self):
        """VmRSS with N completed-handshake, idle TLS connections (no request sent)."""
        n = self.a.idle_conns
        ctx = self.proxy.tls_context(self.alice)
        conns = []
        try:
            time.sleep(0.5)
            self.rss_idle = vm_rss_kib(self.pid)
            t0 = time.monotonic()
            for _ in range(n):
                raw = socket.create_connection(("127.0.0.1", self.proxy.port), timeout=30)
                conns.append(ctx.wrap_socket(raw, server_hostname="localhost"))
            opened = time.monotonic() - t0
            time.sleep(1.0)
            self.rss_conns = vm_rss_kib(self.pid)
            # The proxy must still serve while they are open.
            status, _ = self.proxy.raw_request("alice", "GET", "/_ping")
            log(f"{n} idle TLS connections opened in {opened:.1f}s: VmRSS {self.rss_idle} -> "
                f"{self.rss_conns} KiB; /_ping meanwhile: {status}")
            self.idle_ping_status = status
        finally:
            for c in conns:
                try:
                    c.close()
                except OSError:
                    pass

    # ------------------------------------------------------------ report

    def pick(self, kind, target, key):
        return [s[key] for s in self.samples if s["kind"] == kind and s["target"] == target
                and s.get(key) is not None]

    def ratios(self, kind, key, invert=False, other="dockpold"):
        """Per-repetition other/direct ratios (direct/other when invert: times)."""
        out = []
        reps = sorted({s["rep"] for s in self.samples if s["kind"] == kind})
        for rep in reps:
            d = [s[key] for s in self.samples if s["kind"] == kind and s["rep"] == rep
                 and s["target"] == "direct"]
            p = [s[key] for s in self.samples if s["kind"] == kind and s["rep"] == rep
                 and s["target"] == other]
            if d and p and d[0] and p[0]:
                out.append(d[0] / p[0] if invert else p[0] / d[0])
        return out

    def cpu_budget(self, have):
        """Where the CPU of a keep-alive /_ping goes, and the ceiling that puts on any proxy.

        A proxy in the middle cannot make dockerd cheaper, and its client pays for TLS. When the
        direct run keeps the machine's cores busy (16 connections), the best any TLS proxy can
        reach with this client is cores / (client_tls + dockerd_direct) requests/s, even if the
        proxy itself cost nothing: ceiling = (cores / busy_direct) * (client_direct +
        dockerd_direct) / (client_tls + dockerd_direct)."""
        out = []
        for conc in (1, 16):
            k = f"ping-c{conc}"
            if k not in have:
                continue
            d = {f: med(self.pick(k, "direct", f)) for f in ("client_us", "dockerd_us", "cores_busy")}
            p = {f: med(self.pick(k, "dockpold", f)) for f in ("client_us", "dockerd_us", "cores_busy")}
            cpu = med(self.pick(k, "dockpold", "cpu_us"))
            cores = os.cpu_count() or 1
            ceiling = (cores / max(d["cores_busy"], 1e-9)) * (d["client_us"] + d["dockerd_us"]) \
                / max(p["client_us"] + d["dockerd_us"], 1e-9)
            if not out:
                out = ["| `/_ping` CPU per request (µs) | client | dockerd | dockpold | cores busy "
                       "| ceiling for a zero-cost TLS proxy |", "|---|---|---|---|---|---|"]
            out.append(f"| {conc} conn, direct | {d['client_us']:.1f} | {d['dockerd_us']:.1f} | – "
                       f"| {d['cores_busy']:.2f} of {cores} | |")
            out.append(f"| {conc} conn, dockpold | {p['client_us']:.1f} (TLS) | {p['dockerd_us']:.1f} "
                       f"| {cpu:.1f} | {p['cores_busy']:.2f} of {cores} | "
                       + (f"{min(ceiling, 1.0):.2f}× |" if d["cores_busy"] >= 0.9 * cores
                          else "not CPU-bound: latency decides |"))
        return out + [""] if out else []

    def table(self, meta):
        rows = []

        def row(what, direct, proxied, ratio_list, unit, target=None, extra=""):
            r = med(ratio_list)
            spread = (f" ({min(ratio_list):.2f}–{max(ratio_list):.2f})"
                      if len(ratio_list) > 1 else "")
            verdict = ""
            if target is not None:
                verdict = "ok" if r >= target else f"**below {target}×**"
            rows.append(f"| {what} | {direct} | {proxied} | {r:.2f}×{spread} | {verdict} | {unit}"
                        f"{'; ' + extra if extra else ''} |")

        have = {s["kind"] for s in self.samples}
        for conc in (1, 16):
            k = f"ping-c{conc}"
            if k not in have:
                continue
            cpu = med(self.pick(k, "dockpold", "cpu_us"))
            row(f"`GET /_ping` keep-alive, {conc} conn", f"{med(self.pick(k, 'direct', 'rps')):.0f}",
                f"{med(self.pick(k, 'dockpold', 'rps')):.0f}", self.ratios(k, "rps"), "req/s",
                TARGETS["ping_ratio"],
                f"p50 {med(self.pick(k, 'direct', 'p50')):.0f} / {med(self.pick(k, 'dockpold', 'p50')):.0f} µs; "
                f"dockpold {cpu:.1f} µs CPU/req")
            for name, (what, _) in RELAYS.items():
                if self.pick(k, name, "rps"):
                    row(f"&nbsp;&nbsp;zero-work relay ({what}, plaintext), {conc} conn",
                        f"{med(self.pick(k, 'direct', 'rps')):.0f}", f"{med(self.pick(k, name, 'rps')):.0f}",
                        self.ratios(k, "rps", other=name), "req/s; reference: the cost of the hop alone "
                        "(tests/bench/hop_relay.cpp, no TLS/HTTP/policy)")
        for k in ("download", "upload"):
            if k not in have:
                continue
            cpu = med(self.pick(k, "dockpold", "cpu_s_per_gib"))
            row(f"{self.a.big_mib} MiB archive {k}, 1 conn",
                f"{med(self.pick(k, 'direct', 'mibs')):.0f}", f"{med(self.pick(k, 'dockpold', 'mibs')):.0f}",
                self.ratios(k, "mibs"), "MiB/s", TARGETS["stream_ratio"],
                f"dockpold {cpu:.2f} s CPU/GiB")
        if "newconn" in have:
            cpu = med(self.pick("newconn", "dockpold", "cpu_ms"))
            row(f"new connection per `/_ping`, {self.a.newconn_conc} clients",
                f"{med(self.pick('newconn', 'direct', 'rps')):.0f} (unix, no TLS)",
                f"{med(self.pick('newconn', 'dockpold', 'rps')):.0f} (mTLS P-256)",
                self.ratios("newconn", "rps"), "conn/s", None,
                f"dockpold {cpu:.2f} ms CPU per handshake+request; client pbload pays ~1.5 ms/handshake too")
        if "docker-ps" in have:
            row("`docker ps -a` wall time", f"{med(self.pick('docker-ps', 'direct', 'seconds')) * 1e3:.0f}",
                f"{med(self.pick('docker-ps', 'dockpold', 'seconds')) * 1e3:.0f}",
                self.ratios("docker-ps", "seconds", invert=True), "ms (median); ratio = direct/dockpold")
        budget = self.cpu_budget(have)
        mem = []
        if self.rss_conns is not None:
            per_conn = (self.rss_conns - self.rss_idle) / max(self.a.idle_conns, 1)
            mem = [f"| dockpold VmRSS | at start {self.rss_start} KiB | idle after load "
                   f"{self.rss_idle} KiB | with {self.a.idle_conns} idle TLS conns {self.rss_conns} KiB "
                   f"| {per_conn:.1f} KiB/conn | /_ping meanwhile: HTTP {self.idle_ping_status} |"]
        errs = sum(s.get("errors", 0) or 0 for s in self.samples)
        text = [
            "# dockpold vs direct dockerd socket",
            "",
            f"Run {meta['started']} UTC, {meta['seconds']:.0f} s; host {meta['cpus']} CPUs; "
            f"load average at start {meta['load_start']}, at end {meta['load_end']}; "
            f"mode: {meta['mode']} (reps {self.a.reps}, duration {self.a.duration} s, "
            f"stream reps {self.a.stream_reps}, docker ps reps {self.a.cli_reps}); "
            f"dockpold `{meta['dockpold']}`; policy examples/policies/demo.dpol (user alice, "
            f"group admins), audit log: {self.a.audit}; client "
            f"`tests/bench/pbload.cc`. Errors/non-2xx in all samples: {errs}.",
            "",
            "Ratios are the median of per-repetition ratios dockpold/direct measured back to back "
            "(order alternating), range in parentheses. Client, dockpold and dockerd share the same "
            "cores with whatever else runs on the machine: compare ratios within this run, not "
            "absolute numbers across runs.",
            "",
            "| measure | direct | dockpold | ratio | target | unit / notes |",
            "|---|---|---|---|---|---|",
            *rows,
            "",
            *budget,
            "| memory | | | | | |",
            "|---|---|---|---|---|---|",
            *mem,
            "",
            f"Instructions per request: {meta['perf']}",
            "",
        ]
        return "\n".join(text)


def perf_instructions_note(bench):
    """Instructions per keep-alive /_ping in dockpold, if hardware counters are available here."""
    if shutil.which("perf") is None:
        return "skipped (perf not installed; apt-get install linux-perf)."
    r = e2e.run(["perf", "stat", "-x", ",", "-e", "instructions", "true"], timeout=30)
    if r.rc != 0 or "<not supported>" in r.err or "<not counted>" in r.err:
        return ("skipped: `perf stat -e instructions true` reports the counter as not supported "
                "(no PMU in this VM); dockpold CPU µs/request above is the substitute.")
    dur = max(bench.a.duration, 1.0)
    out = bench.ws.path("perf.csv")
    perf = subprocess.Popen(["perf", "stat", "-x", ",", "-e", "instructions", "-p", str(bench.pid),
                             "-o", out, "--", "sleep", str(dur + 0.5)])
    res = bench.load("dockpold", ["--path", "/_ping", "--mode", "keepalive", "-c", "1",
                                  "-d", str(dur), "--warmup", "0.2", "-n", "10000000"])
    perf.wait(timeout=dur + 60)
    with open(out) as f:
        for line in f:
            parts = line.split(",")
            if len(parts) > 2 and parts[2].startswith("instructions") and parts[0].isdigit():
                ipr = int(parts[0]) / max(res["ok"], 1)
                return f"{ipr:.0f} instructions per keep-alive /_ping in dockpold (perf stat -p)."
    return "skipped: perf stat produced no instruction count."


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dockpold", required=True)
    p.add_argument("--dockpolc", required=True)
    p.add_argument("--hop-relay", required=True, help="tests/bench/hop_relay from the build")
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--duration", type=float, default=2.0, help="seconds per small-request sample")
    p.add_argument("--warmup", type=float, default=0.3)
    p.add_argument("--big-mib", type=int, default=512)
    p.add_argument("--stream-reps", type=int, default=3)
    p.add_argument("--cli-reps", type=int, default=7)
    p.add_argument("--newconn-conc", type=int, default=2)
    p.add_argument("--idle-conns", type=int, default=1000)
    p.add_argument("--quick", action="store_true",
                   help="reps 1, duration 0.5 s, big-mib 64, stream reps 1, cli reps 3, 200 idle conns")
    p.add_argument("--audit", choices=("file", "off"), default="file",
                   help="dockpold's audit log: a file in the scratch dir (default) or none")
    p.add_argument("--only", default=",".join(PARTS),
                   help=f"comma-separated parts to run ({','.join(PARTS)}); default all")
    p.add_argument("--hold", type=float, default=0,
                   help="after setup, print the pbload command lines and keep dockerd and dockpold "
                        "up this many seconds for manual profiling, then exit without measuring")
    p.add_argument("--out", default=DEFAULT_OUT)
    a = p.parse_args(argv)
    unknown = set(a.only.split(",")) - set(PARTS)
    if unknown:
        p.error(f"--only: unknown part(s) {', '.join(sorted(unknown))}; use {','.join(PARTS)}")
    if a.quick:
        a.reps, a.duration, a.big_mib, a.stream_reps, a.cli_reps = 1, 0.5, 64, 1, 3
        a.idle_conns = min(a.idle_conns, 200)
    if not (1 <= a.reps <= 50 and 0.1 <= a.duration <= 60 and 1 <= a.big_mib <= 4096
            and 1 <= a.idle_conns <= 20000):
        p.error("out of range: reps 1..50, duration 0.1..60, big-mib 1..4096, idle-conns 1..20000")
    return a


def main(argv):
    a = parse(argv)
    started = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    load_start = loadavg()
    t0 = time.monotonic()
    try:
        with e2e.Workspace("bench", DEADLINE_S) as ws:
            b = Bench(ws, a)
            b.setup()
            if a.hold:
                b.hold(a.hold)
                return 0
            parts = set(a.only.split(","))
            for name, run in (("ping", b.small), ("newconn", b.newconn), ("stream", b.stream),
                              ("cli", b.cli), ("idle", b.idle_rss)):
                if name in parts:
                    run()
            perf = perf_instructions_note(b)
            meta = {"started": started, "seconds": time.monotonic() - t0, "cpus": os.cpu_count(),
                    "load_start": load_start, "load_end": loadavg(), "perf": perf,
                    "mode": "quick" if a.quick else "full",
                    # Relative to the checkout: committed results carry no machine's paths.
                    "dockpold": os.path.relpath(os.path.abspath(a.dockpold), REPO)}
            text = b.table(meta)
            os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
            with open(a.out, "w") as f:
                f.write(text)
            with open(os.path.splitext(a.out)[0] + ".json", "w") as f:
                json.dump({"meta": meta, "samples": b.samples}, f, indent=1)
            print("\n" + text)
    except e2e.Skip as e:
        log(f"SKIP: {e}")
        return e2e.SKIP
    except e2e.Fatal as e:
        log(f"FAILED: {e}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
