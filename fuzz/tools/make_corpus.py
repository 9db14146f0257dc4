#!/usr/bin/env python3
"""Writes the seed corpora fuzz/corpus/<target>/gen_* and the dictionaries
fuzz/<target>.dict from the project's own inputs:

  policies   examples/policies/*.dpol, tests/**/fixtures/**/*.dpol, tests/golden/**
  requests   examples/policies/*.cases.json (the cases' REQUEST.json objects)
  bundles    built from the example policies by dockpolc (plain and signed)
  HTTP       tests/unit/fixtures/routes.tsv targets, plus hand-made edge cases
             (the docker CLI's real heads are cli_* files, see capture_cli_heads.py)
  bodies     tests/unit/fixtures/bodies/container_create.json (or --bench), captured CLI bodies
  schema     runtime/dockpol/rt/{fields,actions}.def for the dictionaries

Only gen_* files are replaced; cli_* (captured), fz_* (merged from fuzzing
runs with -merge=1) and crash_* (fixed findings) files are kept. Usage: fuzz/tools/make_corpus.py --dockpolc BUILD/dsl/dockpolc
"""
import argparse
import glob
import hashlib
import json
import os
import re
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FUZZ = os.path.join(ROOT, "fuzz")
MAX_FILES = 200        # per target: keeps replay fast and the repo small
MAX_POLICY_BYTES = 16384



def targets_with_generated_seeds():
    """The targets fuzz/targets.txt marks `gen` (the one list of targets; see its header)."""
    rows = [line.split() for line in read(os.path.join(FUZZ, "targets.txt")).splitlines()]
    return [r[0] for r in rows if r and not r[0].startswith("#") and r[2] == "gen"]


def rel(p):
    return os.path.relpath(p, ROOT)


def read(p, mode="r"):
    with open(p, mode) as f:
        return f.read()


# ---------------------------------------------------------------- policies
SNIPPETS = [
    "default allow\n",
    "default deny\nrule a: allow\n",
    "rule a: deny if action == \"container_create\" and container.privileged\n",
    "let s = {\"a\", \"b\"}\nrule r: allow if group in s and host matches \"prod-*\"\n",
    "rule r: deny if any p in container.host_paths: p covers \"/var/run/docker.sock\"\n",
    "rule r: deny if action == \"container_create\" and not (container.uid > 0 or container.user == \"\")\n",
    "rule r: allow if all m in body.HostConfig.Mounts: m.Type == \"volume\"\n",
    "rule r: deny if action in {\"image_create\", \"image_push\"} and not image.registry in {\"registry.example.com\"}\n",
    "rule r: allow if action matches \"container_*\" and resource.labels.owner == user\n",
    "rule r: allow if host.labels.env == \"prod\" and query.all == \"1\" and api_version >= \"1.41\"\n",
    "rule r: deny if exec.privileged or exec.uid == 0 or \"sh\" in exec.cmd\n",
    "rule r: deny if volume.driver == \"local\" and volume.host_path covers \"/etc\"\n",
    "rule a: allow\nrule b: deny if group == \"x\"\n",
    "rule a: allow if group == \"x\"\nrule a: deny\n",
    "rule r: allow if action == \"contianer_list\"\n",
    "rule r: allow if nosuch.field == 1\n",
    "rule r: allow if host matches \"[a-\"\n",
    "rule r: allow if (((((group == \"a\")))))\n",
    "rule r: allow if user == \"\\\"quoted\\\\\" and path == \"/x\\ty\"\n",
    "# comment only\n",
    "rule r:\n    allow if group == \"a\"\n        and host == \"b\"\n",
    "rule r: allow if body.Labels.com.example.team == \"web\" and body.HostConfig.Privileged == false\n",
    "rule r: deny if container.cap_add in {\"CAP_SYS_ADMIN\"} or \"gpu\" in container.devices\n",
    "rule r: allow if method != \"DELETE\" and resource.id matches \"web-?\" and resource.name == \"web\"\n",
    "rule \u00e9t\u00e9: allow\n",
    "owner label \"dockpol.owner\"\nrule r: allow own if action in {\"container_list\", \"container_stop\"}\n",
    "owner label \"dockpol.owner\"\nrule r: allow if action == \"container_stop\" and resource.owner == user\n",
    "rule r: allow if resource.labels.team == host.labels.team and user != resource.name\n",
    "owner label \"Owner\"\nowner label \"a.b\"\nrule r: deny own\nrule s: allow own if action == \"system_info\"\n",
    "rule r: allow if user == \"\u00e9\u00e8\"\n\trule x: deny\n",
]


