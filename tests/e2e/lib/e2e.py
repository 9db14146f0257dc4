"""End-to-end test helpers: a private dockerd, certificates, dockpold, the docker CLI.

Python 3 standard library only. Everything a test starts is registered in a
Workspace and torn down when the test ends, fails, times out or is signalled;
a system dockerd is never touched (every dockerd here has its own data root,
exec root, socket and pid file under a fresh temporary directory).
"""

import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

SOURCE_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
MAKE_CERTS = os.path.join(SOURCE_ROOT, "examples", "certs", "make-certs.sh")

# Default for one CLI command; long transfers pass their own.
COMMAND_TIMEOUT = 60
# dockerd (with its own containerd) needs a few seconds on a busy 2-core box.
DOCKERD_START_TIMEOUT = 90
DOCKPOLD_START_TIMEOUT = 30
# Exit code meson reads as "skipped".
SKIP = 77

BUSYBOX = "/bin/busybox"
BB_IMAGE = "bb"


class Skip(Exception):
    """The machine cannot run this test (not root, no dockerd, ...)."""


class Fatal(Exception):
    """A precondition failed; the remaining checks would be meaningless."""


def log(msg):
    print(msg, flush=True)


# ---------------------------------------------------------------- results


class Checks:
    """Named pass/fail results; every check prints one line and can fail."""

    def __init__(self, name):
        self.name = name
        self.passed = []
        self.failed = []

    def check(self, name, ok, detail=""):
        if ok:
            self.passed.append(name)
            log(f"ok   - {name}")
        else:
            self.failed.append(name)
            log(f"FAIL - {name}")
            for line in str(detail).splitlines()[:60]:
                log(f"       {line}")
        return ok

    def eq(self, name, expected, got, extra=""):
        ok = expected == got
        detail = f"expected: {expected!r}\ngot:      {got!r}"
        if extra:
            detail += "\n" + extra
        return self.check(name, ok, detail)

    def summary(self):
        log(f"\n{self.name}: {len(self.passed)} passed, {len(self.failed)} failed")
        for f in self.failed:
            log(f"  failed: {f}")
        return 1 if self.failed or not self.passed else 0


# ---------------------------------------------------------------- processes


class Result:
    def __init__(self, args, rc, out, err, seconds):
        self.args = args
        self.rc = rc
        self.out = out
        self.err = err
        self.seconds = seconds

    def describe(self):
        cmd = " ".join(str(a) for a in self.args)
        return (f"command: {cmd}\nexit: {self.rc}\nstdout: {_clip(self.out)}\n"
                f"stderr: {_clip(self.err)}")


def _clip(data, n=1500):
    if isinstance(data, bytes):
        data = data.decode("utf-8", "replace")
    return data if len(data) <= n else data[:n] + f"... ({len(data)} chars)"


def run(args, env=None, timeout=COMMAND_TIMEOUT, input=None, binary=False, stdin_file=None,
        stdout_file=None):
    """Runs a command to completion; a timeout kills it and reports rc=-9."""
    start = time.monotonic()
    stdin = subprocess.PIPE if input is not None else (stdin_file or subprocess.DEVNULL)
    proc = subprocess.Popen([str(a) for a in args], env=env, stdin=stdin,
                            stdout=stdout_file or subprocess.PIPE, stderr=subprocess.PIPE)
    if input is not None and not binary and isinstance(input, str):
        input = input.encode()
    try:
        out, err = proc.communicate(input=input, timeout=timeout)
        rc = proc.returncode
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        rc = -9
        err = (err or b"") + f"\n[e2e] killed after {timeout}s timeout".encode()
    out = out or b""
    if not binary:
        out = out.decode("utf-8", "replace")
        err = err.decode("utf-8", "replace")
    return Result(args, rc, out, err, time.monotonic() - start)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_process(proc, grace=20):
    if proc is None or proc.poll() is not None:
        return
    try:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
    except ProcessLookupError:
        pass


# ---------------------------------------------------------------- workspace


