"""The installed package is typed (py.typed): mypy --strict checks code that uses it."""

from __future__ import annotations

import os
import subprocess
import sys

import tokenward

GOOD = '''
import tokenward
from datetime import datetime
from typing import Optional

def get(c: tokenward.Client) -> str:
    info: tokenward.TokenInfo = c.token_info()
    when: Optional[datetime] = info.expires_at
    roles: frozenset[str] = info.roles
    login: tokenward.Login = c.authorization_url("http://127.0.0.1:8765/callback", prompt="login")
    assert login.url and when is not None and roles is not None
    try:
        return c.token()
    except tokenward.OAuthError as e:
        code: Optional[str] = e.error
        raise RuntimeError(code) from e

with tokenward.Client.keycloak("https://kc.example", "vion", client_id="x", timeout=5) as c:
    get(c)

async def aget(c: tokenward.AsyncClient) -> str:
    info: tokenward.TokenInfo = await c.token_info()
    assert info.expires_at is not None
    return await c.token()

a = tokenward.AsyncClient.from_template("https://kc.example/realms/{t}", {"t": "vion"}, client_id="x", scope=["a"])
'''

BAD = '''
import tokenward
n: int = tokenward.Client.keycloak("https://kc.example", "vion", client_id="x").token()
'''

# Options are checked by name and type on every constructor (one TypedDict, Unpack).
BAD_OPTIONS = '''
import tokenward
tokenward.Client.from_token_url("https://kc.example/t", client_id="x", timout=5)
tokenward.AsyncClient.keycloak("https://kc.example", "vion", client_id="x", timeout="5")
tokenward.Client.from_issuer("https://kc.example/realms/vion")
'''


def _mypy(code: str, tmp_path) -> subprocess.CompletedProcess:
    f = tmp_path / "snippet.py"
    f.write_text(code)
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir", os.devnull, str(f)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )


def test_typed_use_passes_mypy_strict(tmp_path):
    p = _mypy(GOOD, tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr


def test_mypy_sees_the_types(tmp_path):
    p = _mypy(BAD, tmp_path)
    assert p.returncode == 1 and 'incompatible types in assignment (expression has type "str"' in p.stdout.lower(), p.stdout


def test_mypy_checks_every_option(tmp_path):
    p = _mypy(BAD_OPTIONS, tmp_path)
    out = p.stdout
    assert p.returncode == 1, out
    assert 'Unexpected keyword argument "timout"' in out, out
    assert 'Argument "timeout" to "keycloak" of "AsyncClient" has incompatible type "str"' in out, out
    assert 'Missing named argument "client_id"' in out, out


def test_the_package_itself_passes_mypy_strict(tmp_path):
    p = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir", os.devnull, "-p", "tokenward"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert p.returncode == 0, p.stdout + p.stderr


def test_the_option_names_are_the_typed_options():
    from tokenward._options import OPTION_NAMES

    assert set(OPTION_NAMES) == set(tokenward.Options.__annotations__)
    assert set(tokenward.ClientOptions.__annotations__) == set(OPTION_NAMES) | {"client_id"}
