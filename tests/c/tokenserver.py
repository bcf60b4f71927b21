#!/usr/bin/env python3
"""A loopback token endpoint for the C tests: what Keycloak will not do on demand, and a
request count Keycloak does not show.

    tokenserver.py STATE_DIR

Listens on 127.0.0.1 (a free port), writes STATE_DIR/port, and serves POST /<mode>/token:

    short           expires_in=2, 150 ms delay (a wide window for concurrent renewals)
    slow            expires_in=3600, 150 ms delay (concurrent renewals without expiries)
    long            expires_in=3600
    jwt             an unsigned JWT with a `tenant` claim, expires_in=3600
    big             a 5000-character token, expires_in=3600
    kcsize          a 1300-character token (a Keycloak JWT's size), expires_in=3600
    invalid_client  401 {"error":"invalid_client","error_description":"Invalid client or ..."}
    html500         500 with an HTML page

Every mode checks client_id=c1 / client_secret=s1 (form or Basic). After each request it writes
STATE_DIR/<mode>.stats as "requests=N max_concurrent=M". Tokens are "<mode>-<n>-<padding>"
with n counting that mode's requests from 1. Stops on SIGTERM.
"""

import base64
import json
import os
import signal
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATE = sys.argv[1]
LOCK = threading.Lock()
COUNTS = {}
ACTIVE = {}
MAX_ACTIVE = {}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, status, body, ctype="application/json"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        form = urllib.parse.parse_qs(self.rfile.read(length).decode())
        parts = self.path.strip("/").split("/")
        if len(parts) != 2 or parts[1] != "token":
            return self.send(404, '{"error":"not_found"}')
        mode = parts[0]
        client_id = form.get("client_id", [None])[0]
        secret = form.get("client_secret", [None])[0]
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
        with LOCK:
            n = COUNTS.get(mode, 0) + 1
            COUNTS[mode] = n
            ACTIVE[mode] = ACTIVE.get(mode, 0) + 1
            MAX_ACTIVE[mode] = max(MAX_ACTIVE.get(mode, 0), ACTIVE[mode])
        try:
            if mode in ("short", "slow"):
                time.sleep(0.15)
            if mode == "invalid_client" or (client_id, secret) != ("c1", "s1"):
                return self.send(
                    401,
                    '{"error":"invalid_client","error_description":'
                    '"Invalid client or Invalid client credentials"}',
                )
            if mode == "html500":
                return self.send(
                    500, "<html><body><h1>Internal Server Error</h1></body></html>", "text/html"
                )
            if mode == "jwt":
                now = int(time.time())
                claims = {"iat": now, "exp": now + 3600, "tenant": "t1", "sub": "svc"}
                token = ".".join(
                    [b64(b'{"alg":"none"}'), b64(json.dumps(claims).encode()), b64(b"sig")]
                )
                life = 3600
            else:
                token = f"{mode}-{n}-" + "x" * {"big": 5000, "kcsize": 1300}.get(mode, 40)
                life = 2 if mode == "short" else 3600
            body = {"access_token": token, "token_type": "Bearer", "expires_in": life}
            return self.send(200, json.dumps(body))
        finally:
            with LOCK:
                ACTIVE[mode] -= 1
                stats = f"requests={COUNTS[mode]} max_concurrent={MAX_ACTIVE[mode]}\n"
                tmp = os.path.join(STATE, f"{mode}.stats.tmp")
                with open(tmp, "w") as f:
                    f.write(stats)
                os.replace(tmp, os.path.join(STATE, f"{mode}.stats"))


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    with open(os.path.join(STATE, "port.tmp"), "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(os.path.join(STATE, "port.tmp"), os.path.join(STATE, "port"))
    server.serve_forever()


if __name__ == "__main__":
    main()
