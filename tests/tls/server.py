#!/usr/bin/env python3
"""tests/tls/server.py CERT KEY: a loopback HTTPS token endpoint for the TLS tests.

Listens on a free port on 127.0.0.1, prints `PORT <n>` on stdout once it accepts connections,
and answers every POST with a client-credentials token response (any path) and every GET with
a small JSON document. Handshake failures (a client that refuses the certificate) are expected
and silently dropped. Runs until killed or until stdin closes, so a test that dies takes the
server with it.
"""
import json
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKEN = {
    "access_token": "tls-test-access-token",
    "token_type": "Bearer",
    "expires_in": 300,
    "refresh_expires_in": 0,
    "scope": "profile email",
}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _send(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self._send(200, TOKEN)

    def do_GET(self):
        self._send(200, {"ok": True, "path": self.path})

    def log_message(self, *args):
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # refused handshakes and resets are what the negative tests cause


def main():
    cert, key = sys.argv[1], sys.argv[2]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    httpd = Server(("127.0.0.1", 0), Handler)
    # The handshake happens in the handler thread on first read, so a client that hangs up
    # mid-handshake cannot block the accept loop.
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True, do_handshake_on_connect=False)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    print(f"PORT {httpd.server_address[1]}", flush=True)
    sys.stdin.read()  # EOF when the parent test exits
    httpd.shutdown()


if __name__ == "__main__":
    main()