def policy_files():
    pats = ["examples/policies/*.dpol", "tests/**/fixtures/**/*.dpol", "tests/golden/**/*.dpol"]
    seen, out = set(), []
    for pat in pats:
        for p in sorted(glob.glob(os.path.join(ROOT, pat), recursive=True)):
            if p not in seen and os.path.getsize(p) <= MAX_POLICY_BYTES:
                seen.add(p)
                out.append(p)
    return out


def policies():
    out = [(os.path.basename(p), read(p, "rb")) for p in policy_files()]
    out += [("snippet%02d.dpol" % i, s.encode()) for i, s in enumerate(SNIPPETS)]
    return out


# ---------------------------------------------------------------- requests
def request_lines(req):
    lines = []
    if "user" in req:
        lines.append("user=" + str(req["user"]))
    for g in req.get("groups", []):
        lines.append("group=" + str(g))
    if "host" in req:
        lines.append("host=" + str(req["host"]))
    for k, v in (req.get("host_labels") or {}).items():
        lines.append("host.label=%s=%s" % (k, v))
    if "method" in req:
        lines.append("method=" + req["method"])
    if "path" in req:
        lines.append("target=" + req["path"])
    if "action" in req:
        lines.append("action=" + req["action"])
    if "body" in req:
        lines.append("body=" + json.dumps(req["body"], separators=(",", ":")))
    if "body_raw" in req:
        lines.append("body=" + req["body_raw"].replace("\n", " "))
    res = req.get("resource") or {}
    if "name" in res:
        lines.append("resource.name=" + res["name"])
    for k, v in (res.get("labels") or {}).items():
        lines.append("resource.label=%s=%s" % (k, v))
    return "\n".join(lines) + "\n"


def case_requests():
    out = {}
    for p in sorted(glob.glob(os.path.join(ROOT, "examples/policies/*.cases.json"))):
        base = os.path.basename(p)[: -len(".cases.json")]
        try:
            cases = json.loads(read(p))
        except ValueError:
            continue
        out[base] = [c["request"] for c in cases if isinstance(c, dict) and "request" in c]
    return out


