#!/usr/bin/env python3
"""The dockpold image: examples/deploy/build-image.sh builds it on a private
dockerd; it runs with --network host next to that dockerd with the socket
mounted; the docker CLI goes through it as an allowed and a denied user; after
the bundle file is replaced, `docker kill -s HUP` swaps the policy; the image's
own HEALTHCHECK (`dockpold probe`) goes healthy.

Usage: test_image.py [DOCKPOLC]
env: DOCKPOLD_STATIC, DOCKPOLC_STATIC  static binaries for the image (default:
     build-image.sh builds them in BUILD_DIR, default <build>/deploy-static).
"""

import json
import os
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e", "lib"))
import e2e  # noqa: E402

BUILD_IMAGE = os.path.join(e2e.SOURCE_ROOT, "examples", "deploy", "build-image.sh")
IMAGE = "dockpol/dockpold:e2e"
# The image's HEALTHCHECK probes this admin port.
ADMIN_PORT = 9999
# Static builds on a shared 2-core machine are slow.
BUILD_TIMEOUT = 1500
MESSAGE = "Error response from daemon: [dockpol] The command '{action}' denied for user '{user}' by rule '{rule}'"
SWAPPED_POLICY = 'default deny\n\nrule admins: allow if group == "admins"\n'
# uid:gid of the image's user.
IMAGE_UID = 65532


def port_free(port):
    import socket
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def build_image(ws, dockerd, checks):
    env = dockerd.env()
    env["IMAGE"] = IMAGE.split(":")[0]
    if os.environ.get("DOCKPOLD_STATIC") and os.environ.get("DOCKPOLC_STATIC"):
        env["DOCKPOLD"] = os.environ["DOCKPOLD_STATIC"]
        env["DOCKPOLC"] = os.environ["DOCKPOLC_STATIC"]
    env["BUILD_DIR"] = os.environ.get("BUILD_DIR", os.path.join(os.getcwd(), "deploy-static"))
    r = e2e.run(["bash", BUILD_IMAGE, IMAGE.split(":")[1]], env=env, timeout=BUILD_TIMEOUT)
    if r.rc != 0:
        raise e2e.Fatal("build-image.sh failed:\n" + r.describe())
    checks.check("build-image.sh names the image", IMAGE in r.out, r.out)
    info = json.loads(dockerd.docker("image", "inspect", IMAGE).out)[0]
    cfg = info["Config"]
    checks.eq("entrypoint", ["/dockpold"], cfg.get("Entrypoint"))
    checks.eq("user", f"{IMAGE_UID}:{IMAGE_UID}", cfg.get("User"))
    checks.eq("healthcheck", ["CMD", "/dockpold", "probe", f"http://127.0.0.1:{ADMIN_PORT}/readyz"],
              (cfg.get("Healthcheck") or {}).get("Test"))
    checks.check("image <= 20 MB", info["Size"] <= 20 * 1024 * 1024, str(info["Size"]))
    checks.eq("one layer (FROM scratch)", 1, len(info["RootFS"]["Layers"]))
    return info


