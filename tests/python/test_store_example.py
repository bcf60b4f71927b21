"""The README's gunicorn example, as four worker processes sharing a file store: one token
request for all of them."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import HERE

WORKER = """
import runpy, sys
app = runpy.run_path(sys.argv[1])["app"]
body = app({}, lambda status, headers: None)
print(body[0].decode())
"""


def test_gunicorn_workers_share_one_token_through_the_store(kc, tmp_path):
    store = tmp_path / "store"
    env = dict(os.environ)
    env.update(
        KEYCLOAK_URL=kc.url,
        ECOINVENT_CLIENT_ID="ecoinvent-client",
        ECOINVENT_CLIENT_SECRET=kc.secret("ecoinvent-client"),
        TOKENWARD_STORE=f"file://{store}",
    )
    example = os.path.join(HERE, "examples", "gunicorn_app.py")
    seen = set()
    for _ in range(4):
        p = subprocess.run(
            [sys.executable, "-c", WORKER, example], env=env, capture_output=True, text=True, timeout=60
        )
        assert p.returncode == 0, p.stderr
        seen.add(p.stdout.strip())
        assert kc.secret("ecoinvent-client") not in p.stdout + p.stderr
    assert len(seen) == 1, f"each worker fetched its own token: {seen}"
    assert oct(store.stat().st_mode & 0o777) == "0o700"
