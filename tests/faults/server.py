#!/usr/bin/env python3
"""The one scripted loopback token endpoint of the tests: the faults a real Keycloak will not
produce on demand, and the counting, slow, oversized or odd token endpoints the suites need,
shared by the Rust, C, Python, CLI and browser suites (the fault matrix's columns among them).

    server.py --state DIR [--lifetime SECONDS] [--tls CERT KEY] [--stdin]

Listens on 127.0.0.1 only (a free port), prints its base URL (`http://127.0.0.1:PORT`, or
`https://` with --tls) on the first line of stdout and writes it to DIR/url (atomically). Serves
until SIGTERM or SIGINT (callers stop it by the PID they started), or with --stdin also until
its stdin closes (a parent that dies takes the server with it). Python 3 standard library only.

--tls CERT KEY serves every route below over TLS 1.2+ with that chain and key (e.g. server.pem
and server.key of tests/tls/gen-certs). Handshakes a client refuses are dropped silently.

Routes (any method; the request is read whole first, except where a fault says otherwise).
Answers close the connection unless a route says "keep-alive" (then HTTP/1.1 keep-alive holds
unless the client asked to close):

    /fault/<fault>/token             the fault, on every request
    /renew/<fault>/<session>/token   the session's first request gets a valid token
                                     {"access_token": "tw-fault-first-<session>", "token_type":
                                     "Bearer", "expires_in": LIFETIME} (default 8 s); every later
                                     one gets the fault
    /renew-rt/<fault>/<session>/token  the same, but the first token also carries
                                     "refresh_token": "tw-fault-rt-<session>", for clients that
                                     renew only with a refresh token (the browser's)
    /seq/<session>/<step>,<step>,.../token  the session's Nth request gets step N (the last step
                                     repeats): `token` is a valid token "tw-seq-<session>-<N>"
                                     (expires_in LIFETIME), anything else a <fault> or <extra>
    /ok/token                        a valid token, every time (a smoke test of the server)
    /vector/<case>/token             the answer of case <case> of tests/vectors/token_responses.json:
                                     its status, content type and body, byte for byte
    /vector-jwt/<case>/token         a token answer whose access token is the JWT of case <case>
                                     of tests/vectors/jwt_claims.json (expires_in 300)
    /mode/<mode>/token               a client-credentials endpoint (below), keep-alive, counted
    /mode/<mode>/<counter>/token       under <counter> (default: the mode's name)
    <base>/.well-known/openid-configuration  (GET, keep-alive) a discovery document: issuer
                                     URL<base>, token_endpoint URL<base>/token, jwks_uri
                                     URL<base>/keys; a <base> ending in /wrong-issuer names the
                                     issuer URL<base minus /wrong-issuer>/someone-else instead.
                                     With <base> = /mode/<mode>/<counter> the token endpoint is
                                     that route.
    <base>/keys                      (GET, keep-alive) an empty JWKS {"keys": []}
    /stats/<counter>                 (keep-alive) {"requests": N, "max_concurrent": M} of a
                                     counter (zeros if unknown)
    /reset/<counter>                 (keep-alive) the same, then sets the counter back to zero
    /jwks/<set>/keys                 (keep-alive) a scripted provider's key set: PUT stores the
                                     request's body and Content-Type; GET serves them, counted
                                     (a text/plain 404 while nothing is stored). Three sets need
                                     no PUT: `huge` (a 5.2 MiB JWKS of padded P-256 keys), `many`
                                     (10,000 P-256 keys, 1.8 MB) and `many-bare` (10,000
                                     {"kty":"EC"} stubs, 130 KB: under every byte cap, only a
                                     key count stops it)
    /jwks/<set>/token                (keep-alive) its token endpoint: PUT stores a token answer
                                     (the body, served as application/json); POST answers it
                                     (400 invalid_grant while nothing is stored)
    /jwks/<set>/stats                (keep-alive) {"gets": N}: the GETs of /jwks/<set>/keys so far
                                     (its discovery document is <base>/.well-known/... above, with
                                     <base> = /jwks/<set>: issuer URL/jwks/<set>)
    /device/<script>/<session>/auth/device  (POST) a device authorization answer: device_code
                                     "tw-dc-<session>", user_code "WDJB-MJHT", verification_uri
                                     URL/device/verify, expires_in 30 (4 when the script starts
                                     with `short`), interval 1
    /device/<script>/<session>/token  (POST) the session's Nth poll gets step N of <script> (a
                                     comma list; the last repeats; `short` steps are skipped):
                                     `pending` (authorization_pending), `slow_down`,
                                     `access_denied`, `expired_token` (400 each), `token` (a valid
                                     token "tw-device-<session>" with refresh token
                                     "tw-device-rt-<session>"). A poll sooner than the interval
                                     the server last asked for (1 s, +5 s per slow_down sent) is
                                     answered 400 invalid_request "polled too fast" instead,
                                     unless the script holds `lax` (for clients that record the
                                     waits instead of sleeping them).
                                     A device_code other than the session's: 400 invalid_grant.
    /device/html/<session>/auth/device  200 text/html: a login page where JSON belongs
    /exchange/refused/token          400 {"error": "invalid_request", "error_description":
                                     "Requested audience not available: other-client"}
    /exchange/ok/<session>/token     (POST) a token exchange (grant_type and subject_token checked,
                                     else 400 invalid_request) answered with the session's Nth
                                     token "tw-exchange-<session>-<N>" (expires_in LIFETIME)
    /assertion/rejected/token        401 invalid_client "Client authentication with signed JWT
                                     failed: Signature on JWT token failed validation" when the
                                     form carries a JWT client_assertion of the jwt-bearer type;
                                     400 invalid_request "Missing client assertion" otherwise
    anything else                    404 {"error": "not_found"}

<fault> is an id of tests/faults/faults.tsv (which also says what error each must give):

    http-500              500 Internal Server Error, a text body
    http-503-retry-after  503 with Retry-After: 7
    http-429              429 with Retry-After: 2
    html-error-page       502 text/html, nginx's page
    truncated-json        200 application/json, {"access_token":"tw-fault-trunc","expi
    body-10mb             200 application/json, a 10 MiB token response (Content-Length given)
    never-answers         reads the request, then says nothing until the client hangs up
    connection-reset      reads the request, then resets the connection (RST, SO_LINGER 0)
    no-access-token       200 {"token_type":"Bearer","expires_in":300}

<extra> faults, served the same way but not rows of the matrix:

    html-500              500 text/html, <html><body><h1>Internal Server Error</h1></body></html>
    not-json              200 application/json, the body `this is not json`
    closed-mid-body       200 with Content-Length: 500, then 21 bytes of JSON and the close
    redirect-302          302 Found to https://elsewhere.example/token

<mode>s of /mode/: each checks client_id c1 / client_secret s1 (form or Basic) and answers
401 {"error": "invalid_client", "error_description": "Invalid client or Invalid client
credentials"} otherwise (except `fixed`). Opaque tokens are "<mode>-<n>-" + padding (40 x
unless said), n counting the counter's requests from 1:

    short           opaque, expires_in 2, answered after 150 ms (a wide window for renewals)
    slow            opaque, expires_in 3600, answered after 150 ms
    long            opaque, expires_in 3600
    big             opaque, 5000 characters of padding
    kcsize          opaque, 1300 characters of padding (a Keycloak JWT's size)
    jwt             an unsigned JWT (alg none) with "tenant": "t1", expires_in 3600
    kc              a Keycloak-shaped access token: an RS256-looking JWT (iss the base URL, azp
                    c1, realm role user, jti token-<n>, ~1 KB) with expires_in 3600,
                    refresh_expires_in 0, not-before-policy 0, and the asked scope (else
                    "profile email")
    kc-2s           the same, expires_in 2
    kc-huge         the same, the access token 20,000 characters longer
    fixed           any client: {"access_token": "tls-test-access-token", "expires_in": 300, ...}
    invalid_client  always the 401
    html500         after the check, html-500's answer

Counting. For /renew/ and /seq/ the server keeps DIR/<session>.stats, replaced atomically after
each request: `requests=N done=M`, N counting the session's requests and M the fault
connections that have ended (the answer written, the reset sent, or the client gone).
`done>=1` therefore means "a renewal met the fault and is over", which is when a test checks
that the cache still hands out the first token. For /mode/ it keeps DIR/<counter>.stats, written
after each answer has left: `requests=N max_concurrent=M` (the most requests of the counter in
flight at once); the count itself is taken before the answer, so /stats/ never lags a token the
client holds. Sessions and counters are [A-Za-z0-9_.-]{1,80} and share one namespace.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http
import json
import os
import re
import select
import signal
import socket
import socketserver
import ssl
import struct
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
FAULT_LIST = os.path.join(HERE, "faults.tsv")
SESSION = re.compile(r"^[A-Za-z0-9_.-]{1,80}$")
NEVER_ANSWERS_MAX = 120.0  # seconds a silent connection is held at most
DISCOVERY = "/.well-known/openid-configuration"


def load_faults(path: str = FAULT_LIST) -> Dict[str, Tuple[str, str]]:
    """tests/faults/faults.tsv as {fault: (expected code, label)}, in file order."""
    out: Dict[str, Tuple[str, str]] = {}
    with open(path, encoding="utf-8") as f:
        rows = [l.rstrip("\n") for l in f if l.strip() and not l.startswith("#")]
    if not rows or rows[0].split("\t") != ["fault", "expect", "label"]:
        raise SystemExit(f"{path}: the first row must be the header fault<TAB>expect<TAB>label")
    for row in rows[1:]:
        parts = row.split("\t")
        if len(parts) != 3:
            raise SystemExit(f"{path}: not three tab-separated fields: {row!r}")
        out[parts[0]] = (parts[1], parts[2])
    return out


def response(status: str, body: bytes, ctype: str = "text/plain", headers: Tuple[Tuple[str, str], ...] = (),
             close: bool = True) -> bytes:
    head = [f"HTTP/1.1 {status}", f"Content-Type: {ctype}", f"Content-Length: {len(body)}",
            "Cache-Control: no-store", "Connection: close" if close else "Connection: keep-alive"]
    head += [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def token_body(token: str, lifetime: int, refresh_token: Optional[str] = None) -> bytes:
    body = {"access_token": token, "token_type": "Bearer", "expires_in": lifetime}
    if refresh_token:
        body["refresh_token"] = refresh_token
    return json.dumps(body).encode()


NGINX_502 = (b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
             b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
             b"</body>\r\n</html>\r\n")


def ten_mib_token() -> bytes:
    head, tail = b'{"access_token":"', b'","token_type":"Bearer","expires_in":300}'
    return head + b"x" * (10 * 1024 * 1024 - len(head) - len(tail)) + tail


def closed_mid_body() -> bytes:
    return (b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\nContent-Type: application/json\r\n"
            b"Connection: close\r\n\r\n" + b'{"access_token":"abc"')


# What each fault of the matrix writes; None for the two that do something other than answer.
ANSWERS: Dict[str, Optional[Callable[[], bytes]]] = {
    "http-500": lambda: response("500 Internal Server Error", b"Internal Server Error\n"),
    "http-503-retry-after": lambda: response("503 Service Unavailable", b"Service Unavailable\n",
                                             headers=(("Retry-After", "7"),)),
    "http-429": lambda: response("429 Too Many Requests", b"slow down\n", headers=(("Retry-After", "2"),)),
    "html-error-page": lambda: response("502 Bad Gateway", NGINX_502, "text/html"),
    "truncated-json": lambda: response("200 OK", b'{"access_token":"tw-fault-trunc","expi', "application/json"),
    "body-10mb": lambda: response("200 OK", ten_mib_token(), "application/json"),
    "never-answers": None,
    "connection-reset": None,
    "no-access-token": lambda: response("200 OK", b'{"token_type":"Bearer","expires_in":300}', "application/json"),
}

# Faults the suites use beyond the matrix's rows.
EXTRA: Dict[str, Callable[[], bytes]] = {
    "html-500": lambda: response("500 Internal Server Error",
                                 b"<html><body><h1>Internal Server Error</h1></body></html>", "text/html"),
    "not-json": lambda: response("200 OK", b"this is not json", "application/json"),
    "closed-mid-body": closed_mid_body,
    "redirect-302": lambda: response("302 Found", b"", headers=(("Location", "https://elsewhere.example/token"),)),
}
ALL_FAULTS = set(ANSWERS) | set(EXTRA)

VECTORS = os.path.join(HERE, "..", "vectors")


def vector_answers() -> Dict[str, Dict[str, bytes]]:
    """The shared vectors the /vector/ and /vector-jwt/ routes serve, by case name."""
    def cases(name: str, key: str = "cases") -> List[dict]:
        with open(os.path.join(VECTORS, name), encoding="utf-8") as f:
            return json.load(f)[key]

    tokens = {}
    for c in cases("token_responses.json"):
        status = f"{c['status']} {http.HTTPStatus(c['status']).phrase}"
        tokens[c["name"]] = response(status, c["body"].encode("utf-8"), c.get("content_type", "application/json"))
    jwts = {}
    for c in cases("jwt_claims.json"):
        body = json.dumps({"access_token": c["jwt"], "token_type": "Bearer", "expires_in": 300}).encode()
        jwts[c["name"]] = response("200 OK", body, "application/json")
    return {"vector": tokens, "vector-jwt": jwts}


def jwks_generated(name: str) -> Optional[bytes]:
    """The hostile key sets /jwks/ serves without a PUT (see the docstring), or None."""
    def coord(tag: str, i: int) -> str:
        return b64(hashlib.sha256(f"{tag}{i}".encode()).digest())

    def key(i: int, **extra: object) -> dict:
        return {"kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": f"{name}-{i}",
                "x": coord("x", i), "y": coord("y", i), **extra}

    if name == "huge":  # 5 MiB: 1,280 keys of ~4 KiB (a certificate chain's worth of padding)
        keys = [key(i, x5c=[b64(hashlib.sha256(b"c%d" % i).digest() * 96)]) for i in range(1280)]
        return json.dumps({"keys": keys}).encode()
    if name == "many":
        return json.dumps({"keys": [key(i) for i in range(10_000)]}).encode()
    if name == "many-bare":
        return json.dumps({"keys": [{"kty": "EC"}] * 10_000}, separators=(",", ":")).encode()
    return None


@dataclass(frozen=True)
class Mode:
    kind: str  # opaque | jwt | kc | fixed | invalid_client | html500
    lifetime: int = 3600
    delay: float = 0.0
    pad: int = 40
    check: bool = True


MODES: Dict[str, Mode] = {
    "short": Mode("opaque", 2, 0.15),
    "slow": Mode("opaque", 3600, 0.15),
    "long": Mode("opaque"),
    "big": Mode("opaque", pad=5000),
    "kcsize": Mode("opaque", pad=1300),
    "jwt": Mode("jwt"),
    "kc": Mode("kc", pad=0),
    "kc-2s": Mode("kc", 2, pad=0),
    "kc-huge": Mode("kc", pad=20000),
    "fixed": Mode("fixed", 300, check=False),
    "invalid_client": Mode("invalid_client"),
    "html500": Mode("html500"),
}

INVALID_CLIENT = json.dumps({"error": "invalid_client",
                             "error_description": "Invalid client or Invalid client credentials"}).encode()


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class Request:
    method: str
    path: str
    headers: Dict[str, str]
    body: bytes
    version: str

    def keep_alive(self) -> bool:
        conn = self.headers.get("connection", "").lower()
        return self.version == "HTTP/1.1" and conn != "close" or conn == "keep-alive"

    def form(self) -> Dict[str, str]:
        parsed = urllib.parse.parse_qs(self.body.decode("utf-8", "replace"))
        return {k: v[0] for k, v in parsed.items()}

    def credentials(self) -> Tuple[Optional[str], Optional[str]]:
        form = self.form()
        cid, secret = form.get("client_id"), form.get("client_secret")
        auth = self.headers.get("authorization", "")
        if auth.startswith("Basic "):
            try:
                cid, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
            except ValueError:
                return None, None
            cid, secret = urllib.parse.unquote_plus(cid), urllib.parse.unquote_plus(secret)
        return cid, secret


class Reader:
    """Reads requests one after another from a connection (keep-alive keeps the leftovers)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = b""

    def next(self) -> Optional[Request]:
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                return None
            self.buf += chunk
            if len(self.buf) > 1 << 20:
                return None
        head, _, rest = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) < 2:
            return None
        headers: Dict[str, str] = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        length = int(headers.get("content-length", "0") or "0")
        while len(rest) < length:
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            rest += chunk
        body, self.buf = rest[:length], rest[length:]
        version = parts[2] if len(parts) > 2 else "HTTP/1.0"
        return Request(parts[0], parts[1].split("?", 1)[0], headers, body, version)


