"""The fault matrix's Python column (issue #7): every fault of tests/faults/faults.tsv from the
scripted loopback server every binding shares (tests/faults/server.py, started here as a child
process and stopped by its PID), through `Client.token()`.

For each fault, two tests:
- a fresh client's first `token()` raises the fault's exception class within the timeout (1 s,
  plus 1 s grace), with no secret in its `str` or `repr`;
- a client holding a valid token (8 s, renewed 4 s before expiry) keeps returning that token,
  never raising, through a renewal that meets the fault, checked after the server saw the
  failing exchange end (the session's stats file says done>=1).

Everything runs once, in a module fixture (the renewals of all faults at once, one thread each),
which writes .tw-state/fault-matrix/python.tsv (format: tests/faults/README.md;
$TW_FAULT_MATRIX_DIR overrides the directory) before the tests judge the rows.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from typing import Dict, Iterator, List, Tuple

import pytest

import tokenward

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SERVER = os.path.join(REPO, "tests", "faults", "server.py")
TIMEOUT_MS = 1000
GRACE_MS = 1000
LIFETIME = 8.0  # the valid token's expires_in (the server's --lifetime)
MARGIN = 4.0  # renewed this long before expiry
SECRET = "fault-matrix-secret"


def load_faults() -> List[Tuple[str, str]]:
    """(fault, expected code) from tests/faults/faults.tsv, in table order."""
    with open(os.path.join(REPO, "tests", "faults", "faults.tsv"), encoding="utf-8") as f:
        rows = [l.rstrip("\n").split("\t") for l in f if l.strip() and not l.startswith("#")]
    return [(r[0], r[1]) for r in rows[1:]]


FAULTS = load_faults()


@dataclass
class Row:
    fault: str
    expect: str
    reported: str = ""
    code: str = ""
    elapsed_ms: int = 0
    message: str = ""
    kept: bool = False
    note: str = ""

    @property
    def in_time(self) -> bool:
        return self.elapsed_ms <= TIMEOUT_MS + GRACE_MS

    @property
    def typed(self) -> bool:
        return self.code == self.expect and self.in_time and SECRET not in self.message


class FaultServer:
    def __init__(self) -> None:
        self.state = tempfile.mkdtemp(prefix="tw-fault-matrix-python-")
        self.proc = subprocess.Popen(
            [sys.executable, SERVER, "--state", self.state, "--lifetime", str(int(LIFETIME))],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()
        assert self.url.startswith("http://127.0.0.1:"), self.url

    def stats(self, session: str) -> Tuple[int, int]:
        try:
            with open(os.path.join(self.state, f"{session}.stats"), encoding="ascii") as f:
                kv = dict(p.split("=", 1) for p in f.read().split())
            return int(kv["requests"]), int(kv["done"])
        except (OSError, KeyError, ValueError):
            return 0, 0

    def stop(self) -> None:
        os.kill(self.proc.pid, 15)  # by PID: the server stops on SIGTERM
        self.proc.wait(10)
        import shutil

        shutil.rmtree(self.state, ignore_errors=True)


def client(url: str) -> tokenward.Client:
    return tokenward.Client.from_token_url(
        url, client_id="svc", client_secret=SECRET, timeout=TIMEOUT_MS / 1000, refresh_margin=MARGIN
    )


def direct(server: FaultServer, row: Row) -> None:
    with client(f"{server.url}/fault/{row.fault}/token") as c:
        start = time.monotonic()
        try:
            c.token()
            row.reported, row.code = "no exception", "none"
        except tokenward.TokenwardError as e:
            row.reported, row.code, row.message = type(e).__name__, e.code, f"{e} {e!r}"
        except Exception as e:  # noqa: BLE001 - anything untyped is the failure being looked for
            row.reported, row.code, row.message = type(e).__name__, "untyped", str(e)
        row.elapsed_ms = int((time.monotonic() - start) * 1000)


def kept(server: FaultServer, row: Row) -> None:
    session = f"python-{os.getpid()}-{row.fault}"
    want = f"tw-fault-first-{session}"
    c = client(f"{server.url}/renew/{row.fault}/{session}/token")
    try:
        t0 = time.monotonic()
        try:
            first = c.token()
        except tokenward.TokenwardError as e:
            row.note = f"the first token failed: {e.code}"
            return
        if first != want:
            row.note = "the first token is not the server's"
            return
        valid_until = t0 + LIFETIME - 0.5  # its clock started when the request left
        calls, done_at = 0, None
        while True:
            now = time.monotonic()
            requests, done = server.stats(session)
            if now >= valid_until:
                row.note = f"no failed renewal seen before expiry (requests={requests} done={done})"
                return
            try:
                t = c.token()
            except tokenward.TokenwardError as e:
                row.note = f"a call raised {type(e).__name__} while the token was valid"
                return
            if t != want:
                row.note = "the cache handed out another token"
                return
            calls += 1
            if done >= 1:
                done_at = done_at or now
                if now - done_at >= 0.3:
                    row.kept, row.note = True, f"{calls} calls, {requests - 1} renewal(s) failed"
                    return
            time.sleep(0.05)
    finally:
        c.close()


def out_path() -> str:
    d = os.environ.get("TW_FAULT_MATRIX_DIR") or os.path.join(REPO, ".tw-state", "fault-matrix")
    os.makedirs(d, exist_ok=True)
    return os.path.join(d, "python.tsv")


@pytest.fixture(scope="module")
def matrix() -> Iterator[Dict[str, Row]]:
    out = out_path()
    if os.path.exists(out):
        os.remove(out)  # no stale column if this run dies
    server = FaultServer()
    try:
        rows = {f: Row(f, e) for f, e in FAULTS}
        for r in rows.values():  # one at a time, so no timing is another's queue
            direct(server, r)
        threads = [threading.Thread(target=kept, args=(server, r)) for r in rows.values()]
        for t in threads:  # each waits out half a token lifetime: all at once
            t.start()
        for t in threads:
            t.join()
    finally:
        server.stop()
    lines = [
        "# tokenward fault matrix v1: python (tests/python/test_faults.py, Client.token)",
        "fault\treported\tcode\telapsed_ms\ttimeout_ms\tin_time\tkept\tresult\tnote",
    ]
    for r in rows.values():
        line = "\t".join([
            r.fault, r.reported, r.code, str(r.elapsed_ms), str(TIMEOUT_MS), "yes" if r.in_time else "no",
            "yes" if r.kept else "no", "pass" if r.typed and r.kept else "fail",
            r.note.replace("\t", " "),
        ])
        print(f"fault matrix python: {line}")
        lines.append(line)
    with open(out + ".tmp", "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(out + ".tmp", out)
    yield rows


def test_the_list_holds_issue_2s_nine_faults() -> None:
    assert len(FAULTS) == 9, FAULTS


@pytest.mark.parametrize("fault", [f for f, _ in FAULTS])
def test_a_typed_error_within_the_timeout(matrix: Dict[str, Row], fault: str) -> None:
    r = matrix[fault]
    assert r.code == r.expect, f"{r.reported} ({r.code}), want {r.expect}: {r.message}"
    assert r.in_time, f"{r.elapsed_ms} ms, timeout {TIMEOUT_MS} ms"
    assert SECRET not in r.message


@pytest.mark.parametrize("fault", [f for f, _ in FAULTS])
def test_the_still_valid_token_is_kept(matrix: Dict[str, Row], fault: str) -> None:
    r = matrix[fault]
    assert r.kept, r.note
