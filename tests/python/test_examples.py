"""The README's Python quickstart runs as written."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from conftest import HERE, REPO
from resource_server import ResourceServer


@pytest.mark.parametrize(
    "example, printed",
    [
        ("quickstart.py", "versions: ['3.10', '3.11']"),
        ("async_quickstart.py", "versions: ['3.10', '3.11'] x 10"),
    ],
)
def test_quickstart_runs(kc, example, printed):
    api = ResourceServer(kc.url)
    try:
        env = dict(os.environ)
        env.update(
            KEYCLOAK_URL=kc.url,
            ECOINVENT_CLIENT_ID="ecoinvent-client",
            ECOINVENT_CLIENT_SECRET=kc.secret("ecoinvent-client"),
            ECOINVENT_API=api.url + "/ecoinvent",
        )
        p = subprocess.run(
            [sys.executable, os.path.join(HERE, "examples", example)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        api.close()
    assert p.returncode == 0, p.stderr
    assert "token expires in 3600 s" in p.stdout
    assert printed in p.stdout
    assert kc.secret("ecoinvent-client") not in p.stdout + p.stderr


@pytest.mark.parametrize("section, example", [("Quickstart", "quickstart.py"), ("asyncio", "async_quickstart.py")])
def test_the_package_readme_shows_the_quickstart_as_tested(section, example):
    with open(os.path.join(REPO, "bindings", "python", "README.md"), encoding="utf-8") as f:
        readme = f.read()
    block = re.search(rf"## {section}.*?```python\n(.*?)```", readme, re.S).group(1)
    with open(os.path.join(HERE, "examples", example), encoding="utf-8") as f:
        code = re.sub(r'^""".*?"""\n\n', "", f.read(), flags=re.S)
    assert block == code


def _flask_api(kc):
    """tests/python/examples/flask_api.py, imported with KEYCLOAK_URL set."""
    import importlib.util

    os.environ["KEYCLOAK_URL"] = kc.url
    spec = importlib.util.spec_from_file_location("flask_api", os.path.join(HERE, "examples", "flask_api.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_flask_example_rejects_requests_without_a_valid_token_and_tenant(kc):
    import tokenward

    api = _flask_api(kc)
    web = api.app.test_client()
    with tokenward.Client.keycloak(
        kc.url, "acme", client_id="vault-service", client_secret=kc.secret("vault-service"), scope="openid"
    ) as c:
        good = c.token()
    with tokenward.Client.keycloak(
        kc.url, "acme", client_id="vault-notenant", client_secret=kc.secret("vault-notenant"), scope="openid"
    ) as c:
        notenant = c.token()
    with tokenward.Client.keycloak(
        kc.url, "vion", client_id="vion-service", client_secret=kc.secret("vion-service")
    ) as c:
        other_realm = c.token()  # another realm's: other keys, another issuer

    r = web.get("/documents", headers={"Authorization": f"Bearer {good}"})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["tenant"] == "acme"

    r = web.get("/documents")
    assert r.status_code == 401 and r.get_json()["error"] == "invalid_request"
    for forged in (other_realm, good[:-4] + "AAAA", "not-a-jwt"):
        r = web.get("/documents", headers={"Authorization": f"Bearer {forged}"})
        assert r.status_code == 401, r.get_json()
        assert r.get_json()["error"] == "invalid_token"
        assert r.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
        assert forged not in r.get_data(as_text=True)
    r = web.get("/documents", headers={"Authorization": f"Bearer {notenant}"})
    assert r.status_code == 403 and "tenant" in r.get_json()["error_description"]
    api.verifier.close()
