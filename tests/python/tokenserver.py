"""A loopback token endpoint that counts requests, for offline tests and the benchmarks.

    POST /token                      client credentials (client_id c1 / secret s1, form or Basic)
                                     -> a signed-looking JWT, expires_in = server.expires_in
    GET  /.well-known/openid-configuration, /v2.0/.well-known/openid-configuration
                                     a discovery document (issuer = server.url), for
                                     from_issuer and for msal's authority
                                     (/wrong-issuer/... names another issuer)
    GET  .../keys                    an empty JWKS
    POST /hang/token                 never answers (until the server closes)
    POST /html/token                 500 with an HTML page
    POST /garbage/token              200 with a body that is not JSON

`count` is the number of POST /token requests; `delay` seconds are slept before answering.

As a program (the benchmarks run it in its own process, so that it does not compete with the
measured code for the GIL):

    tokenserver.py [--expires-in N] [--cert PEM --key PEM]

prints its base URL on the first line of stdout and serves until stdin closes;
`POST /_reset` answers {"count": N} and sets the count back to zero.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenServer:
    def __init__(self, expires_in: int = 3600, delay: float = 0.0) -> None:
        self.expires_in = expires_in
        self.delay = delay
        self.lock = threading.Lock()
        self.count = 0
        self.hang = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # no 40 ms stall between headers and body

            def log_message(self, *args):
                pass

            def _send(self, status: int, body: str, ctype: str = "application/json") -> None:
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                path = urllib.parse.urlsplit(self.path).path
                if path.endswith("/.well-known/openid-configuration"):
                    base = outer.url + path[: -len("/.well-known/openid-configuration")]
                    if base.endswith("/wrong-issuer"):
                        base = outer.url + "/someone-else"
                    self._send(200, json.dumps(outer.discovery(base)))
                elif path.endswith("/keys"):
                    self._send(200, '{"keys": []}')
                else:
                    self._send(404, '{"error": "not_found"}')

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                form = urllib.parse.parse_qs(self.rfile.read(n).decode())
                path = urllib.parse.urlsplit(self.path).path
                if path == "/_reset":
                    self._send(200, json.dumps({"count": outer.reset()}))
                    return
                if path.startswith("/hang/"):
                    outer.hang.wait(60)
                    return
                if path.startswith("/html/"):
                    self._send(500, "<html><body>Internal error</body></html>", "text/html")
                    return
                if path.startswith("/garbage/"):
                    self._send(200, "this is not json")
                    return
                cid, secret = form.get("client_id", [None])[0], form.get("client_secret", [None])[0]
                auth = self.headers.get("Authorization", "")
                if auth.startswith("Basic "):
                    cid, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
                    cid, secret = urllib.parse.unquote_plus(cid), urllib.parse.unquote_plus(secret)
                if (cid, secret) != ("c1", "s1"):
                    self._send(401, json.dumps({"error": "invalid_client", "error_description": "Invalid client or Invalid client credentials"}))
                    return
                with outer.lock:
                    outer.count += 1
                    k = outer.count
                if outer.delay:
                    time.sleep(outer.delay)
                body = outer.token_response(k)
                if form.get("scope"):
                    body["scope"] = form["scope"][0]  # granted as asked (msal caches by it)
                self._send(200, json.dumps(body))

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.token_url = self.url + "/token"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def token_response(self, k: int) -> dict:
        now = int(time.time())
        header = _b64(json.dumps({"alg": "RS256", "typ": "JWT", "kid": "k1"}).encode())
        claims = {
            "exp": now + self.expires_in,
            "iat": now,
            "iss": self.url,
            "azp": "c1",
            "sub": "service-account-c1",
            "jti": f"token-{k}",
            "realm_access": {"roles": ["user"]},
            "scope": "profile email",
            "pad": "x" * 700,  # about the size of a Keycloak access token
        }
        payload = _b64(json.dumps(claims).encode())
        return {
            "access_token": f"{header}.{payload}.{_b64(b'sig' * 86)}",
            "expires_in": self.expires_in,
            "refresh_expires_in": 0,
            "token_type": "Bearer",
            "not-before-policy": 0,
            "scope": "profile email",
        }

    def discovery(self, issuer: str) -> dict:
        return {
            "issuer": issuer,
            "authorization_endpoint": issuer + "/auth",
            "token_endpoint": self.token_url,
            "jwks_uri": issuer + "/keys",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "grant_types_supported": ["client_credentials", "authorization_code", "refresh_token"],
        }

    def reset(self) -> int:
        with self.lock:
            n, self.count = self.count, 0
        return n

    def close(self) -> None:
        self.hang.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def main() -> None:
    import argparse
    import ssl
    import sys

    ap = argparse.ArgumentParser()
    ap.add_argument("--expires-in", type=int, default=3600)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    args = ap.parse_args()
    server = TokenServer(expires_in=args.expires_in)
    if args.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
        server.httpd.socket = ctx.wrap_socket(server.httpd.socket, server_side=True)
        server.url = server.url.replace("http://", "https://")
        server.token_url = server.url + "/token"
    print(server.url, flush=True)
    sys.stdin.read()  # until the parent closes the pipe
    server.close()


if __name__ == "__main__":
    main()
