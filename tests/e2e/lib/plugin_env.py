"""What the plugin end-to-end tests share: a private dockerd that finds
`dockpold plugin` (its own mount namespace with a temp dir bound over
/run/docker/plugins, so nothing outside the test's temp dir changes), the
plugin process itself, and raw HTTP on UNIX sockets."""

import json
import os
import shutil
import socket
import subprocess
import time

import e2e

PLUGINS_DIR = "/run/docker/plugins"
# dockerd prefixes a plugin's denial with this before the CLI prints it.
PREFIX = "Error response from daemon: authorization denied by plugin dockpol: "
DENIAL = PREFIX + "[dockpol] The command '{action}' denied for user '{user}' by rule '{rule}'"


def unix_http(path, request, timeout=30):
    """One raw HTTP/1.1 exchange on a UNIX socket; returns (status, body text)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    try:
        s.sendall(request)
    except (BrokenPipeError, ConnectionResetError):
        pass   # dockerd answered (a denial) and closed before reading a large body: its answer is still there
    data = b""
    while True:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/1.") else 0
    return status, body.decode("utf-8", "replace")


def plugin_call(sock, target, body):
    req = (f"POST {target} HTTP/1.1\r\nHost: plugin\r\nContent-Type: application/vnd.docker.plugins.v1.2+json\r\n"
           f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body
    return unix_http(sock, req)


def has_line(text, want):
    lines = [ln.strip() for ln in text.splitlines()]
    return any(ln in lines for ln in (want, "docker: " + want, "docker: " + want + "."))


def audit_events(path):
    try:
        with open(path) as f:
            return [json.loads(ln) for ln in f if ln.strip()]
    except OSError:
        return []


def wait_audit(path, pred, timeout=5):
    deadline = time.monotonic() + timeout
    while True:
        for ev in audit_events(path):
            if pred(ev):
                return ev
        if time.monotonic() > deadline:
            return None
        time.sleep(0.1)


def need_unshare():
    if shutil.which("unshare") is None:
        raise e2e.Skip("unshare not found (util-linux)")
    # The private mount needs a mount point there; an empty directory under /run (a tmpfs) changes
    # nothing for a system dockerd, which makes it itself when it first starts.
    os.makedirs(PLUGINS_DIR, mode=0o700, exist_ok=True)


class Plugin:
    """`dockpold plugin` on a socket in the test's own plugins directory."""

    def __init__(self, ws, dockpold, bundle, extra=(), name="plugin"):
        self.ws = ws
        self.dockpold = dockpold
        self.bundle = bundle
        self.extra = list(extra)
        self.dir = ws.path(name + "-dir")
        os.makedirs(self.dir, exist_ok=True)
        self.sock = os.path.join(self.dir, "dockpol.sock")
        self.audit = ws.path(name + "-audit.jsonl")
        self.log_path = ws.path(name + ".log")
        self.logf = open(self.log_path, "wb")
        self.proc = None

    def start(self):
        p = subprocess.Popen([self.dockpold, "plugin", "--socket", self.sock, "--bundle", self.bundle,
                              "--audit-log", self.audit, "--host-name", "e2e-host", *self.extra],
                             stdin=subprocess.DEVNULL, stdout=self.logf, stderr=subprocess.STDOUT)
        self.ws.on_cleanup(lambda: e2e.stop_process(p, grace=10))
        deadline = time.monotonic() + e2e.DOCKPOLD_START_TIMEOUT
        while not os.path.exists(self.sock):
            if p.poll() is not None or time.monotonic() > deadline:
                self.logf.flush()
                with open(self.log_path, "rb") as f:
                    raise e2e.Fatal("dockpold plugin did not start:\n" + f.read().decode("utf-8", "replace"))
            time.sleep(0.1)
        self.proc = p
        return self

    def stop(self):
        if self.proc is not None:
            e2e.stop_process(self.proc, grace=10)
            self.proc = None

    def make_dockerd(self, debug=True):
        """A private dockerd with --authorization-plugin=dockpol that finds this plugin, not started yet."""
        prefix = ["unshare", "-m", "--propagation", "private", "sh", "-c",
                  'mount --bind "$0" ' + PLUGINS_DIR + ' && exec "$@"', self.dir]
        return e2e.Dockerd(self.ws, debug=debug, extra=["--authorization-plugin=dockpol"], prefix=prefix)

    def dockerd(self, debug=True):
        return self.make_dockerd(debug).start()
