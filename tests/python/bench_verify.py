"""Access-token verification from Python (RS256, the key cached): tokenward beside PyJWT and
Authlib's jose, in one run, medians per call. Part of `make bench` (tests/python/bench)."""

from __future__ import annotations

import json
import statistics
import warnings
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Dict

import jwt as pyjwt

import authlib.deprecate  # noqa: F401 (adds an "always" filter, which the ignore below must follow)

with warnings.catch_warnings():  # authlib.jose is deprecated for joserfc, and still its jose
    warnings.simplefilter("ignore")
    from authlib.jose import JsonWebKey, jwt as authlib_jwt
from cryptography.hazmat.primitives.asymmetric import rsa

import tokenward


def per_call_ns(f: Callable[[], object], rounds: int = 15, batch: int = 200) -> float:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter_ns()
        for _ in range(batch):
            f()
        samples.append((time.perf_counter_ns() - start) / batch)
    return statistics.median(samples)


def main() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_jwk = json.loads(pyjwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    public_jwk.update(kid="k1", alg="RS256", use="sig")
    keys = json.dumps({"keys": [public_jwk]}).encode()

    class Certs(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(keys)))
            self.end_headers()
            self.wfile.write(keys)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Certs)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    issuer = f"{base}/realms/bench"
    now = int(time.time())
    claims = {"iss": issuer, "sub": "u1", "typ": "Bearer", "azp": "svc", "aud": "account",
              "iat": now, "exp": now + 3600, "realm_access": {"roles": ["user"]}}
    token = pyjwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})

    client = tokenward.Client.keycloak(base, "bench", client_id="svc", client_secret="bench-secret")
    client.verify_access_token(token)  # fetches and caches the key set
    public_key = pyjwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(public_jwk))
    authlib_key = JsonWebKey.import_key(public_jwk)

    def with_pyjwt() -> object:
        return pyjwt.decode(token, public_key, algorithms=["RS256"], issuer=issuer,
                            options={"verify_aud": False})

    def with_authlib() -> object:
        c = authlib_jwt.decode(token, authlib_key, claims_options={"iss": {"essential": True, "value": issuer}})
        c.validate()
        return c

    for f in (with_pyjwt, with_authlib):
        f()
    results: Dict[str, float] = {}
    for _ in range(3):  # interleaved, so load on the machine hits every library alike
        for name, f in (("tokenward", lambda: client.verify_access_token(token)),
                        ("PyJWT", with_pyjwt), ("Authlib jose", with_authlib)):
            ns = per_call_ns(f)
            results[name] = min(results.get(name, ns), ns)
    client.close()
    server.shutdown()
    print()
    print("access-token verification from Python (RS256, key cached; signature, iss, exp/iat)")
    print(f"{'library':<14} {'per call':>10}")
    for name, ns in results.items():
        print(f"{name:<14} {ns / 1000:>8.1f} µs")


if __name__ == "__main__":
    main()
