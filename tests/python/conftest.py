"""Shared fixtures: the Keycloak harness named by $TW_KC_ENV, clients for the seed realms,
the scripted loopback server (tests/faults/server.py, one per session), and a collector of
every secret a test used (for the leak checks)."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import Dict, List

import pytest

import tokenward

# The Keycloak login-form driver lives with the harness, shared with the C tests.
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "keycloak"))
from kc_client import REDIRECT, read_env  # noqa: E402  (the harness's env file, read one way)

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

# client id -> (realm, env var with its secret)
CLIENTS = {
    "ecoinvent-client": ("ecoinvent", "TW_ECOINVENT_CLIENT_SECRET"),
    "ecoinvent-short": ("ecoinvent", "TW_ECOINVENT_SHORT_SECRET"),
    "iopole-admin": ("iopole", "TW_IOPOLE_ADMIN_SECRET"),
    "iopole-user": ("iopole", "TW_IOPOLE_USER_SECRET"),
    "vault-service": ("acme", "TW_VAULT_SERVICE_SECRET"),
    "vault-notenant": ("acme", "TW_VAULT_NOTENANT_SECRET"),
    "vion-service": ("vion", "TW_VION_SERVICE_SECRET"),
    "vion-short-service": ("vion", "TW_VION_SHORT_SERVICE_SECRET"),
}


def assert_lifespan(info: tokenward.TokenInfo, seconds: int) -> None:
    """Keycloak computes `expires_in` as `exp - now` in whole seconds: one less when a second
    ticks between issuing the token and answering."""
    assert info.expires_in in (seconds, seconds - 1), f"expires_in {info.expires_in}, lifespan {seconds}"


@dataclass
class Keycloak:
    url: str
    env: Dict[str, str]
    clients: List[tokenward.Client] = field(default_factory=list)

    def secret(self, client_id: str) -> str:
        return self.env[CLIENTS[client_id][1]]

    def realm_of(self, client_id: str) -> str:
        return CLIENTS[client_id][0]

    def issuer(self, realm: str) -> str:
        return f"{self.url}/realms/{realm}"

    def token_url(self, realm: str) -> str:
        return f"{self.url}/realms/{realm}/protocol/openid-connect/token"

    def client(self, client_id: str, **kw) -> tokenward.Client:
        kw.setdefault("client_secret", self.secret(client_id))
        c = tokenward.Client.keycloak(self.url, self.realm_of(client_id), client_id=client_id, **kw)
        self.clients.append(c)
        return c

    def vion_spa(self, **kw) -> tokenward.Client:
        """The realm vion's public SPA client (PKCE login on REDIRECT), for the login tests;
        the caller closes it (`with kc.vion_spa() as client:`)."""
        return tokenward.Client.keycloak(
            self.url, "vion", client_id="vion-spa", redirect_uri=REDIRECT, scope="openid user_impersonation", **kw
        )

    def secrets(self) -> List[str]:
        """Every secret of the harness (client secrets, passwords)."""
        return [v for k, v in self.env.items() if ("SECRET" in k or "PASSWORD" in k) and len(v) >= 8]


@pytest.fixture(scope="session")
def scripted():
    """tests/faults/server.py for the whole session, stopped by its PID at the end."""
    from scripted import ScriptedServer

    s = ScriptedServer()
    yield s
    s.close()


@pytest.fixture(scope="session")
def kc() -> Keycloak:
    path = os.environ.get("TW_KC_ENV")
    if not path:
        pytest.fail(
            "TW_KC_ENV is not set: these tests need the Keycloak harness. Run tests/python/run "
            "(it starts one), or tests/keycloak/start DIR and export TW_KC_ENV=DIR/env",
            pytrace=False,
        )
    if not os.path.isfile(path):
        pytest.fail(f"TW_KC_ENV={path} is not a file", pytrace=False)
    env = read_env(path)
    if not env.get("KC_URL"):
        pytest.fail(f"{path} has no KC_URL", pytrace=False)
    k = Keycloak(env["KC_URL"].rstrip("/"), env)
    yield k
    for c in k.clients:
        c.close()


class TokenLog:
    """An on_token hook that records every token a client obtains."""

    def __init__(self) -> None:
        import threading

        self.lock = threading.Lock()
        self.tokens: List[tokenward.TokenInfo] = []

    def __call__(self, info: tokenward.TokenInfo) -> None:
        with self.lock:
            self.tokens.append(info)

    def __len__(self) -> int:
        with self.lock:
            return len(self.tokens)

    def access_tokens(self) -> List[str]:
        with self.lock:
            return [t.access_token for t in self.tokens]


@pytest.fixture
def token_log() -> TokenLog:
    return TokenLog()
