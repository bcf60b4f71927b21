#!/usr/bin/env python3
"""Makes and removes a throw-away client in the harness's `vion` realm through the admin API,
for tests that need a client the realms do not ship: a confidential web client that ALSO has
service accounts enabled (standard flow + client credentials), the shape that could turn a
user's session into the service account's if a binding fell back to client credentials.

    from kc_client import web_client_with_service_account   # Python tests
    with web_client_with_service_account(env) as (client_id, secret): ...

    kc_client.py create ENV_FILE           # C tests: prints "CLIENT_ID SECRET"
    kc_client.py delete ENV_FILE CLIENT_ID

ENV_FILE is the harness's env file ($TW_KC_ENV): KC_URL, TW_KC_ADMIN_USER, TW_KC_ADMIN_PASSWORD.
Each client gets a unique id, so runs in parallel do not meet.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shlex
import sys
import urllib.parse
import urllib.request
from typing import Dict, Iterator, Tuple

REDIRECT = "http://127.0.0.1:8765/callback"


def read_env(path: str) -> Dict[str, str]:
    """The harness's env file (`KEY=value` lines, shell-quoted, `export ` allowed), for every
    Python test and script that talks to the harness's Keycloak."""
    env: Dict[str, str] = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                k, _, v = line.partition("=")
                k = k.strip().removeprefix("export ").strip()
                parts = shlex.split(v) if v.strip() else [""]
                env[k] = parts[0] if parts else ""
    return env


def _call(method: str, url: str, token: str = "", body=None, form=None) -> Tuple[int, bytes, Dict[str, str]]:
    headers = {}
    data = None
    if token:
        headers["Authorization"] = "Bearer " + token
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read(), dict(e.headers)


def admin_token(env: Dict[str, str]) -> str:
    status, body, _ = _call(
        "POST",
        env["KC_URL"].rstrip("/") + "/realms/master/protocol/openid-connect/token",
        form={
            "grant_type": "password",
            "client_id": "admin-cli",
            "username": env.get("TW_KC_ADMIN_USER", "admin"),
            "password": env["TW_KC_ADMIN_PASSWORD"],
        },
    )
    if status != 200:
        raise RuntimeError(f"admin login failed: HTTP {status}")
    return json.loads(body)["access_token"]


def create(env: Dict[str, str], realm: str = "vion") -> Tuple[str, str]:
    """A new confidential client with standard flow and service accounts; (client id, secret)."""
    client_id = f"tw-web-sa-{secrets.token_hex(4)}"
    secret = secrets.token_hex(20)
    status, body, _ = _call(
        "POST",
        f"{env['KC_URL'].rstrip('/')}/admin/realms/{realm}/clients",
        admin_token(env),
        body={
            "clientId": client_id,
            "enabled": True,
            "protocol": "openid-connect",
            "publicClient": False,
            "secret": secret,
            "standardFlowEnabled": True,
            "serviceAccountsEnabled": True,
            "directAccessGrantsEnabled": False,
            "redirectUris": [REDIRECT],
            "attributes": {"pkce.code.challenge.method": "S256"},
        },
    )
    if status != 201:
        raise RuntimeError(f"creating client {client_id} failed: HTTP {status} {body[:200]!r}")
    return client_id, secret


def delete(env: Dict[str, str], client_id: str, realm: str = "vion") -> None:
    base = f"{env['KC_URL'].rstrip('/')}/admin/realms/{realm}/clients"
    token = admin_token(env)
    status, body, _ = _call("GET", f"{base}?clientId={urllib.parse.quote(client_id)}", token)
    for c in json.loads(body) if status == 200 else []:
        _call("DELETE", f"{base}/{c['id']}", token)


@contextlib.contextmanager
def web_client_with_service_account(env: Dict[str, str]) -> Iterator[Tuple[str, str]]:
    client_id, secret = create(env)
    try:
        yield client_id, secret
    finally:
        delete(env, client_id)


def main(argv) -> int:
    if len(argv) == 3 and argv[1] == "create":
        client_id, secret = create(read_env(argv[2]))
        print(client_id, secret)
        return 0
    if len(argv) == 4 and argv[1] == "delete":
        delete(read_env(argv[2]), argv[3])
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
