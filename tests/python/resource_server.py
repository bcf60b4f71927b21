"""A small resource server for the adapter tests: one route per seed API, each validating the
bearer JWT against Keycloak's JWKS with PyJWT (an independent library) and answering in that
API's error shape.

    /vault/api/v1/documents       Docbyte Vault (realm acme): valid JWT with a `tenant` claim,
                                  else 401 {"message": null, "code": "NOT_AUTHORIZED"}
    /ecoinvent/v0/versions        ecoinvent (realm ecoinvent): else 401 with
                                  WWW-Authenticate: Bearer error="invalid_token"
    /iopole/v1/config/webhooks    Iopole (realm iopole), role admin, else 403
    /iopole/v1/invoices           Iopole, role user, else 403
    /vion/Tenant/<id>/Services    VION (realm vion)

`reject(n)` makes the next n requests fail with the route's 401 whatever their token, and
`revoke(token)` every request bearing that token, to prove the adapters' retry; `requests` records (path, token) of every request.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, List, Optional, Tuple

import jwt


class ResourceServer:
    def __init__(self, kc_url: str) -> None:
        self.kc_url = kc_url
        self.lock = threading.Lock()
        self.requests: List[Tuple[str, str]] = []
        self._reject = 0
        self._revoked: set = set()
        self._jwks: Dict[str, jwt.PyJWKClient] = {}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # no 40 ms stall between headers and body

            def log_message(self, *args):  # keep tokens out of stderr
                pass

            def do_GET(self):
                n = int(self.headers.get("Content-Length") or 0)
                if n:
                    self.rfile.read(n)
                status, body, headers = outer.handle(self.path, self.headers.get("Authorization"))
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                if body is not None:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_POST = do_GET

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def reject(self, n: int) -> None:
        with self.lock:
            self._reject = n

    def revoke(self, token: str) -> None:
        """Every request bearing `token` is refused with the route's 401 from now on."""
        with self.lock:
            self._revoked.add(token)

    def tokens(self) -> List[str]:
        with self.lock:
            return [t for _, t in self.requests]

    def _claims(self, realm: str, token: str) -> Optional[dict]:
        issuer = f"{self.kc_url}/realms/{realm}"
        with self.lock:
            client = self._jwks.get(realm)
            if client is None:
                client = self._jwks[realm] = jwt.PyJWKClient(f"{issuer}/protocol/openid-connect/certs")
        try:
            key = client.get_signing_key_from_jwt(token)
            return jwt.decode(
                token,
                key.key,
                algorithms=["RS256"],
                issuer=issuer,
                options={"verify_aud": False, "require": ["exp", "iat", "iss"]},
            )
        except jwt.PyJWTError:
            return None

    def handle(self, path: str, auth: Optional[str]):
        token = auth[len("Bearer "):] if auth and auth.startswith("Bearer ") else ""
        with self.lock:
            self.requests.append((path, token))
            forced = self._reject > 0 or token in self._revoked
            if self._reject > 0:
                self._reject -= 1
        if path.startswith("/vault/"):
            claims = None if forced else self._claims("acme", token)
            if not claims or not claims.get("tenant"):
                return 401, {"message": None, "code": "NOT_AUTHORIZED"}, {}
            return 200, {"tenant": claims["tenant"], "documents": []}, {}
        if path.startswith("/ecoinvent/"):
            claims = None if forced else self._claims("ecoinvent", token)
            if not claims:
                return (
                    401,
                    {"error": "invalid_token", "error_description": "Token is not valid"},
                    {"WWW-Authenticate": 'Bearer error="invalid_token"'},
                )
            return 200, {"versions": ["3.10", "3.11"], "azp": claims.get("azp")}, {}
        if path.startswith("/iopole/"):
            claims = None if forced else self._claims("iopole", token)
            if not claims:
                return 401, {"code": "UNAUTHORIZED", "message": "invalid or expired token"}, {}
            need = "admin" if "/config/" in path else "user"
            roles = claims.get("realm_access", {}).get("roles", [])
            if need not in roles:
                return 403, {"code": "FORBIDDEN", "message": f"role {need} required"}, {}
            return 200, {"ok": True, "role": need}, {}
        if path.startswith("/vion/"):
            claims = None if forced else self._claims("vion", token)
            if not claims:
                return 401, None, {"WWW-Authenticate": 'Bearer realm="vion"'}
            return 200, [{"id": 1, "name": "heating", "sub": claims.get("sub")}], {}
        return 404, {"code": "NOT_FOUND", "message": path}, {}