def wait_for_hangup(sock: socket.socket, limit: float) -> None:
    """Says nothing until the client closes its end (or `limit` seconds pass)."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        r, _, _ = select.select([sock], [], [], 0.02)
        if r:
            try:
                if not sock.recv(65536):
                    return
            except OSError:
                return


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # the default 5 drops SYNs when a suite connects nine clients at once

    def __init__(self, state: str, lifetime: int, tls: Optional[ssl.SSLContext] = None) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        if tls is not None:
            # The handshake happens in the handler thread on the first read, so a client that
            # hangs up mid-handshake cannot block the accept loop.
            self.socket = tls.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)
        scheme = "https" if tls is not None else "http"
        self.url = f"{scheme}://127.0.0.1:{self.server_address[1]}"
        self.state = state
        self.lifetime = lifetime
        self.lock = threading.Lock()
        self.sessions: Dict[str, Dict[str, int]] = {}
        self.counters: Dict[str, Dict[str, int]] = {}
        self.vectors = vector_answers()
        # /jwks/<set>/: stored key sets {set: (body, content type)}, token answers, GET counts
        self.jwks_sets: Dict[str, Tuple[bytes, str]] = {}
        self.jwks_answers: Dict[str, bytes] = {}
        self.jwks_gets: Dict[str, int] = {}

    def handle_error(self, request, client_address) -> None:
        pass  # refused handshakes and resets are what the negative tests cause

    def write_stats(self, name: str, line: str) -> None:
        """DIR/<name>.stats, replaced atomically (called with the lock held)."""
        tmp = os.path.join(self.state, f".{name}.stats.{threading.get_ident()}")
        with open(tmp, "w", encoding="ascii") as f:
            f.write(line)
        os.replace(tmp, os.path.join(self.state, f"{name}.stats"))

    def count(self, session: str, key: str) -> int:
        with self.lock:
            s = self.sessions.setdefault(session, {"requests": 0, "done": 0})
            s[key] += 1
            n = s[key]
            self.write_stats(session, f"requests={s['requests']} done={s['done']}\n")
        return n

    def counter(self, name: str) -> Dict[str, int]:
        return self.counters.setdefault(name, {"requests": 0, "active": 0, "max_concurrent": 0})

    def begin(self, name: str) -> int:
        with self.lock:
            c = self.counter(name)
            c["requests"] += 1
            c["active"] += 1
            c["max_concurrent"] = max(c["max_concurrent"], c["active"])
            return c["requests"]

    def end(self, name: str) -> None:
        with self.lock:
            c = self.counter(name)
            c["active"] -= 1
            self.write_stats(name, f"requests={c['requests']} max_concurrent={c['max_concurrent']}\n")

    def stats(self, name: str, reset: bool) -> bytes:
        with self.lock:
            c = self.counter(name)
            out = {"requests": c["requests"], "max_concurrent": c["max_concurrent"]}
            if reset:
                c["requests"] = 0
                c["max_concurrent"] = c["active"]
        return json.dumps(out).encode()


class Handler(socketserver.BaseRequestHandler):
    server: Server

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.settimeout(15)
        # No Nagle: a TLS session ticket or a header written alone must not hold the answer
        # back 40 ms waiting for the client's delayed ACK.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader = Reader(sock)
        try:
            while True:
                try:
                    req = reader.next()
                except (OSError, ValueError):
                    return
                if req is None or not self.route(sock, req):
                    return
        except OSError:
            pass  # the client gave up first (e.g. past the size cap): that is its right

    def route(self, sock: socket.socket, req: Request) -> bool:
        """Answers one request; True when the connection stays open for another."""
        path = req.path
        parts = path.strip("/").split("/")
        keep = req.keep_alive()
        if parts == ["ok", "token"]:
            sock.sendall(response("200 OK", token_body("tw-fault-ok", self.server.lifetime), "application/json"))
        elif len(parts) == 3 and parts[0] == "fault" and parts[2] == "token" and parts[1] in ALL_FAULTS:
            self.fault(sock, parts[1])
        elif (len(parts) == 3 and parts[0] in ("vector", "vector-jwt") and parts[2] == "token"
              and parts[1] in self.server.vectors[parts[0]]):
            sock.sendall(self.server.vectors[parts[0]][parts[1]])
        elif (len(parts) == 4 and parts[0] in ("renew", "renew-rt") and parts[3] == "token"
              and parts[1] in ANSWERS and SESSION.match(parts[2])):
            session = parts[2]
            if self.server.count(session, "requests") == 1:
                rt = f"tw-fault-rt-{session}" if parts[0] == "renew-rt" else None
                body = token_body(f"tw-fault-first-{session}", self.server.lifetime, rt)
                sock.sendall(response("200 OK", body, "application/json"))
            else:
                try:
                    self.fault(sock, parts[1])
                finally:
                    self.server.count(session, "done")
        elif (len(parts) == 4 and parts[0] == "seq" and parts[3] == "token" and SESSION.match(parts[1])
              and all(s == "token" or s in ALL_FAULTS for s in parts[2].split(","))):
            session, steps = parts[1], parts[2].split(",")
            n = self.server.count(session, "requests")
            step = steps[min(n, len(steps)) - 1]
            if step == "token":
                body = token_body(f"tw-seq-{session}-{n}", self.server.lifetime)
                sock.sendall(response("200 OK", body, "application/json"))
            else:
                try:
                    self.fault(sock, step)
                finally:
                    self.server.count(session, "done")
        elif (parts[0] == "mode" and len(parts) in (3, 4) and parts[-1] == "token" and parts[1] in MODES
              and SESSION.match(parts[-2])):
            sock.sendall(self.mode(req, parts[1], parts[-2], keep))
            return keep
        elif (len(parts) == 3 and parts[0] == "jwks" and parts[2] in ("keys", "token", "stats")
              and SESSION.match(parts[1])):
            sock.sendall(self.jwks(req, parts[1], parts[2], keep))
            return keep
        elif path.endswith(DISCOVERY) and req.method == "GET":
            sock.sendall(response("200 OK", self.discovery(path[: -len(DISCOVERY)]), "application/json", close=not keep))
            return keep
        elif path.endswith("/keys") and req.method == "GET":
            sock.sendall(response("200 OK", b'{"keys": []}', "application/json", close=not keep))
            return keep
        elif len(parts) == 2 and parts[0] in ("stats", "reset") and SESSION.match(parts[1]):
            body = self.server.stats(parts[1], reset=parts[0] == "reset")
            sock.sendall(response("200 OK", body, "application/json", close=not keep))
            return keep
        elif parts[0] in ("device", "exchange", "assertion") and req.method == "POST":
            sock.sendall(grants_route(self.server, parts, req))
        else:
            sock.sendall(response("404 Not Found", b'{"error":"not_found"}', "application/json"))
        return False

    def fault(self, sock: socket.socket, fault: str) -> None:
        answer = ANSWERS.get(fault) or EXTRA.get(fault)
        if answer is not None:
            sock.sendall(answer())
            try:
                sock.shutdown(socket.SHUT_WR)
            except (OSError, ValueError):
                pass
        elif fault == "never-answers":
            wait_for_hangup(sock, NEVER_ANSWERS_MAX)
        elif fault == "connection-reset":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()  # with linger 0: RST, not FIN

    def mode(self, req: Request, name: str, counter: str, keep: bool) -> bytes:
        m = MODES[name]
        n = self.server.begin(counter)
        try:
            if m.delay:
                time.sleep(m.delay)
            if m.kind == "invalid_client" or (m.check and req.credentials() != ("c1", "s1")):
                return response("401 Unauthorized", INVALID_CLIENT, "application/json", close=not keep)
            if m.kind == "html500":
                return EXTRA["html-500"]()
            if m.kind == "fixed":
                body = {"access_token": "tls-test-access-token", "token_type": "Bearer", "expires_in": m.lifetime,
                        "refresh_expires_in": 0, "scope": "profile email"}
            elif m.kind == "kc":
                body = self.keycloak_token(n, m, req.form().get("scope"))
            else:
                if m.kind == "jwt":
                    now = int(time.time())
                    claims = {"iat": now, "exp": now + m.lifetime, "tenant": "t1", "sub": "svc"}
                    token = ".".join([b64(b'{"alg":"none"}'), b64(json.dumps(claims).encode()), b64(b"sig")])
                else:
                    token = f"{name}-{n}-" + "x" * m.pad
                body = {"access_token": token, "token_type": "Bearer", "expires_in": m.lifetime}
            return response("200 OK", json.dumps(body).encode(), "application/json", close=not keep)
        finally:
            self.server.end(counter)

    def jwks(self, req: Request, name: str, what: str, keep: bool) -> bytes:
        """/jwks/<set>/keys, /token and /stats: a provider whose keys and token answers the test
        scripts (hostile ID tokens, hostile key sets), its key set GETs counted."""
        srv = self.server
        ok = lambda body, ctype="application/json": response("200 OK", body, ctype, close=not keep)  # noqa: E731
        if what == "stats":
            with srv.lock:
                return ok(json.dumps({"gets": srv.jwks_gets.get(name, 0)}).encode())
        if what == "keys" and req.method == "PUT":
            with srv.lock:
                srv.jwks_sets[name] = (req.body, req.headers.get("content-type", "application/json"))
            return ok(b"{}")
        if what == "keys" and req.method == "GET":
            with srv.lock:
                srv.jwks_gets[name] = srv.jwks_gets.get(name, 0) + 1
                stored = srv.jwks_sets.get(name)
                if stored is None and name in ("huge", "many", "many-bare"):
                    stored = srv.jwks_sets[name] = (jwks_generated(name) or b"", "application/json")
            if stored is None:  # a wrong jwks_uri: a web server's plain 404
                return response("404 Not Found", b"Not Found\n", close=not keep)
            return ok(*stored)
        if what == "token" and req.method == "PUT":
            with srv.lock:
                srv.jwks_answers[name] = req.body
            return ok(b"{}")
        if what == "token" and req.method == "POST":
            with srv.lock:
                answer = srv.jwks_answers.get(name)
            if answer is None:
                return response("400 Bad Request", b'{"error":"invalid_grant"}', "application/json", close=not keep)
            return ok(answer)
        return response("405 Method Not Allowed", b'{"error":"method_not_allowed"}', "application/json",
                        close=not keep)

    def keycloak_token(self, n: int, m: Mode, scope: Optional[str]) -> dict:
        now = int(time.time())
        header = b64(json.dumps({"alg": "RS256", "typ": "JWT", "kid": "k1"}).encode())
        claims = {
            "exp": now + m.lifetime, "iat": now, "iss": self.server.url, "azp": "c1",
            "sub": "service-account-c1", "jti": f"token-{n}", "realm_access": {"roles": ["user"]},
            "scope": "profile email",
            "pad": "x" * 700,  # about the size of a Keycloak access token
        }
        token = f"{header}.{b64(json.dumps(claims).encode())}.{b64(b'sig' * 86)}" + "A" * m.pad
        return {"access_token": token, "expires_in": m.lifetime, "refresh_expires_in": 0, "token_type": "Bearer",
                "not-before-policy": 0, "scope": scope or "profile email"}  # granted as asked (msal caches by it)

    def discovery(self, base: str) -> bytes:
        url = self.server.url
        real = base[: -len("/wrong-issuer")] if base.endswith("/wrong-issuer") else base
        issuer = url + real + "/someone-else" if real != base else url + base
        return json.dumps({
            "issuer": issuer,
            "authorization_endpoint": url + real + "/auth",
            "token_endpoint": url + real + "/token",
            "jwks_uri": url + real + "/keys",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "grant_types_supported": ["client_credentials", "authorization_code", "refresh_token"],
        }).encode()


DEVICE_STEPS = ("pending", "slow_down", "access_denied", "expired_token", "token", "short", "lax")
_device_lock = threading.Lock()
_device_polls: Dict[str, Tuple[float, float]] = {}  # session -> (last poll time, interval asked)


def oauth_error(status: str, error: str, description: str) -> bytes:
    body = json.dumps({"error": error, "error_description": description}).encode()
    return response(status, body, "application/json")


def grants_route(server: "Server", parts: List[str], req: Request) -> bytes:
    """The device, token exchange and client assertion routes (see the module's docstring)."""
    if parts[:2] == ["exchange", "refused"] and parts[2:] == ["token"]:
        return oauth_error("400 Bad Request", "invalid_request", "Requested audience not available: other-client")
    if len(parts) == 4 and parts[:2] == ["exchange", "ok"] and parts[3] == "token" and SESSION.match(parts[2]):
        form = req.form()
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:token-exchange" or not form.get("subject_token"):
            return oauth_error("400 Bad Request", "invalid_request", "not a token exchange")
        n = server.count(parts[2], "requests")
        return response("200 OK", token_body(f"tw-exchange-{parts[2]}-{n}", server.lifetime), "application/json")
    if parts[:2] == ["assertion", "rejected"] and parts[2:] == ["token"]:
        form = req.form()
        jwt = form.get("client_assertion", "")
        if (form.get("client_assertion_type") == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
                and jwt.count(".") == 2):
            return oauth_error("401 Unauthorized", "invalid_client",
                               "Client authentication with signed JWT failed: Signature on JWT token failed validation")
        return oauth_error("400 Bad Request", "invalid_request", "Missing client assertion")
    if len(parts) < 4 or parts[0] != "device" or not SESSION.match(parts[2]):
        return response("404 Not Found", b'{"error":"not_found"}', "application/json")
    script, session, rest = parts[1], parts[2], parts[3:]
    if script == "html" and rest == ["auth", "device"]:
        return response("200 OK", b"<html><head><title>Sign in</title></head><body><form></form></body></html>",
                        "text/html")
    steps = script.split(",")
    if not all(step in DEVICE_STEPS for step in steps):
        return response("404 Not Found", b'{"error":"not_found"}', "application/json")
    if rest == ["auth", "device"]:
        with _device_lock:
            _device_polls[session] = (time.monotonic(), 1.0)
        return response("200 OK", json.dumps({
            "device_code": f"tw-dc-{session}", "user_code": "WDJB-MJHT",
            "verification_uri": server.url + "/device/verify",
            "verification_uri_complete": server.url + "/device/verify?user_code=WDJB-MJHT",
            "expires_in": 4 if steps[0] == "short" else 30, "interval": 1,
        }).encode(), "application/json")
    if rest != ["token"]:
        return response("404 Not Found", b'{"error":"not_found"}', "application/json")
    form = req.form()
    if form.get("device_code") != f"tw-dc-{session}":
        return oauth_error("400 Bad Request", "invalid_grant", "Device code not valid")
    n = server.count(session, "requests")
    lax = "lax" in steps
    steps = [step for step in steps if step not in ("short", "lax")] or ["pending"]
    step = steps[min(n, len(steps)) - 1]
    now = time.monotonic()
    with _device_lock:
        last, interval = _device_polls.get(session, (0.0, 1.0))
        too_fast = not lax and now - last < interval - 0.05
        _device_polls[session] = (now, interval + 5 if step == "slow_down" and not too_fast else interval)
    if too_fast:
        return oauth_error("400 Bad Request", "invalid_request", "polled too fast")
    if step == "token":
        body = token_body(f"tw-device-{session}", server.lifetime, f"tw-device-rt-{session}")
        return response("200 OK", body, "application/json")
    error = "authorization_pending" if step == "pending" else step
    return oauth_error("400 Bad Request", error, f"scripted {error}")


def stop_at_eof(stop: Callable[[], None]) -> None:
    """Calls stop() when stdin closes. Reads the raw descriptor: a daemon thread blocked inside
    sys.stdin's buffered reader would make the interpreter's shutdown abort."""
    try:
        while os.read(0, 4096):
            pass
    except OSError:
        pass
    stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--state", required=True, help="directory for url and the .stats files")
    ap.add_argument("--lifetime", type=int, default=8, help="expires_in of the /renew/, /seq/ and /ok/ tokens (s)")
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"), help="serve HTTPS with this chain and key")
    ap.add_argument("--stdin", action="store_true", help="also stop when stdin closes")
    args = ap.parse_args()
    missing = set(load_faults()) ^ set(ANSWERS)
    if missing:
        raise SystemExit(f"faults.tsv and server.py disagree on: {', '.join(sorted(missing))}")
    tls = None
    if args.tls:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.minimum_version = ssl.TLSVersion.TLSv1_2
        tls.load_cert_chain(args.tls[0], args.tls[1])
    os.makedirs(args.state, exist_ok=True)
    server = Server(args.state, args.lifetime, tls)
    tmp = os.path.join(args.state, ".url.tmp")
    with open(tmp, "w", encoding="ascii") as f:
        f.write(server.url + "\n")
    os.replace(tmp, os.path.join(args.state, "url"))
    stop = lambda *_: threading.Thread(target=server.shutdown, daemon=True).start()  # noqa: E731
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.stdin:
        threading.Thread(target=stop_at_eof, args=(stop,), daemon=True).start()
    print(server.url, flush=True)
    server.serve_forever(poll_interval=0.1)
    server.server_close()
    sys.exit(0)


if __name__ == "__main__":
    main()
