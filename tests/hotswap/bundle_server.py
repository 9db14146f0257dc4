#!/usr/bin/env python3
"""A static file server for bundle-distribution tests: HTTP or HTTPS (--cert/--key),
strong ETags (SHA-256 of the file), 304 for a matching If-None-Match, and a log
of "GET <status> <path> <if-none-match>" lines the test reads."""

import argparse
import hashlib
import http.server
import os
import ssl
import threading


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    a = ap.parse_args()
    lock = threading.Lock()
    log = open(a.log, "a", buffering=1)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def note(self, status):
            with lock:
                log.write(f"GET {status} {self.path} {self.headers.get('If-None-Match', '-')}\n")

        def do_GET(self):
            path = os.path.join(a.root, os.path.basename(self.path.split("?")[0]))
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except OSError:
                self.note(404)
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
            if self.headers.get("If-None-Match") == etag:
                self.note(304)
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            self.note(200)
            self.send_response(200)
            self.send_header("ETag", etag)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    if a.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.cert, a.key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    log.write(f"listening on {a.port}\n")
    srv.serve_forever()


if __name__ == "__main__":
    main()
