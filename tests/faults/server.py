#!/usr/bin/env python3
"""The fault matrix's scripted token endpoint: the faults a real Keycloak will not produce on
demand, on loopback, shared by the Rust, C, Python and CLI suites (and the browser's).

    server.py --state DIR [--lifetime SECONDS]

Listens on 127.0.0.1 (a free port), prints its base URL (`http://127.0.0.1:PORT`) on the
first line of stdout and writes it to DIR/url (atomically). Serves until SIGTERM or SIGINT;
callers stop it by the PID they started. Python 3 standard library only.

Routes (any method; the request is read whole first, except where a fault says otherwise):

    /fault/<fault>/token             the fault, on every request
    /renew/<fault>/<session>/token   the session's first request gets a valid token
                                     {"access_token": "tw-fault-first-<session>", "token_type":
                                     "Bearer", "expires_in": LIFETIME} (default 8 s); every later
                                     one gets the fault
    /renew-rt/<fault>/<session>/token  the same, but the first token also carries
                                     "refresh_token": "tw-fault-rt-<session>", for clients that
                                     renew only with a refresh token (the browser's)
    /ok/token                        a valid token, every time (a smoke test of the server)
    anything else                    404 {"error": "not_found"}

For /renew/ the server keeps DIR/<session>.stats, replaced atomically after each request:
`requests=N done=M`, N counting the session's requests and M the fault connections that have
ended (the answer written, the reset sent, or the client gone). `done>=1` therefore means
"a renewal met the fault and is over", which is when a test checks that the cache still hands
out the first token. <session> is [A-Za-z0-9_.-]{1,80}.

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
"""

from __future__ import annotations

import argparse
import json
import os
import re
import select
import signal
import socket
import socketserver
import struct
import sys
import threading
import time
from typing import Callable, Dict, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
FAULT_LIST = os.path.join(HERE, "faults.tsv")
SESSION = re.compile(r"^[A-Za-z0-9_.-]{1,80}$")
NEVER_ANSWERS_MAX = 120.0  # seconds a silent connection is held at most


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


def response(status: str, body: bytes, ctype: str = "text/plain", headers: Tuple[Tuple[str, str], ...] = ()) -> bytes:
    head = [f"HTTP/1.1 {status}", f"Content-Type: {ctype}", f"Content-Length: {len(body)}",
            "Cache-Control: no-store", "Connection: close"]
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


# What each fault writes; None for the two that do something other than answer.
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


def read_request(sock: socket.socket) -> Optional[Tuple[str, str]]:
    """Reads one request (head and Content-Length body); returns (method, path) or None."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        buf += chunk
        if len(buf) > 1 << 20:
            return None
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) < 2:
        return None
    length = 0
    for line in lines[1:]:
        k, _, v = line.partition(":")
        if k.strip().lower() == "content-length":
            length = int(v.strip() or "0")
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return parts[0], parts[1].split("?", 1)[0]


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

    def __init__(self, state: str, lifetime: int) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.state = state
        self.lifetime = lifetime
        self.lock = threading.Lock()
        self.sessions: Dict[str, Dict[str, int]] = {}

    def count(self, session: str, key: str) -> int:
        with self.lock:
            s = self.sessions.setdefault(session, {"requests": 0, "done": 0})
            s[key] += 1
            n = s[key]
            line = f"requests={s['requests']} done={s['done']}\n"
            tmp = os.path.join(self.state, f".{session}.stats.{threading.get_ident()}")
            with open(tmp, "w", encoding="ascii") as f:
                f.write(line)
            os.replace(tmp, os.path.join(self.state, f"{session}.stats"))
        return n


class Handler(socketserver.BaseRequestHandler):
    server: Server

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.settimeout(15)
        try:
            req = read_request(sock)
        except (OSError, ValueError):
            return
        if req is None:
            return
        parts = req[1].strip("/").split("/")
        try:
            if parts == ["ok", "token"]:
                sock.sendall(response("200 OK", token_body("tw-fault-ok", self.server.lifetime), "application/json"))
            elif len(parts) == 3 and parts[0] == "fault" and parts[2] == "token" and parts[1] in ANSWERS:
                self.fault(sock, parts[1])
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
            else:
                sock.sendall(response("404 Not Found", b'{"error":"not_found"}', "application/json"))
        except OSError:
            pass  # the client gave up first (e.g. past the size cap): that is its right

    def fault(self, sock: socket.socket, fault: str) -> None:
        answer = ANSWERS[fault]
        if answer is not None:
            sock.sendall(answer())
            try:
                sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        elif fault == "never-answers":
            wait_for_hangup(sock, NEVER_ANSWERS_MAX)
        elif fault == "connection-reset":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()  # with linger 0: RST, not FIN


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--state", required=True, help="directory for url and <session>.stats")
    ap.add_argument("--lifetime", type=int, default=8, help="expires_in of the valid tokens (s)")
    args = ap.parse_args()
    missing = set(load_faults()) ^ set(ANSWERS)
    if missing:
        raise SystemExit(f"faults.tsv and server.py disagree on: {', '.join(sorted(missing))}")
    os.makedirs(args.state, exist_ok=True)
    server = Server(args.state, args.lifetime)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    tmp = os.path.join(args.state, ".url.tmp")
    with open(tmp, "w", encoding="ascii") as f:
        f.write(url + "\n")
    os.replace(tmp, os.path.join(args.state, "url"))
    stop = lambda *_: threading.Thread(target=server.shutdown, daemon=True).start()  # noqa: E731
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(url, flush=True)
    server.serve_forever(poll_interval=0.1)
    server.server_close()
    sys.exit(0)


if __name__ == "__main__":
    main()