# ---------------------------------------------------------------- bundles
def bundle_layout(dockpolc, path):
    """The bundle's byte layout as `dockpolc inspect --format json` reports it (docs/cli.md): header
    fields, sections with their tags, signature block, digest. The format is not re-typed here."""
    r = subprocess.run([dockpolc, "inspect", path, "--format", "json"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    if r.returncode != 0:
        sys.exit("dockpolc inspect %s failed: %s" % (path, r.stderr.decode()[:200]))
    return json.loads(r.stdout)["layout"]


def build_bundles(dockpolc, tmp):
    """[(name, bytes, layout)] of bundles built from the example policies (empty without dockpolc)."""
    out = []
    if not dockpolc:
        return out
    key = os.path.join(tmp, "key.pem")
    subprocess.run([dockpolc, "keygen", "-o", key, "--pub", os.path.join(tmp, "pub.pem")],
                   check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for i, p in enumerate(sorted(glob.glob(os.path.join(ROOT, "examples/policies/*.dpol")))):
        name = os.path.basename(p)[:-5]
        for signed in (False, True):
            if signed and (i > 0 or not os.path.exists(key)):
                continue
            o = os.path.join(tmp, name + (".signed" if signed else "") + ".dpb")
            cmd = [dockpolc, "build", p, "-o", o, "--revision", "seed-" + name]
            if signed:
                cmd += ["--sign", key]
            r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            if r.returncode == 0 and os.path.exists(o):
                out.append((name + ("_signed" if signed else ""), read(o, "rb"), bundle_layout(dockpolc, o)))
            else:
                print("warning: dockpolc build %s failed: %s" % (rel(p), r.stderr.decode()[:200]), file=sys.stderr)
    # A tiny policy keeps mutated bundles small (faster fuzzing).
    tiny = os.path.join(tmp, "tiny.dpol")
    with open(tiny, "w") as f:
        f.write("default deny\nrule r: allow if group == \"a\" and any p in container.host_paths: p covers \"/x\"\n")
    o = os.path.join(tmp, "tiny.dpb")
    if subprocess.run([dockpolc, "build", tiny, "-o", o, "--revision", "t"], stdout=subprocess.DEVNULL,
                      stderr=subprocess.DEVNULL).returncode == 0:
        out.append(("tiny", read(o, "rb"), bundle_layout(dockpolc, o)))
    return out


# ---------------------------------------------------------------- HTTP
def route_targets():
    out = []
    p = os.path.join(ROOT, "tests/unit/fixtures/routes.tsv")
    if not os.path.exists(p):
        return out
    for line in read(p).splitlines():
        if not line or line.startswith("#"):
            continue
        cols = line.split("\t")
        if len(cols) >= 2:
            out.append((cols[0], cols[1]))
    return out


EDGE_HEADS = [
    b"GET /v1.41/containers/json HTTP/1.1\r\nHost: docker\r\n\r\n",
    b"GET /containers/a%2Fb/json HTTP/1.1\r\nHost: docker\r\n\r\n",
    b"GET /v1.41/containers/../images/json HTTP/1.1\r\nHost: docker\r\n\r\n",
    b"GET /v1.23/containers/json HTTP/1.1\r\nHost: docker\r\n\r\n",
    b"GET /v01.41/containers/json HTTP/1.1\r\nHost: docker\r\n\r\n",
    b"GET //containers/json HTTP/1.1\r\nHost: docker\r\n\r\n",
    b"GET /images/registry.example.com:5000/team/app:1/json HTTP/1.1\r\nHost: docker\r\n\r\n",
    b"GET /v1.41/containers/json?all=1&filters=%7B%22a%22%3A1%7D&x=a+b&y=%20&&z HTTP/1.1\r\nHost: d\r\n\r\n",
    b"GET /containers/json?a;b HTTP/1.1\r\nHost: d\r\n\r\n",
    b"GET http://docker/containers/json HTTP/1.1\r\nHost: d\r\n\r\n",
    b"OPTIONS * HTTP/1.1\r\nHost: d\r\n\r\n",
    b"POST /v1.41/containers/create HTTP/1.1\r\nHost: d\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n",
    b"POST /v1.41/containers/create HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n",
    b"POST /v1.41/containers/create HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked\r\n\r\n",
    b"POST /v1.41/containers/create HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
    b"POST /v1.41/exec/abc/start HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 31\r\nExpect: 100-continue\r\n\r\n",
    b"GET /v1.41/containers/json HTTP/1.1\r\nHost: d\r\n folded\r\n\r\n",
    b"GET /v1.41/containers/json HTTP/1.1\nHost: d\n\n",
    b"GET /v1.41/containers/json HTTP/1.1\r\nHost : d\r\n\r\n",
    b"GET /v1.41/containers/json HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
    b"GET /v1.41/containers/json HTTP/2.0\r\nHost: d\r\n\r\n",
    b"GET  /v1.41/containers/json HTTP/1.1\r\n\r\n",
    b"G\xc3\xa9T /x HTTP/1.1\r\n\r\n",
    b"GET /v1.41/containers/caf%C3%A9/json HTTP/1.1\r\nHost: d\r\nX-Ctl: a\x01b\r\n\r\n",
    b"DELETE /v1.50/containers/web?force=1&v=1 HTTP/1.1\r\nHost: d\r\nContent-Length: 0\r\n\r\n",
    b"HEAD /_ping HTTP/1.1\r\nHost: d\r\n\r\n",
    b"POST /v1.41/containers/web/attach?stream=1&stdin=1&stdout=1 HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n",
    b"GET /v1.41/debug/pprof/ HTTP/1.1\r\nHost: d\r\n\r\n",
    b"PUT /v1.41/containers/web/archive?path=%2Ftmp HTTP/1.1\r\nHost: d\r\nContent-Length: 512\r\n\r\n",
    b"POST /v1.41/build?t=x&dockerfile=Dockerfile HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked\r\n\r\n",
    b"POST /grpc HTTP/1.1\r\nHost: d\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n",
]


# ---------------------------------------------------------------- bodies
EXEC_BODIES = [
    b'{"User":"root","Privileged":true,"Tty":false,"AttachStdout":true,"AttachStderr":true,"Cmd":["ls","/"]}',
    b'{"User":"","Cmd":["sh","-c","id"],"Env":["A=b"],"WorkingDir":"/"}',
    b'{"user":"0","privileged":false,"cmd":"sh"}',
    b'{"User":"0000:5","Privileged":true,"User":"1000"}',
]
VOLUME_BODIES = [
    b'{"Name":"v1","Driver":"local","DriverOpts":{"type":"none","o":"bind","device":"/"},"Labels":{}}',
    b'{"Name":"v2","DriverOpts":{"o":"ro,bind","device":"/etc/../var/run"}}',
    b'{"Name":"v3","Driver":"nfs","DriverOpts":{"o":"addr=1.2.3.4","device":":/export"}}',
    b'{"Driver":"local","driver":"other"}',
]
CREATE_VARIANTS = [
    b'{"Image":"alpine","HostConfig":{"Privileged":true,"privileged":false}}',
    b'{"Image":"alpine","Image":"registry.example.com/app"}',
    b'{"image":"alpine","HostConfig":{"Binds":["/var/run/docker.sock:/s:ro","vol:/d","/a/./b/../c:/x"]}}',
    b'{"Image":"localhost:5000/x","User":"0000:5","HostConfig":{"Mounts":[{"Type":"bind","Source":"//etc/"},'
    b'{"Type":"volume","Source":"v","VolumeOptions":{"DriverConfig":{"Name":"local","Options":{"o":"bind","device":"/"}}}}]}}',
    b'{"Image":"a","HostConfig":{"PidMode":"host","NetworkMode":"container:db","IpcMode":"host","UTSMode":"host",'
    b'"UsernsMode":"host","CgroupnsMode":"host","VolumesFrom":["db:ro"]}}',
    b'{"Image":"a","HostConfig":{"CapAdd":["sys_admin","CAP_NET_ADMIN","ALL"],"Devices":[{"PathOnHost":"/dev/fuse"}],'
    b'"DeviceRequests":[{"Driver":"nvidia","Count":-1}],"SecurityOpt":["seccomp=unconfined","apparmor=unconfined"]}}',
    b'{"Image":"a","Labels":{"com.example.owner":"bruce","com.example.owner":"eve"}}',
    b'{"Image":"a","Labels":{"com.example.owner":"bruce","Com.Example.Owner":"eve"}}',
    b'{"Image":"a","HostConfig":{"Privileged":"yes"}}',
    b'{"\\u0049mage":"a","HostConfig":{"Priv\\u0069leged":true}}',
    b'{"Image":"a","HostConfig":{"PortBindings":{"80/tcp":[{"HostIp":"","HostPort":"8080"}]}},"Env":["A=1"],"Cmd":"sh"}',
    b'{"Image":"a","X":[1,2.5e3,-0,true,null,{"y":[]}],"HostConfig":null}',
    b'{"Image":"a","Big":1e400}',
    b'{"Image":"\xff"}',
    b'{"\xc5\xbfecurityOpt":1,"Image":"a"}',
    b'[1,2]',
    b'{"Image":"a",}',
    b'{"Image":"a"} x',
    b'\xef\xbb\xbf{"Image":"a"}',
]


# ---------------------------------------------------------------- upstream responses
INSPECT_CONTAINER = json.dumps({
    "Id": "0123456789abcdef", "Name": "/web", "State": {"Running": True},
    "Config": {"Image": "alpine", "Labels": {"owner": "bruce", "com.example.team": "web"}},
    "HostConfig": {"Privileged": False}}, separators=(",", ":")).encode()
INSPECT_IMAGE = b'{"Id":"sha256:ab","RepoTags":["alpine:3.19","alpine:latest"],"Config":{"Labels":null}}'
INSPECT_NETWORK = b'{"Name":"n1","Id":"abc","Labels":{"env":"prod"},"Driver":"bridge"}'
INSPECT_SERVICE = b'{"ID":"s1","Spec":{"Name":"api","Labels":{"team":"core"}}}'


def response(status, body, extra=b"", chunked=False):
    head = b"HTTP/1.1 " + status + b"\r\nApi-Version: 1.41\r\nContent-Type: application/json\r\nServer: Docker/20.10.24 (linux)\r\n" + extra
    if chunked:
        out = head + b"Transfer-Encoding: chunked\r\n\r\n"
        for i in range(0, len(body), 17):
            piece = body[i:i + 17]
            out += b"%x\r\n" % len(piece) + piece + b"\r\n"
        return out + b"0\r\n\r\n"
    return head + b"Content-Length: %d\r\n\r\n" % len(body) + body


UPSTREAM = [
    (0x00, response(b"200 OK", INSPECT_CONTAINER)),
    (0x41, response(b"200 OK", INSPECT_IMAGE)),
    (0x82, response(b"200 OK", INSPECT_NETWORK, chunked=True)),
    (0xC5, response(b"200 OK", INSPECT_SERVICE)),
    (0x03, response(b"200 OK", b'{"Name":"v1","Driver":"local","Labels":{"a":"b"},"Mountpoint":"/var/lib/docker/volumes/v1/_data"}')),
    (0x20, response(b"404 Not Found", b'{"message":"No such container: web"}')),
    (0x10, b"HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Length: 2\r\n\r\n"),
    (0x60, b"HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n\x01\x00\x00\x00\x00\x00\x00\x03hi\n"),
    (0xE0, response(b"200 OK", b'{"status":"create","id":"abc","from":"alpine","Type":"container"}\n' * 3, chunked=True)),
    (0xA0, b"HTTP/1.1 204 No Content\r\nApi-Version: 1.41\r\n\r\n"),
    (0x00, b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n" + INSPECT_CONTAINER),
    (0x00, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n{}{}{}"),
    (0x00, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nx\r\n0\r\n\r\n"),
    (0x00, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;ext=1\r\n{}\r\n0\r\nTrailer: x\r\n\r\n"),
    (0x40, b"HTTP/1.1 999 Weird\r\n\r\n"),
    (0x00, response(b"200 OK", b'{"Name":5,"Config":{"Labels":{"a":1,"b":"c"}}}')),
    (0x00, response(b"200 OK", b'[]')),
]


# ---------------------------------------------------------------- writing
def write_corpus(target, items):
    d = os.path.join(FUZZ, "corpus", target)
    os.makedirs(d, exist_ok=True)
    for f in glob.glob(os.path.join(d, "gen_*")):
        os.remove(f)
    kept = len(os.listdir(d))
    seen = set()
    n = 0
    for name, data in items:
        h = hashlib.sha1(data).hexdigest()
        if h in seen or kept + n >= MAX_FILES:
            continue
        seen.add(h)
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:60]
        with open(os.path.join(d, "gen_%03d_%s" % (n, safe)), "wb") as f:
            f.write(data)
        n += 1
    return kept + n


def dict_entries(words):
    out, seen = [], set()
    for w in words:
        if isinstance(w, str):
            w = w.encode()
        if not w or w in seen:
            continue
        seen.add(w)
        esc = "".join(chr(b) if 0x20 <= b < 0x7f and b not in (0x22, 0x5c) else "\\x%02x" % b for b in w)
        out.append('"%s"' % esc)
    return "\n".join(out) + "\n"


def schema_names():
    fields = re.findall(r'^FIELD\(\s*\w+,\s*"([^"]+)"', read(os.path.join(ROOT, "runtime/dockpol/rt/fields.def")), re.M)
    # Derived facts live in facts.def; a CONTAINER_FACT row is container.X and resource.container.X.
    facts_def = read(os.path.join(ROOT, "runtime/dockpol/rt/facts.def"))
    fields += re.findall(r'^FACT\(\s*\w+,\s*"([^"]+)"', facts_def, re.M)
    for suffix in re.findall(r'^CONTAINER_FACT\(\s*\w+,\s*"([^"]+)"', facts_def, re.M):
        fields += ["container." + suffix, "resource.container." + suffix]
    actions = re.findall(r'^ACTION\(\s*(\w+)', read(os.path.join(ROOT, "runtime/dockpol/rt/actions.def")), re.M)
    return fields, actions


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dockpolc", help="path to a built dockpolc (bundles are skipped without it)")
    ap.add_argument("--bench", default=os.path.join(ROOT, "tests", "unit", "fixtures", "bodies", "container_create.json"))
    ap.add_argument("--capture", help="output dir of capture_cli_heads.py: copies heads/bodies as cli_* seeds")
    args = ap.parse_args()

    fields, actions = schema_names()
    pols = policies()
    counts = {}

    if args.capture:
        heads = {}
        for p in sorted(glob.glob(os.path.join(args.capture, "heads", "*.http"))):
            data = re.sub(rb"Host: 127\.0\.0\.1:\d+", b"Host: api.moby.localhost", read(p, "rb"))
            heads.setdefault(data.split(b"\r\n", 1)[0], data)
        d = os.path.join(FUZZ, "corpus", "http_route_fuzz")
        os.makedirs(d, exist_ok=True)
        for i, data in enumerate(heads.values()):
            with open(os.path.join(d, "cli_%03d.http" % i), "wb") as f:
                f.write(data)
        d = os.path.join(FUZZ, "corpus", "body_facts_fuzz")
        os.makedirs(d, exist_ok=True)
        for i, p in enumerate(sorted(glob.glob(os.path.join(args.capture, "bodies", "*.json")))):
            data = read(p, "rb")
            sel = b"\x02" if b'"DriverOpts"' in data else (b"\x81" if b'"AttachStdout"' in data and b'"HostConfig"' not in data else b"\x80")
            with open(os.path.join(d, "cli_%03d.json" % i), "wb") as f:
                f.write(sel + data)

    # parse / roundtrip / fmt: policy text as is.
    items = [(n, d) for n, d in pols]
    for t in ("parse_fuzz", "roundtrip_fuzz", "fmt_fuzz"):
        counts[t] = write_corpus(t, items)

    # differential: each example policy with its cases' requests, plus snippets with one request each.
    reqs = case_requests()
    items = []
    for name, data in pols:
        base = name[:-5] if name.endswith(".dpol") else name
        for i, r in enumerate(reqs.get(base, [])[:12]):
            items.append(("%s_%02d" % (base, i), data + b"\n%%\n" + request_lines(r).encode()))
    generic = [
        {"user": "bruce", "groups": ["dev", "admins"], "host": "prod-web-1", "host_labels": {"env": "prod"},
         "method": "POST", "path": "/v1.41/containers/create?name=web",
         "body": {"Image": "registry.example.com/app:1", "User": "0", "HostConfig": {"Privileged": True,
                  "Binds": ["/var/run:/r"], "Mounts": [{"Type": "bind", "Source": "/"}], "CapAdd": ["sys_admin"]}}},
        {"user": "eve", "groups": [], "host": "staging-2", "method": "POST", "path": "/v1.41/containers/web/exec",
         "body": {"User": "root", "Privileged": True, "Cmd": ["sh"]}},
        {"user": "ops", "groups": ["ops"], "host": "h", "method": "GET", "path": "/v1.41/containers/web/json",
         "resource": {"name": "web", "labels": {"owner": "ops"}}},
        {"user": "u", "groups": ["g"], "host": "h", "method": "POST", "path": "/v1.41/images/create?fromImage=alpine&tag=3"},
    ]
    for k, (name, data) in enumerate(pols):
        if name.startswith("snippet"):
            for i in (k % 4, (k + 1) % 4):
                items.append(("%s_r%d" % (name, i), data + b"\n%%\n" + request_lines(generic[i]).encode() + (b"all=1\n" if i == 1 else b"")))
    counts["differential_fuzz"] = write_corpus("differential_fuzz", items)

    with tempfile.TemporaryDirectory() as tmp:
        bundles = build_bundles(args.dockpolc, tmp)
    items = []
    for name, b, lay in bundles:
        digest, header = lay["digest"]["size"], lay["payload"]["offset"]
        items += [(name + "_raw", b"\x00" + b), (name + "_fix", b"\x03" + b)]
        items += [(name + "_trunc", b"\x03" + b[: len(b) // 2] + b[-digest:]), (name + "_hdr", b"\x00" + b[:header])]
    counts["bundle_load_fuzz"] = write_corpus("bundle_load_fuzz", items)

    items = []
    values = bytes(range(1, 200))
    for name, b, _lay in bundles:
        if len(b) > 0xFFFF:
            continue
        pre = struct.pack("<H", len(b)) + b
        items.append((name, pre + b"\x00" + values))
        items.append((name + "_edit", pre + b"\x02" + bytes([0, 3, 0, 9, 0, 0, 0, 5, 1, 0, 40, 0, 0, 0]) + values))
        items.append((name + "_swap", pre + b"\x01" + bytes([11, 1, 0, 2, 0, 0, 0]) + values[::-1]))
    counts["vm_fuzz"] = write_corpus("vm_fuzz", items)

    items = [("%s_%s" % (m, t.replace("/", "_")), ("%s %s HTTP/1.1\r\nHost: docker\r\n\r\n" % (m, t)).encode())
             for m, t in route_targets()[::12]]
    items = [("edge%02d" % i, h) for i, h in enumerate(EDGE_HEADS)] + items
    counts["http_route_fuzz"] = write_corpus("http_route_fuzz", items)

    items = []
    if os.path.exists(args.bench):
        bench = read(args.bench, "rb")
        items += [("bench", b"\x00" + bench), ("bench_raw", b"\x80" + bench)]
    for i, b in enumerate(CREATE_VARIANTS):
        items += [("create%02d" % i, bytes([0x80 if i % 2 else 0x00]) + b)]
    for i, b in enumerate(EXEC_BODIES):
        items += [("exec%02d" % i, bytes([0x01 | (0x80 if i % 2 else 0)]) + b)]
    for i, b in enumerate(VOLUME_BODIES):
        items += [("volume%02d" % i, bytes([0x02]) + b)]
    items += [("image", b"\x83" + CREATE_VARIANTS[2]), ("update", b"\x84" + b'{"Memory":1073741824}')]
    counts["body_facts_fuzz"] = write_corpus("body_facts_fuzz", items)

    counts["upstream_response_fuzz"] = write_corpus(
        "upstream_response_fuzz", [("resp%02d" % i, bytes([s]) + r) for i, (s, r) in enumerate(UPSTREAM)])

    # REQUEST.json documents: the CLI fixtures and every example case's request.
    items = [(os.path.basename(p)[: -len(".json")], read(p, "rb"))
             for p in sorted(glob.glob(os.path.join(ROOT, "tests/cli/fixtures/req_*.json")))
             if not p.endswith("req_deep_body.json")]   # kept as crash_deep_body
    for base, reqs in case_requests().items():
        items += [("%s_%02d" % (base, i), json.dumps(r).encode()) for i, r in enumerate(reqs)]
    counts["request_json_fuzz"] = write_corpus("request_json_fuzz", items)

    # ------------------------------------------------------------ dictionaries
    dpol = ["default", "allow", "deny", "let", "rule", "safe", "host paths", "volume drivers", "owner label", "own", "if", "and", "or", "not", "in", "matches", "covers",
            "any", "all", "true", "false", "==", "!=", "<=", ">=", "<", ">", ":", "{", "}", "(", ")", ",", "\"",
            "\\\"", "#", "\n    ", "*", "?", "[a-z]", "[!a]", "\\", "x.", "builtin_ping", "body.HostConfig.Mounts",
            "body.Labels.", "host.labels.", "query.", "resource.labels.", "/var/run/docker.sock", "prod*"]
    dpol += fields + actions
    with open(os.path.join(FUZZ, "parse_fuzz.dict"), "w") as f:
        f.write("# Policy language: keywords, operators, fields and action names (generated by tools/make_corpus.py).\n")
        f.write(dict_entries(dpol))
    for t in ("roundtrip_fuzz", "fmt_fuzz"):
        with open(os.path.join(FUZZ, t + ".dict"), "w") as f:
            f.write(read(os.path.join(FUZZ, "parse_fuzz.dict")))
    req_words = ["\n%%\n", "user=", "group=", "host=", "host.label=", "method=", "target=", "action=", "body=",
                 "resource.name=", "resource.label=", "all=1", "GET", "POST", "DELETE", "HEAD", "/v1.41", "/containers/",
                 "/create", "/exec", "/json", "?", "&", "=", '"HostConfig"', '"Privileged"', '"Image"', '"Binds"',
                 '"Mounts"', '"User"', '"Cmd"', "true", "null"]
    with open(os.path.join(FUZZ, "differential_fuzz.dict"), "w") as f:
        f.write("# Policy language plus the request lines of differential_fuzz (generated).\n")
        f.write(dict_entries(dpol + req_words))
    # The format's words come from a built bundle's layout; without dockpolc the dictionaries are kept.
    if bundles:
        header = {h["name"]: h for h in bundles[0][2]["header"]}
        bundle_words = [bytes(header["magic"]["bytes"]),
                        header["version"]["value"].to_bytes(header["version"]["size"], "little"),
                        b"\x00\x00\x00\x00", b"\xff\xff\xff\xff", b"builtin_ping",
                        b"system_ping", b"\x05\x00\x00\x00", b"\x00\x00\xf0\x7f\x00\x00\x00\x00"]
        bundle_words += [struct.pack("<I", sec["tag"]) for sec in bundles[0][2]["sections"]]
        for t in ("bundle_load_fuzz", "vm_fuzz"):
            with open(os.path.join(FUZZ, t + ".dict"), "w") as f:
                f.write("# Bundle format: magic, section tags, counts, names the verifier checks (generated).\n")
                f.write(dict_entries(bundle_words + [a.encode() for a in actions[:40]]))
    http_words = ["GET ", "POST ", "PUT ", "DELETE ", "HEAD ", "OPTIONS ", " HTTP/1.1\r\n", " HTTP/1.0\r\n", "\r\n",
                  "\r\n\r\n", "Host: ", "Content-Length: ", "Transfer-Encoding: chunked", "Expect: 100-continue",
                  "Connection: Upgrade", "Upgrade: tcp", "User-Agent: Docker-Client/28.2.2 (linux)", "/v1.41", "/v1.50",
                  "/v1.24", "/v1.23", "/_ping", "%2F", "%2E", "%25", "%00", "%20", "+", "/./", "/../", "//", "?", "&", "=",
                  ";", "#", "/containers/", "/images/", "/exec/", "/networks/", "/volumes/", "/json", "/start", "/attach",
                  "/create", "/archive", "{name:.*}"]
    with open(os.path.join(FUZZ, "http_route_fuzz.dict"), "w") as f:
        f.write("# HTTP request heads and Docker API paths (generated).\n")
        f.write(dict_entries(http_words))
    json_words = ['"HostConfig"', '"Privileged"', '"Binds"', '"Mounts"', '"Type"', '"bind"', '"volume"', '"Source"',
                  '"VolumeOptions"', '"DriverConfig"', '"Options"', '"o"', '"device"', '"PidMode"', '"NetworkMode"',
                  '"IpcMode"', '"UTSMode"', '"UsernsMode"', '"CgroupnsMode"', '"VolumesFrom"', '"CapAdd"', '"Devices"',
                  '"PathOnHost"', '"DeviceRequests"', '"SecurityOpt"', '"User"', '"Image"', '"Labels"', '"Cmd"', '"Driver"',
                  '"DriverOpts"', '"Env"', '"PortBindings"', '"80/tcp"', '"HostPort"', '"com.example.owner"',
                  '"com.example.team"', '"host"', '"container:x"', '"/var/run/docker.sock"', '"0000:5"', "true", "false",
                  "null", "{", "}", "[", "]", ":", ",", "\\u0000", "\\ud800", "\\udc00", "\\u017f", "\\u212a", "1e400",
                  "-0", "\xc5\xbf", "\xe2\x84\xaa"]
    with open(os.path.join(FUZZ, "body_facts_fuzz.dict"), "w") as f:
        f.write("# JSON tokens and the keys of container_create / container_exec / volume_create bodies (generated).\n")
        f.write(dict_entries([w.encode("latin-1") if w.startswith("\xc5") or w.startswith("\xe2") else w for w in json_words]))
    resp_words = ["HTTP/1.1 200 OK\r\n", "HTTP/1.1 101 UPGRADED\r\n", "HTTP/1.0 ", "\r\n", "\r\n\r\n",
                  "Content-Length: ", "Transfer-Encoding: chunked\r\n", "Connection: close\r\n", "Connection: Upgrade\r\n",
                  "0\r\n\r\n", ";ext=", "Trailer: ", '"Name"', '"Labels"', '"Config"', '"RepoTags"', '"Spec"', "{", "}"]
    with open(os.path.join(FUZZ, "upstream_response_fuzz.dict"), "w") as f:
        f.write("# HTTP response heads, chunked framing and inspect answer keys (generated).\n")
        f.write(dict_entries(resp_words))

    for t in targets_with_generated_seeds():
        print("%-24s %3d seeds" % (t, counts.get(t, 0)))


if __name__ == "__main__":
    main()