class Workspace:
    """A temp dir plus a cleanup stack, run on exit, failure, timeout or signal."""

    def __init__(self, name, deadline_seconds):
        self.name = name
        self.deadline = deadline_seconds
        self.dir = None
        self._cleanups = []

    def __enter__(self):
        if os.geteuid() != 0:
            raise Skip("end-to-end tests need root (they start a private dockerd)")
        for tool in ("dockerd", "docker", "openssl"):
            if shutil.which(tool) is None:
                raise Skip(f"{tool} not found")
        if not os.path.exists(BUSYBOX):
            raise Skip(f"{BUSYBOX} not found (apt-get install busybox-static)")
        self.dir = tempfile.mkdtemp(prefix=f"dockpol-e2e-{self.name}.")
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGALRM):
            signal.signal(sig, self._on_signal)
        signal.alarm(self.deadline)
        os.makedirs(self.path("cli"), exist_ok=True)
        return self

    def _on_signal(self, signum, _frame):
        what = "deadline reached" if signum == signal.SIGALRM else f"signal {signum}"
        raise Fatal(f"{what}; cleaning up")

    def __exit__(self, *exc):
        signal.alarm(0)
        # A second signal while cleaning up must not leave dockerd behind.
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        while self._cleanups:
            fn = self._cleanups.pop()
            try:
                fn()
            except Exception as e:  # keep cleaning the rest
                log(f"[e2e] cleanup error: {e!r}")
        if self.dir and os.environ.get("DOCKPOL_E2E_KEEP") is None:
            _unmount_under(self.dir)
            shutil.rmtree(self.dir, ignore_errors=True)
        return False

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def on_cleanup(self, fn):
        self._cleanups.append(fn)

    def base_env(self):
        """Environment for the docker CLI with nothing inherited that could redirect it."""
        env = {"PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"),
               "HOME": self.dir, "DOCKER_CONFIG": self.path("cli"), "LC_ALL": "C.UTF-8",
               "DOCKER_CLI_HINTS": "false"}
        return env