def main_body(ws, checks, argv):
    dockpolc = e2e.need_file(argv[0] if argv else shutil.which("dockpolc"), "dockpolc")
    if not port_free(ADMIN_PORT):
        raise e2e.Skip(f"127.0.0.1:{ADMIN_PORT} is taken; the image's healthcheck needs it")
    dockerd = e2e.Dockerd(ws).start()
    build_image(ws, dockerd, checks)

    certs = e2e.standard_pki(ws)
    # The container's user reads the server key; in production: chown or group, never 0644.
    for p in (certs.server_cert, certs.server_key, certs.ca_pem):
        os.chown(p, IMAGE_UID, IMAGE_UID)
    bundle_dir = ws.path("bundle")
    os.makedirs(bundle_dir)
    e2e.compile_policy(dockpolc, [e2e.example_policy("demo")], os.path.join(bundle_dir, "bundle.dpb"),
                       revision="image-1")
    os.chmod(bundle_dir, 0o755)
    os.chmod(os.path.join(bundle_dir, "bundle.dpb"), 0o644)

    port = e2e.free_port()
    sock_gid = os.stat(dockerd.sock).st_gid
    r = dockerd.docker(
        "run", "-d", "--name", "dockpold", "--network", "host", "--read-only", "--cap-drop", "ALL",
        "--security-opt", "no-new-privileges", "--group-add", str(sock_gid),
        "-v", f"{dockerd.sock}:/var/run/docker.sock",
        "-v", f"{certs.dir}:/etc/dockpol:ro", "-v", f"{bundle_dir}:/bundle:ro",
        IMAGE, f"--listen=127.0.0.1:{port}",
        "--tls-cert=/etc/dockpol/server/cert.pem", "--tls-key=/etc/dockpol/server/key.pem",
        "--tls-client-ca=/etc/dockpol/ca.pem", "--bundle=/bundle/bundle.dpb",
        "--docker=unix:///var/run/docker.sock", "--host-name=image-host", "--audit-log=-",
        f"--admin=127.0.0.1:{ADMIN_PORT}")
    if r.rc != 0:
        raise e2e.Fatal("docker run of the image failed:\n" + r.describe())
    ws.on_cleanup(lambda: dockerd.docker("rm", "-f", "dockpold"))

    # A Dockpold handle for the CLI environment and raw requests; the process is the container.
    front = e2e.Dockpold(ws, None, None, certs, dockerd)
    front.port = port
    deadline = time.monotonic() + 60
    while True:
        try:
            if front.raw_request("alice", "GET", "/_ping", timeout=5)[0] == 200:
                break
        except OSError:
            pass
        if time.monotonic() > deadline:
            logs = dockerd.docker("logs", "dockpold")
            raise e2e.Fatal("dockpold in the container never answered:\n" + logs.out + logs.err)
        time.sleep(0.5)

    top = dockerd.docker("inspect", "-f", "{{.Config.User}} {{.State.Running}}", "dockpold")
    checks.eq("runs as the image's user", f"{IMAGE_UID}:{IMAGE_UID} true", top.out.strip())

    r = front.docker("alice", "ps", "-a", "--format", "{{.Names}}")
    checks.check("alice (admins) lists containers through the image", r.rc == 0 and "dockpold" in r.out,
                 r.describe())
    r = front.docker("bob", "ps")
    checks.check("bob (dev) lists containers", r.rc == 0, r.describe())
    r = front.docker("bob", "rm", "-f", "dockpold")
    checks.check("bob may not remove containers",
                 MESSAGE.format(action="container_delete", user="bob", rule="default") in r.err, r.describe())

    # Swap: replace the bundle file (rename), then SIGHUP through docker kill.
    src = ws.path("swapped.dpol")
    with open(src, "w") as f:
        f.write(SWAPPED_POLICY)
    e2e.compile_policy(dockpolc, [src], ws.path("swapped.dpb"), revision="image-2")
    os.chmod(ws.path("swapped.dpb"), 0o644)
    os.replace(ws.path("swapped.dpb"), os.path.join(bundle_dir, "bundle.dpb"))
    r = dockerd.docker("kill", "-s", "HUP", "dockpold")
    checks.check("docker kill -s HUP", r.rc == 0, r.describe())
    deadline = time.monotonic() + 20
    while True:
        r = front.docker("bob", "ps")
        if r.rc != 0 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    checks.check("after HUP bob's docker ps is denied by the new bundle",
                 MESSAGE.format(action="container_list", user="bob", rule="default") in r.err, r.describe())
    r = front.docker("alice", "ps")
    checks.check("alice still allowed after the swap", r.rc == 0, r.describe())

    deadline = time.monotonic() + 90
    health = ""
    while time.monotonic() < deadline:
        health = dockerd.docker("inspect", "-f", "{{.State.Health.Status}}", "dockpold").out.strip()
        if health in ("healthy", "unhealthy"):
            break
        time.sleep(1)
    checks.eq("HEALTHCHECK (dockpold probe /readyz) goes healthy", "healthy", health,
              dockerd.docker("inspect", "-f", "{{json .State.Health}}", "dockpold").out)


if __name__ == "__main__":
    e2e.main("deploy_image", main_body, deadline=1800)
