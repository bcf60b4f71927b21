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
