"""tests/faults/server.py, the one scripted loopback server of every suite, as a child process
of the Python tests (and of tests/python/bench.py): started with this interpreter, stopped by its
PID. Standard library only, so a fresh venv without pytest can import it too.

    s = ScriptedServer()                 # or ScriptedServer(tls=(cert, key)) for https://
    e = s.endpoint("kc")                 # a counted /mode/kc/<counter> endpoint of its own
    tokenward.Client.from_token_url(e.token_url, client_id="c1", client_secret="s1")
    e.count                              # token requests so far
    s.close()

The routes (modes, faults, discovery) are listed in tests/faults/server.py's docstring.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import urllib.request
from typing import Dict, Optional, Tuple

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SERVER = os.path.join(REPO, "tests", "faults", "server.py")
_COUNTERS = itertools.count(1)


class ScriptedServer:
    def __init__(self, tls: Optional[Tuple[str, str]] = None, ca: Optional[str] = None, lifetime: int = 8) -> None:
        self.state = tempfile.mkdtemp(prefix="tw-scripted-py-")
        cmd = [sys.executable, SERVER, "--state", self.state, "--lifetime", str(lifetime), "--stdin"]
        if tls:
            cmd += ["--tls", str(tls[0]), str(tls[1])]
        # --stdin: the pipe we hold; should this process die without close(), the server ends too.
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()
        if not self.url.startswith(("http://127.0.0.1:", "https://127.0.0.1:")):
            self.close()
            raise RuntimeError(f"tests/faults/server.py did not start (said {self.url!r})")
        self._ctx = ssl.create_default_context(cafile=str(ca)) if ca else None

    def endpoint(self, mode: str = "kc", counter: Optional[str] = None) -> "Endpoint":
        """A client-credentials endpoint (/mode/<mode>/<counter>) with a counter of its own."""
        return Endpoint(self, mode, counter or f"py-{os.getpid()}-{next(_COUNTERS)}")

    def fault_url(self, fault: str) -> str:
        return f"{self.url}/fault/{fault}/token"

    def stats(self, counter: str, reset: bool = False) -> Dict[str, int]:
        """{"requests": N, "max_concurrent": M} of a counter; reset sets it back to zero."""
        url = f"{self.url}/{'reset' if reset else 'stats'}/{counter}"
        with urllib.request.urlopen(url, context=self._ctx, timeout=30) as r:
            return json.loads(r.read())

    def close(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)  # by PID: the server stops on SIGTERM
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            if f is not None:
                f.close()
        shutil.rmtree(self.state, ignore_errors=True)


class Endpoint:
    """One counted client-credentials endpoint of a ScriptedServer (client c1, secret s1)."""

    def __init__(self, server: ScriptedServer, mode: str, counter: str) -> None:
        self.server, self.mode, self.counter = server, mode, counter
        # The endpoint's base: also an issuer whose discovery document names token_url.
        self.url = f"{server.url}/mode/{mode}/{counter}"
        self.token_url = self.url + "/token"

    def as_mode(self, mode: str) -> "Endpoint":
        """The same counter, answered by another mode (e.g. kc-2s: 2 s tokens)."""
        return Endpoint(self.server, mode, self.counter)

    def fault_url(self, fault: str) -> str:
        return self.server.fault_url(fault)

    @property
    def count(self) -> int:
        """Token requests this endpoint's counter has seen."""
        return self.server.stats(self.counter)["requests"]

    def reset(self) -> int:
        """The count so far, then zero."""
        return self.server.stats(self.counter, reset=True)["requests"]
