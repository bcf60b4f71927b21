"""The README's Python quickstart runs as written."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import HERE
from resource_server import ResourceServer


def test_quickstart_runs(kc):
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
            [sys.executable, os.path.join(HERE, "examples", "quickstart.py")],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        api.close()
    assert p.returncode == 0, p.stderr
    assert "token expires in 3600 s" in p.stdout
    assert "versions: ['3.10', '3.11']" in p.stdout
    assert kc.secret("ecoinvent-client") not in p.stdout + p.stderr


def test_the_package_readme_shows_the_quickstart_as_tested():
    import re

    from conftest import REPO

    with open(os.path.join(REPO, "bindings", "python", "README.md"), encoding="utf-8") as f:
        readme = f.read()
    block = re.search(r"## Quickstart.*?```python\n(.*?)```", readme, re.S).group(1)
    with open(os.path.join(HERE, "examples", "quickstart.py"), encoding="utf-8") as f:
        example = f.read()
    code = re.sub(r'^""".*?"""\n\n', "", example, flags=re.S)
    assert block == code


def test_async_quickstart_runs(kc):
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
            [sys.executable, os.path.join(HERE, "examples", "async_quickstart.py")],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        api.close()
    assert p.returncode == 0, p.stderr
    assert "token expires in 3600 s" in p.stdout
    assert "versions: ['3.10', '3.11'] x 10" in p.stdout
    assert kc.secret("ecoinvent-client") not in p.stdout + p.stderr


def test_the_package_readme_shows_the_async_quickstart_as_tested():
    import re

    from conftest import REPO

    with open(os.path.join(REPO, "bindings", "python", "README.md"), encoding="utf-8") as f:
        readme = f.read()
    block = re.search(r"## asyncio.*?```python\n(.*?)```", readme, re.S).group(1)
    with open(os.path.join(HERE, "examples", "async_quickstart.py"), encoding="utf-8") as f:
        example = f.read()
    assert block == re.sub(r'^""".*?"""\n\n', "", example, flags=re.S)


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
