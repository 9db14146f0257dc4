"""Helpers for the hot-swap end-to-end tests: bundles (built, signed, damaged),
dockpold with --admin (file or URL source), the admin API, metrics parsing,
and small HTTP(S) bundle servers. Builds on tests/e2e/lib/e2e.py."""

import collections
import hashlib
import http.client
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e", "lib"))
import e2e  # noqa: E402

FIXTURES = os.path.join(HERE, "fixtures")

def fixture(name):
    return os.path.join(FIXTURES, name)


def build(dockpolc, policy, out, revision, sign=None):
    args = [dockpolc, "build", fixture(policy), "-o", out, "--revision", revision]
    if sign:
        args += ["--sign", sign]
    r = e2e.run(args, timeout=60)
    if r.rc != 0 or not os.path.exists(out):
        raise e2e.Fatal("dockpolc build failed:\n" + r.describe())
    return out


def keygen(dockpolc, ws, name):
    key, pub = ws.path(f"{name}.key.pem"), ws.path(f"{name}.pub.pem")
    r = e2e.run([dockpolc, "keygen", "-o", key, "--pub", pub])
    if r.rc != 0 or not os.path.exists(pub):
        raise e2e.Fatal("dockpolc keygen failed:\n" + r.describe())
    return key, pub


def read(path):
    with open(path, "rb") as f:
        return f.read()


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    return path


def install(data_or_path, dest):
    """Atomically puts bytes (or a file's bytes) at dest: temp file + rename."""
    data = read(data_or_path) if isinstance(data_or_path, str) else data_or_path
    tmp = dest + ".incoming"
    write(tmp, data)
    os.rename(tmp, dest)


def layout(dockpolc, path):
    """Where the header, payload, signature block and digest of the bundle at `path` lie, as
    `dockpolc inspect --format json` reports them (docs/cli.md): the format is not re-typed here."""
    r = e2e.run([dockpolc, "inspect", path, "--format", "json"], timeout=60)
    if r.rc != 0:
        raise e2e.Fatal("dockpolc inspect failed:\n" + r.describe())
    return json.loads(r.out)["layout"]


def redigest(lay, data):
    """`data` (same layout as `lay`) with its SHA-256 trailer recomputed."""
    body = data[:lay["digest"]["offset"]]
    return body + hashlib.sha256(body).digest()


def resign(ws, lay, data, key):
    """Replaces the signature over header+payload with one made by `key` (openssl pkeyutl), then re-digests."""
    sig_block = lay["signature"]
    signed = data[:sig_block["offset"]]
    blob = write(ws.path("to-sign.bin"), signed)
    sig_path = ws.path("sig.bin")
    r = e2e.run(["openssl", "pkeyutl", "-sign", "-inkey", key, "-rawin", "-in", blob, "-out", sig_path])
    if r.rc != 0:
        raise e2e.Fatal("openssl pkeyutl -sign failed:\n" + r.describe())
    sig = read(sig_path)
    key_id = data[sig_block["offset"]:sig_block["offset"] + sig_block["key_id_size"]]
    return redigest(lay, signed + key_id + sig + bytes(lay["digest"]["size"]))