def _unmount_under(d):
    try:
        with open("/proc/self/mounts") as f:
            points = [line.split()[1] for line in f]
    except OSError:
        return
    real = os.path.realpath(d)
    for p in sorted((p for p in points if p.startswith(real + "/")), key=len, reverse=True):
        subprocess.run(["umount", "-l", p], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _pids_mentioning(text):
    """Processes whose command line names our temp dir (containerd shims dockerd left)."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as f:
                if text.encode() in f.read():
                    found.append(int(name))
        except OSError:
            pass
    return found


# ---------------------------------------------------------------- dockerd


class Dockerd:
    """A private dockerd in a fresh temp dir; never the system one."""

    def __init__(self, ws, debug=False, extra=(), prefix=()):
        self.ws = ws
        self.debug = debug
        # extra: more dockerd flags; prefix: a command that execs dockerd (e.g. in a private mount namespace).
        self.extra = list(extra)
        self.prefix = list(prefix)
        self.dir = tempfile.mkdtemp(prefix="d.", dir=ws.dir)
        self.sock = os.path.join(self.dir, "docker.sock")
        self.host = "unix://" + self.sock
        self.log_path = os.path.join(self.dir, "dockerd.log")
        self.proc = None

    def start(self):
        args = ["dockerd", "--iptables=false", "--ip6tables=false", "--bridge=none",
                "--storage-driver=vfs", "--data-root", self.dir + "/root",
                "--exec-root", self.dir + "/exec", "-H", self.host,
                "--pidfile", self.dir + "/pid", "--shutdown-timeout", "2"]
        if self.debug:
            args.append("-D")
        args = self.prefix + args + self.extra
        self.logf = open(self.log_path, "wb")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self.logf,
                                     stderr=subprocess.STDOUT)
        self.ws.on_cleanup(self.stop)
        deadline = time.monotonic() + DOCKERD_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise Fatal(f"dockerd exited with {self.proc.returncode}:\n{self.log_tail()}")
            if os.path.exists(self.sock) and self.docker("version", "--format",
                                                         "{{.Server.Version}}", timeout=10).rc == 0:
                return self
            time.sleep(0.3)
        raise Fatal(f"dockerd did not answer within {DOCKERD_START_TIMEOUT}s:\n{self.log_tail()}")

    def stop(self):
        bridges = []
        if self.proc is not None:
            # dockerd leaves the bridge of each user network behind when it stops, and its data root goes with
            # the test: without this, runs use up the address pools (172.17-31/16) and `network create` fails.
            r = self.docker("network", "ls", "-q", "--no-trunc", "--filter", "driver=bridge", timeout=10)
            if r.rc == 0:
                bridges = ["br-" + n[:12] for n in r.out.split()]
            stop_process(self.proc, grace=25)
            self.proc = None
            self.logf.close()
        for b in bridges:
            run(["ip", "link", "delete", b], timeout=10)
        # Shims outlive a killed dockerd; they are ours (they name our exec root).
        for pid in _pids_mentioning(self.dir):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        _unmount_under(self.dir)

    def log_tail(self, n=30):
        try:
            with open(self.log_path, "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()
            return "\n".join(lines[-n:])
        except OSError:
            return "(no dockerd log)"

    def log_text(self):
        self.logf.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def env(self):
        env = self.ws.base_env()
        env["DOCKER_HOST"] = self.host
        return env

    def docker(self, *args, **kw):
        return run(["docker", *args], env=self.env(), **kw)

    def import_busybox(self, tag=BB_IMAGE):
        """Builds `tag` from /bin/busybox plus a symlink per applet, via docker import."""
        rootfs = os.path.join(self.dir, "bb-rootfs")
        os.makedirs(os.path.join(rootfs, "bin"))
        for d in ("tmp", "etc", "root", "proc", "sys", "dev", "data"):
            os.makedirs(os.path.join(rootfs, d), exist_ok=True)
        os.chmod(os.path.join(rootfs, "tmp"), 0o1777)
        shutil.copy2(BUSYBOX, os.path.join(rootfs, "bin", "busybox"))
        applets = run([BUSYBOX, "--list"]).out.split()
        for a in set(applets) | {"sh"}:
            if a != "busybox" and re.fullmatch(r"[A-Za-z0-9_.\[-]+", a):
                os.symlink("busybox", os.path.join(rootfs, "bin", a))
        with open(os.path.join(rootfs, "etc", "passwd"), "w") as f:
            f.write("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n")
        with open(os.path.join(rootfs, "etc", "group"), "w") as f:
            f.write("root:x:0:\nnogroup:x:65534:\n")
        tar = os.path.join(self.dir, "bb.tar")
        r = run(["tar", "-C", rootfs, "-cf", tar, "."])
        if r.rc != 0:
            raise Fatal("tar of the busybox rootfs failed:\n" + r.describe())
        with open(tar, "rb") as f:
            r = run(["docker", "import", "-c", 'CMD ["/bin/sh"]', "-c", "ENV PATH=/bin", "-",
                     tag], env=self.env(), stdin_file=f, timeout=120)
        if r.rc != 0:
            raise Fatal("docker import of busybox failed:\n" + r.describe())
        shutil.rmtree(rootfs, ignore_errors=True)
        os.unlink(tar)
        return tag


# ---------------------------------------------------------------- certificates


class Certs:
    """A CA plus a server certificate and client certificates, via make-certs.sh."""

    def __init__(self, ws, name="pki"):
        self.ws = ws
        self.dir = ws.path(name)
        self.users = {}

    def make(self, *args):
        r = run(["bash", MAKE_CERTS, *args], timeout=60)
        if r.rc != 0:
            raise Fatal("make-certs.sh failed:\n" + r.describe())
        return r

    def ca(self):
        self.make("ca", self.dir)
        return self

    def server(self, host="localhost", ip="127.0.0.1"):
        self.make("server", self.dir, "--host", host, "--ip", ip)
        return os.path.join(self.dir, "server")

    def client(self, user, groups=(), label=None, extra=()):
        label = label or user
        args = ["client", self.dir, "--user", user, "--out", os.path.join(self.dir, label)]
        for g in groups:
            args += ["--group", g]
        self.make(*args, *extra)
        self.users[label] = os.path.join(self.dir, label)
        return self.users[label]

    @property
    def ca_pem(self):
        return os.path.join(self.dir, "ca.pem")

    @property
    def server_cert(self):
        return os.path.join(self.dir, "server", "cert.pem")

    @property
    def server_key(self):
        return os.path.join(self.dir, "server", "key.pem")


def standard_pki(ws):
    """CA, server for localhost/127.0.0.1, alice (admins) and bob (dev)."""
    certs = Certs(ws).ca()
    certs.server()
    certs.client("alice", ["admins"])
    certs.client("bob", ["dev"])
    return certs


# ---------------------------------------------------------------- policies


def example_policy(name):
    p = os.path.join(SOURCE_ROOT, "examples", "policies", name + ".dpol")
    if not os.path.exists(p):
        raise Fatal(f"example policy missing: {p}")
    return p


def compile_policy(dockpolc, sources, out, revision="e2e"):
    r = run([dockpolc, "build", *sources, "-o", out, "--revision", revision], timeout=60)
    if r.rc != 0 or not os.path.exists(out):
        raise Fatal("dockpolc build failed:\n" + r.describe())
    return out


# ---------------------------------------------------------------- dockpold


class Dockpold:
    """dockpold on a free 127.0.0.1 port in front of a Dockerd."""

    def __init__(self, ws, binary, bundle, certs, dockerd, host_name="e2e-host", extra=()):
        self.ws = ws
        self.binary = binary
        self.bundle = bundle
        self.certs = certs
        self.dockerd = dockerd
        self.host_name = host_name
        self.extra = list(extra)
        self.port = None
        self.proc = None
        self.audit_path = ws.path(f"audit-{id(self)}.jsonl")
        self.log_path = ws.path(f"dockpold-{id(self)}.log")

    def args(self):
        return [self.binary, "--listen", f"127.0.0.1:{self.port}",
                "--tls-cert", self.certs.server_cert, "--tls-key", self.certs.server_key,
                "--tls-client-ca", self.certs.ca_pem, "--bundle", self.bundle,
                "--docker", self.dockerd.host, "--host-name", self.host_name,
                "--audit-log", self.audit_path, *self.extra]

    def start(self, ready_user="alice"):
        self.port = free_port()
        self.logf = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.args(), stdin=subprocess.DEVNULL, stdout=self.logf,
                                     stderr=subprocess.STDOUT)
        self.ws.on_cleanup(self.stop)
        deadline = time.monotonic() + DOCKPOLD_START_TIMEOUT
        last = ""
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise Fatal(f"dockpold exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                status, _ = self.raw_request(ready_user, "GET", "/_ping", timeout=5)
                if status == 200:
                    return self
                last = f"HTTP {status}"
            except (OSError, ssl.SSLError) as e:
                last = repr(e)
            time.sleep(0.2)
        raise Fatal(f"dockpold not ready within {DOCKPOLD_START_TIMEOUT}s ({last}):\n"
                    f"{' '.join(self.args())}\n{self.log_tail()}")

    def stop(self):
        if self.proc is not None:
            stop_process(self.proc, grace=35)
            self.proc = None
            self.logf.close()

    def log_tail(self, n=30):
        try:
            self.logf.flush()
        except (AttributeError, ValueError):
            pass
        try:
            with open(self.log_path, "rb") as f:
                return "\n".join(f.read().decode("utf-8", "replace").splitlines()[-n:])
        except OSError:
            return "(no dockpold log)"

    def tls_context(self, user_dir):
        ctx = ssl.create_default_context(cafile=self.certs.ca_pem)
        if user_dir:
            ctx.load_cert_chain(os.path.join(user_dir, "cert.pem"),
                                os.path.join(user_dir, "key.pem"))
        return ctx

    def raw_request(self, user, method, path, body=None, timeout=10, headers=()):
        """One HTTP/1.1 request over mTLS (headers: extra "Name: value" lines); returns (status, body bytes)."""
        user_dir = self.certs.users.get(user, user)
        ctx = self.tls_context(user_dir)
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                head = f"{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
                head += "".join(h + "\r\n" for h in headers)
                if body is not None:
                    head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                s.sendall(head.encode() + b"\r\n" + (body or b""))
                data = b""
                while True:
                    try:
                        chunk = s.recv(65536)
                    except ssl.SSLError:
                        break
                    if not chunk:
                        break
                    data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else 0
        return status, rest

    def env(self, user):
        env = self.ws.base_env()
        env["DOCKER_HOST"] = f"tcp://127.0.0.1:{self.port}"
        env["DOCKER_TLS_VERIFY"] = "1"
        env["DOCKER_CERT_PATH"] = self.certs.users.get(user, user)
        return env

    def docker(self, user, *args, **kw):
        return run(["docker", *args], env=self.env(user), **kw)

    def audit_lines(self):
        """Parsed audit events of requests written so far (unparsable lines are returned as strings)."""
        try:
            with open(self.audit_path, encoding="utf-8", errors="replace") as f:
                text = f.read()
        except OSError:
            return []
        out = []
        for line in text.splitlines():
            try:
                e = json.loads(line)
            except ValueError:
                out.append(line)
                continue
            # The chain's checkpoints (--audit-key, docs/request-model.md) are not requests.
            if not (isinstance(e, dict) and "checkpoint" in e):
                out.append(e)
        return out

    def wait_audit(self, pred, timeout=5, start=0):
        """The first audit event from index start on matching pred, waiting for the async writer."""
        deadline = time.monotonic() + timeout
        while True:
            for ev in self.audit_lines()[start:]:
                if isinstance(ev, dict) and pred(ev):
                    return ev
            if time.monotonic() > deadline:
                return None
            time.sleep(0.1)


# ---------------------------------------------------------------- harness


def main(name, body, deadline=540):
    """Runs body(ws, checks, argv) and exits 0 (all passed), 1 (a failure) or 77 (skip)."""
    checks = Checks(name)
    try:
        with Workspace(name, deadline) as ws:
            log(f"[e2e] {name}: workspace {ws.dir}")
            body(ws, checks, sys.argv[1:])
    except Skip as e:
        log(f"SKIP: {e}")
        sys.exit(SKIP)
    except Fatal as e:
        checks.check("precondition", False, str(e))
    sys.exit(checks.summary())


def need_file(path, what):
    if not path or not os.path.exists(path):
        raise Fatal(f"{what} not found: {path!r}")
    return path


def programs(argv, usage):
    """dockpold and dockpolc, a test's first two arguments; `usage` is its usage line."""
    if len(argv) < 2:
        raise Fatal("usage: " + usage)
    return need_file(argv[0], "dockpold"), need_file(argv[1], "dockpolc")
