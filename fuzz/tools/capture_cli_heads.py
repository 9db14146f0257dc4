#!/usr/bin/env python3
"""Captures the HTTP request heads (and JSON bodies) the real docker CLI sends.

Runs a fake dockerd on 127.0.0.1 that answers every request with a canned,
API-1.41-shaped reply, points DOCKER_HOST at it, runs a list of everyday
docker commands, and writes each request head to OUT/heads/NNN.http and each
JSON body to OUT/bodies/NNN.json. Used once to seed http_route_fuzz and
body_facts_fuzz (the files are committed; re-run when the CLI changes):

    fuzz/tools/capture_cli_heads.py /tmp/cli-capture
"""
import json
import os
import socket
import subprocess
import sys
import threading

COMMANDS = [
    "version", "info", "ps", "ps -a --filter label=team=web", "images", "inspect web",
    "logs --tail 5 web", "top web", "stats --no-stream web", "port web", "diff web",
    "create --name web --privileged -v /:/host -v data:/data --cap-add sys_admin "
    "--pid host --device /dev/fuse -u 0:0 --label team=web --security-opt seccomp=unconfined "
    "--mount type=bind,source=/var/run/docker.sock,target=/s registry.example.com/team/app:1 sh",
    "create --network container:db --ipc host -e A=b alpine",
    "exec -u root --privileged web ls /", "start web", "stop web", "restart web", "kill web",
    "rm -f web", "rename web web2", "pause web", "unpause web", "wait web",
    "pull alpine:3.19", "push registry.example.com/team/app:1", "tag alpine a:b", "rmi alpine",
    "image prune -f", "image history alpine", "search alpine", "save -o /dev/null alpine",
    "volume create --driver local --opt type=none --opt o=bind --opt device=/ v1",
    "volume ls", "volume inspect v1", "volume rm v1", "volume prune -f",
    "network ls", "network create n1", "network inspect n1", "network connect n1 web", "network rm n1",
    "system df", "container prune -f", "update --memory 1g web", "commit web img:1",
    "cp web:/etc/hostname /tmp/x", "export web", "events --since 1s --until 2s",
    "login -u u -p p registry.example.com", "swarm init", "service ls", "secret ls",
    "config ls", "node ls", "plugin ls", "builder prune -f", "context ls",
]

PING_HEADERS = b"Api-Version: 1.41\r\nDocker-Experimental: false\r\nOstype: linux\r\nServer: Docker/20.10.24 (linux)\r\n"


def reply(method, path):
    if path.endswith("/_ping"):
        return b"200 OK", PING_HEADERS, b"" if method == "HEAD" else b"OK"
    if path.split("?")[0].endswith("/json") and "/containers/json" not in path and "/images/json" not in path:
        return b"404 Not Found", b"", b'{"message":"No such object"}'
    if "/containers/json" in path or "/images/json" in path or "/networks" in path.split("?")[0][-9:]:
        return b"200 OK", b"", b"[]"
    if "/containers/create" in path:
        return b"201 Created", b"", b'{"Id":"0123456789ab","Warnings":[]}'
    if "/exec" in path:
        return b"201 Created", b"", b'{"Id":"e0123456789a"}'
    if "/version" in path:
        return b"200 OK", PING_HEADERS, json.dumps({"ApiVersion": "1.41", "Version": "20.10.24", "MinAPIVersion": "1.12", "Os": "linux", "Arch": "amd64"}).encode()
    return b"404 Not Found", b"", b'{"message":"page not found"}'


def serve(sock, out, counter, lock):
    while True:
        try:
            conn, _ = sock.accept()
        except OSError:
            return
        threading.Thread(target=handle, args=(conn, out, counter, lock), daemon=True).start()


def handle(conn, out, counter, lock):
    buf = b""
    conn.settimeout(3)
    try:
        while True:
            while b"\r\n\r\n" not in buf:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                buf += chunk
            end = buf.index(b"\r\n\r\n") + 4
            head, buf = buf[:end], buf[end:]
            lines = head.decode("latin-1").split("\r\n")
            method, target = lines[0].split(" ")[:2]
            hdrs = {l.split(":", 1)[0].lower(): l.split(":", 1)[1].strip() for l in lines[1:] if ":" in l}
            body = b""
            if "content-length" in hdrs:
                n = int(hdrs["content-length"])
                while len(buf) < n:
                    buf += conn.recv(65536)
                body, buf = buf[:n], buf[n:]
            elif hdrs.get("transfer-encoding", "").lower() == "chunked":
                while not buf.endswith(b"0\r\n\r\n"):
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    buf += chunk
                raw, buf = buf, b""
                while raw:
                    size_line, raw = raw.split(b"\r\n", 1)
                    size = int(size_line.split(b";")[0], 16)
                    if size == 0:
                        break
                    body += raw[:size]
                    raw = raw[size + 2:]
            with lock:
                counter[0] += 1
                n = counter[0]
            with open(os.path.join(out, "heads", "%03d.http" % n), "wb") as f:
                f.write(head)
            if body[:1] in (b"{", b"["):
                with open(os.path.join(out, "bodies", "%03d.json" % n), "wb") as f:
                    f.write(body)
            status, extra, payload = reply(method, target)
            conn.sendall(b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\n" + extra +
                         b"Content-Length: " + str(len(payload)).encode() + b"\r\n\r\n" + payload)
    except (OSError, ValueError):
        pass
    finally:
        conn.close()


def main():
    out = sys.argv[1]
    os.makedirs(os.path.join(out, "heads"), exist_ok=True)
    os.makedirs(os.path.join(out, "bodies"), exist_ok=True)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    port = sock.getsockname()[1]
    counter, lock = [0], threading.Lock()
    threading.Thread(target=serve, args=(sock, out, counter, lock), daemon=True).start()
    env = dict(os.environ, DOCKER_HOST="tcp://127.0.0.1:%d" % port, DOCKER_CONFIG=os.path.join(out, "cfg"))
    for cmd in COMMANDS:
        try:
            subprocess.run(["docker"] + cmd.split(), env=env, stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=6)
        except subprocess.TimeoutExpired:
            pass
    sock.close()
    print("captured %d requests" % counter[0])


if __name__ == "__main__":
    main()