def damaged(ws, dockpolc, good, how, key=None):
    """Bytes of a bad variant of the bundle at `good` (its layout read through dockpolc)."""
    lay = layout(dockpolc, good)
    data = bytearray(read(good))
    if how == "corrupted":
        data[len(data) // 2] ^= 0x5A
    elif how == "truncated":
        data = data[: len(data) // 2]
    elif how == "empty":
        data = bytearray()
    elif how == "tampered":
        # A byte of the first section changes and the digest is recomputed: only the signature can tell.
        data[lay["sections"][0]["offset"]] ^= 0x01
        data = bytearray(redigest(lay, bytes(data)))
    elif how == "verifier":
        # Rule `zzzzz` becomes the reserved name `error`; digest (and signature) made valid again.
        i = data.find(b"zzzzz")
        if i < 0 or data.find(b"zzzzz", i + 1) >= 0:
            raise e2e.Fatal("verifier bait: expected exactly one 'zzzzz' in the bundle")
        data[i:i + 5] = b"error"
        data = bytearray(resign(ws, lay, bytes(data), key) if key else redigest(lay, bytes(data)))
    else:
        raise ValueError(how)
    return bytes(data)


# ---------------------------------------------------------------- dockpold


class HotDockpold(e2e.Dockpold):
    """dockpold with an admin listener; the bundle source is a file (default) or a URL."""

    def __init__(self, ws, binary, bundle, certs, dockerd, url=None, extra=()):
        super().__init__(ws, binary, bundle, certs, dockerd, extra=extra)
        self.url = url
        self.admin_port = None

    def args(self):
        a = super().args()
        if self.url:
            i = a.index("--bundle")
            a[i:i + 2] = ["--bundle-url", self.url]
        return a + ["--admin", f"127.0.0.1:{self.admin_port}"]

    def start(self, ready_user="alice"):
        self.admin_port = e2e.free_port()
        return super().start(ready_user)

    def admin(self, method, path, timeout=10):
        """(status, parsed JSON or text) from the admin listener."""
        c = http.client.HTTPConnection("127.0.0.1", self.admin_port, timeout=timeout)
        try:
            c.request(method, path)
            r = c.getresponse()
            body = r.read().decode("utf-8", "replace")
        finally:
            c.close()
        try:
            return r.status, json.loads(body)
        except ValueError:
            return r.status, body

    def status(self):
        st, body = self.admin("GET", "/v1/status")
        if st != 200:
            raise e2e.Fatal(f"/v1/status answered {st}: {body}")
        return body

    def metrics(self):
        st, body = self.admin("GET", "/metrics")
        if st != 200:
            raise e2e.Fatal(f"/metrics answered {st}: {body}")
        return parse_metrics(body)

    def wait_revision(self, revision, timeout=5):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.status().get("revision") == revision:
                return True
            time.sleep(0.02)
        return False

    def wait_metric(self, name, at_least, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.metrics().get(name, 0) >= at_least:
                return True
            time.sleep(0.1)
        return False


_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{.*\})?) (\S+)$')


def parse_metrics(text):
    """{'name{labels}': float} for every sample line."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if not m:
            raise e2e.Fatal(f"unparsable metrics line: {line!r}")
        out[m.group(1)] = float(m.group(2))
    return out


RELOAD_OK = 'dockpol_bundle_reloads_total{result="success"}'
RELOAD_FAIL = 'dockpol_bundle_reloads_total{result="failure"}'


def request(p, user, method, path, body=None, timeout=30):
    """(status, body) of one request over mTLS, framed by Content-Length/chunked (not by EOF)."""
    user_dir = p.certs.users.get(user, user)
    c = http.client.HTTPSConnection("127.0.0.1", p.port, context=p.tls_context(user_dir), timeout=timeout)
    try:
        headers = {"Host": "localhost"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        c.request(method, path, body=body, headers=headers)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def ps_status(p, user="bob"):
    """HTTP status of GET /containers/json through dockpold (200 allowed, 403 denied)."""
    return request(p, user, "GET", "/v1.41/containers/json")[0]


# ---------------------------------------------------------------- bundle servers


class BundleServer:
    """tests/hotswap/bundle_server.py serving a directory over HTTP or HTTPS with ETags."""

    def __init__(self, ws, root, cert=None, key=None):
        self.ws = ws
        self.root = root
        self.port = e2e.free_port()
        self.log_path = ws.path(f"bundle-server-{self.port}.log")
        args = [sys.executable, os.path.join(HERE, "bundle_server.py"), "--port", str(self.port),
                "--root", root, "--log", self.log_path]
        if cert:
            args += ["--cert", cert, "--key", key]
        self.scheme = "https" if cert else "http"
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        ws.on_cleanup(self.stop)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if os.path.exists(self.log_path) and "listening" in open(self.log_path).read():
                return
            time.sleep(0.05)
        raise e2e.Fatal("bundle server did not start")

    def url(self, name="bundle.dpb"):
        return f"{self.scheme}://127.0.0.1:{self.port}/{name}"

    def statuses(self):
        """HTTP statuses answered so far, in order."""
        with open(self.log_path) as f:
            return [int(line.split()[1]) for line in f if line.startswith("GET ")]

    def stop(self):
        e2e.stop_process(self.proc, grace=5)


class PlainHttpServer:
    """python3 -m http.server (no ETag support) on a directory."""

    def __init__(self, ws, root):
        self.port = e2e.free_port()
        self.proc = subprocess.Popen([sys.executable, "-m", "http.server", str(self.port), "--bind", "127.0.0.1",
                                      "--directory", root], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ws.on_cleanup(self.stop)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                c.request("GET", "/")
                c.getresponse().read()
                c.close()
                return
            except OSError:
                time.sleep(0.05)
        raise e2e.Fatal("python3 -m http.server did not start")

    def url(self, name="bundle.dpb"):
        return f"http://127.0.0.1:{self.port}/{name}"

    def stop(self):
        e2e.stop_process(self.proc, grace=5)


def copy(src, dst):
    shutil.copyfile(src, dst)
    return dst


class Load:
    """bob's client threads sending GETs through dockpold while a test swaps
    bundles: `keep_alive` threads on one connection each and `new_conns`
    threads opening a connection per request, each cycling through `paths`.
    Records every outcome by (path, status); anything but 200, or a 403 whose
    body lacks denials[path], or a reset/half answer is a failure."""

    def __init__(self, p, certs, paths, denials, keep_alive=3, new_conns=1):
        self.p, self.paths, self.denials = p, list(paths), denials
        self.spec = [True] * keep_alive + [False] * new_conns
        self.ctx = ssl.create_default_context(cafile=certs.ca_pem)
        bob = certs.users["bob"]
        self.ctx.load_cert_chain(os.path.join(bob, "cert.pem"), os.path.join(bob, "key.pem"))
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.statuses = collections.Counter()
        self.failures = []
        self.threads = []

    def record(self, path, status, body):
        with self.lock:
            self.statuses[(path, status)] += 1
            if status == 403 and (path not in self.denials or self.denials[path] not in body):
                self.failures.append(f"{path}: 403 with unexpected body {body[:200]!r}")
            elif status not in (200, 403):
                self.failures.append(f"{path}: HTTP {status}: {body[:200]!r}")

    def conn(self):
        return http.client.HTTPSConnection("127.0.0.1", self.p.port, context=self.ctx, timeout=30)

    def worker(self, keep_alive):
        c = self.conn()
        i = 0
        while not self.stop.is_set():
            path = self.paths[i % len(self.paths)]
            i += 1
            try:
                headers = {"Host": "localhost"}
                if not keep_alive:
                    headers["Connection"] = "close"
                c.request("GET", path, headers=headers)
                r = c.getresponse()
                self.record(path, r.status, r.read())
            except Exception as e:  # a reset or a half answer is exactly what must not happen
                with self.lock:
                    self.failures.append(f"{path} ({'keep-alive' if keep_alive else 'new connection'}): {e!r}")
                c.close()
                c = self.conn()
                continue
            if not keep_alive:
                c.close()
                c = self.conn()
        c.close()

    def start(self):
        self.stop.clear()
        for keep_alive in self.spec:
            t = threading.Thread(target=self.worker, args=(keep_alive,), daemon=True)
            t.start()
            self.threads.append(t)

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(60)
        self.threads = []

    def total(self):
        return sum(self.statuses.values())

    def count(self, status):
        """Requests answered with this status, any path."""
        return sum(n for (_, st), n in self.statuses.items() if st == status)
