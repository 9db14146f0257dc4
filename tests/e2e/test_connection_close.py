#!/usr/bin/env python3
"""Connection close: a client that asks to close gets its answer, then close_notify and EOF.

Usage: test_connection_close.py DOCKPOLD DOCKPOLC
A denial (403, answered by dockpold itself) and a forwarded answer (200 from
dockerd) to a request with `Connection: close`, or HTTP/1.0 without
keep-alive, are followed by close_notify and EOF within CLOSE_WITHIN seconds.
The control: the same denial on a keep-alive connection leaves it open, and a
second request on it is answered.
"""

import os
import socket
import ssl
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import e2e  # noqa: E402

# A server that honours `Connection: close` closes at once; the old bug left it to the client's timeout.
CLOSE_WITHIN = 2.0
# Reading the answer itself; dockpold answers a denial in milliseconds.
ANSWER_TIMEOUT = 10.0
# How long the keep-alive control watches for a close that must not come.
STAYS_OPEN = 1.5

DENIAL = (b'{"message":"[dockpol] The command \'network_create\' denied for user \'bob\' '
          b'by rule \'default\'"}\n')


def connect(p, user):
    ctx = p.tls_context(p.certs.users[user])
    raw = socket.create_connection(("127.0.0.1", p.port), timeout=ANSWER_TIMEOUT)
    return ctx.wrap_socket(raw, server_hostname="localhost")


def read_answer(s, buf=b""):
    """One response framed by Content-Length: (status, headers text, body, bytes after it)."""
    deadline = time.monotonic() + ANSWER_TIMEOUT
    while b"\r\n\r\n" not in buf:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = s.recv(65536)
        if not chunk:
            raise e2e.Fatal(f"connection ended before a response head: {buf!r}")
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = 0
    for ln in lines[1:]:
        name, _, value = ln.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    while len(rest) < length:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = s.recv(65536)
        if not chunk:
            raise e2e.Fatal(f"connection ended inside the body: {rest!r}")
        rest += chunk
    return status, "\n".join(lines[1:]), rest[:length], rest[length:]


def wait_close(s, within):
    """'close_notify' (clean EOF), 'eof without close_notify', 'open' (nothing within `within`), or 'data'."""
    s.settimeout(within)
    try:
        chunk = s.recv(65536)
    except (socket.timeout, TimeoutError):
        return "open"
    except ssl.SSLEOFError:
        return "eof without close_notify"
    except ConnectionResetError:
        return "reset"
    return "close_notify" if chunk == b"" else "data"


def exchange(p, user, request):
    """Sends one request; returns (status, body, what followed the answer, seconds until then)."""
    with connect(p, user) as s:
        s.sendall(request)
        status, _, body, extra = read_answer(s)
        start = time.monotonic()
        after = "data" if extra else wait_close(s, CLOSE_WITHIN)
        return status, body, after, time.monotonic() - start


def body(ws, checks, argv):
    dockpold, dockpolc = e2e.programs(argv, "test_connection_close.py DOCKPOLD DOCKPOLC")
    c = checks

    d = e2e.Dockerd(ws).start()
    certs = e2e.standard_pki(ws)
    bundle = e2e.compile_policy(dockpolc, [e2e.example_policy("demo")], ws.path("demo.dpb"))
    p = e2e.Dockpold(ws, dockpold, bundle, certs, d).start(ready_user="alice")

    # bob (dev) may not create networks: a body-less request, so nothing unread forces the close.
    cases = [
        ("denied, HTTP/1.1 Connection: close", "bob",
         b"POST /v1.41/networks/create HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", 403),
        ("denied, HTTP/1.0 without keep-alive", "bob",
         b"POST /v1.41/networks/create HTTP/1.0\r\nHost: localhost\r\n\r\n", 403),
        ("forwarded, HTTP/1.1 Connection: close", "bob",
         b"GET /_ping HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", 200),
        ("forwarded, HTTP/1.0 without keep-alive", "bob",
         b"GET /_ping HTTP/1.0\r\nHost: localhost\r\n\r\n", 200),
    ]
    for label, user, request, want in cases:
        status, got, after, secs = exchange(p, user, request)
        c.eq(f"{label}: status", want, status)
        if want == 403:
            c.eq(f"{label}: denial body", DENIAL, got)
        c.eq(f"{label}: close_notify and EOF within {CLOSE_WITHIN}s", "close_notify", after,
             f"after {secs:.2f}s")

    # Control: without a close request the connection stays usable after a denial.
    with connect(p, "bob") as s:
        denied = b"POST /v1.41/networks/create HTTP/1.1\r\nHost: localhost\r\n\r\n"
        s.sendall(denied)
        status, _, got, extra = read_answer(s)
        c.eq("keep-alive control: status", 403, status)
        c.eq("keep-alive control: denial body", DENIAL, got)
        c.eq("keep-alive control: connection stays open", "open",
             "data" if extra else wait_close(s, STAYS_OPEN))
        s.sendall(b"GET /_ping HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        status, _, got, extra = read_answer(s)
        c.eq("keep-alive control: second request answered", (200, b"OK"), (status, got))
        c.eq("keep-alive control: closed after the second, which asked", "close_notify",
             "data" if extra else wait_close(s, CLOSE_WITHIN))
    p.stop()


if __name__ == "__main__":
    e2e.main("connection_close", body, deadline=240)
