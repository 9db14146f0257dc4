#!/usr/bin/env python3
"""dockpold against generic mTLS front-ends (stunnel, HAProxy, nginx, Caddy, socat) in one run.

Usage: peer_bench.py --dockpold BIN --dockpolc BIN [--out DIR] [-- run.sh options...]

Starts a private dockerd (tests/e2e/lib/e2e.py) with a busybox image `bb:latest`, compiles
tests/bench/policies/peer_bench.dpol, and runs the harness tests/bench/peers/run.sh
with dockpold plugged in as PBENCH_SIDECAR_CMD, so every front-end is measured in the same
interleaved run as ratios to the same dockerd's socket. Options after `--` go to run.sh, e.g.
`-- --phases small,stream --endpoints ping --reps 3 --big-mib 128`. The harness needs haproxy,
nginx-light, caddy, stunnel4 and socat (PBENCH_INSTALL=1 installs them from apt).
"""
import argparse
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e", "lib"))
import e2e  # noqa: E402

RUN_SH = os.path.join(e2e.SOURCE_ROOT, "tests", "bench", "peers", "run.sh")
POLICY = os.path.join(HERE, "policies", "peer_bench.dpol")


def body(ws, checks, a, rest):
    dockpold = shutil.copy2(e2e.need_file(a.dockpold, "dockpold"), ws.path("dockpold"))
    dockpolc = e2e.need_file(a.dockpolc, "dockpolc")
    e2e.need_file(RUN_SH, "the peer benchmark harness")
    dockerd = e2e.Dockerd(ws).start()
    dockerd.import_busybox("bb:latest")
    bundle = e2e.compile_policy(dockpolc, [POLICY], ws.path("peer.dpb"), revision="peer-bench")
    cmd = (f"{dockpold} --listen 127.0.0.1:{{port}} --tls-cert {{cert}} --tls-key {{key}} "
           f"--tls-client-ca {{ca}} --bundle {bundle} --docker unix://{{socket}} "
           f"--host-name bench-host --audit-log {ws.path('audit.jsonl')}")
    env = dict(os.environ, PBENCH_SIDECAR_CMD=cmd, PBENCH_SIDECAR_NAME="dockpold",
               PBENCH_SIDECAR_PORT=str(a.port), PBENCH_DOCKER_SOCK=dockerd.sock,
               PBENCH_ROOT=ws.path("pbench"))
    args = ["bash", RUN_SH, *rest]
    if a.out:
        args += ["--out", os.path.abspath(a.out)]
    e2e.log("[peer-bench] " + " ".join(args))
    rc = subprocess.call(args, env=env)
    checks.eq("peer harness run.sh exit code", 0, rc)


def main():
    argv = sys.argv[1:]
    rest = []
    if "--" in argv:
        i = argv.index("--")
        argv, rest = argv[:i], argv[i + 1:]
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dockpold", required=True)
    ap.add_argument("--dockpolc", required=True)
    ap.add_argument("--port", type=int, default=9998)
    ap.add_argument("--out", default="", help="results dir (default: the harness's own)")
    a = ap.parse_args(argv)
    e2e.main("peer-bench", lambda ws, checks, _argv: body(ws, checks, a, rest), deadline=3 * 3600)


if __name__ == "__main__":
    main()
