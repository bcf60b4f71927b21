#!/usr/bin/env python3
"""The fault matrix's CLI column (issue #7): `tokenward token` against every fault of
tests/faults/faults.tsv, served by the scripted loopback server every binding shares
(tests/faults/server.py, started here and stopped by its PID).

    tests/cli/faults.py PATH/TO/tokenward

For each fault, one check: `tokenward token --json` exits 4 (network or server trouble) within
the timeout (`--timeout 1`, plus 1 s grace, process start included), prints nothing on stdout,
and on stderr one JSON error object without the secret whose `code` is the expected core
error.

The CLI has no token cache (each run is a new process that asks the server once), so the
matrix's "token kept" cell is n/a. Writes .tw-state/fault-matrix/cli.tsv (format:
tests/faults/README.md; $TW_FAULT_MATRIX_DIR overrides the directory); ends with
`faults: N passed, M failed` and exits 1 on any failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.dont_write_bytecode = True  # no __pycache__ in the tree from importing server.py
sys.path.insert(0, os.path.join(REPO, "tests", "faults"))
from server import load_faults  # noqa: E402

TIMEOUT_MS = 1000
GRACE_MS = 1000
SECRET = "fault-matrix-secret"
NETWORK_EXIT = 4  # bindings/cli/src/exit.rs: network, timeout or server error
NO_CACHE = "no token cache: each `tokenward token` is a new process that asks the server once"


def error_of(stderr: str) -> dict:
    """The `error` object of a `--json` failure, or {} when stderr is not exactly one."""
    try:
        e = json.loads(stderr).get("error")
    except (ValueError, AttributeError):
        return {}
    return e if isinstance(e, dict) and len(stderr.strip().splitlines()) == 1 else {}


def main() -> int:
    if len(sys.argv) != 2 or not os.access(sys.argv[1], os.X_OK):
        sys.exit("usage: tests/cli/faults.py PATH/TO/tokenward (an executable)")
    exe = sys.argv[1]
    outdir = os.environ.get("TW_FAULT_MATRIX_DIR") or os.path.join(REPO, ".tw-state", "fault-matrix")
    os.makedirs(outdir, exist_ok=True)
    out = os.path.join(outdir, "cli.tsv")
    if os.path.exists(out):
        os.remove(out)  # no stale column if this run dies

    scratch = tempfile.mkdtemp(prefix="tw-fault-matrix-cli-")
    server = subprocess.Popen(
        [sys.executable, os.path.join(REPO, "tests", "faults", "server.py"), "--state", scratch],
        stdout=subprocess.PIPE, text=True,
    )
    assert server.stdout is not None
    url = server.stdout.readline().strip()
    # Only what the command needs: no TOKENWARD_* from the caller, no profile file.
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOKENWARD_")}
    env.update(HOME=scratch, TW_FAULT_SECRET=SECRET)
    passed = failed = 0
    lines = [
        "# tokenward fault matrix v1: cli (tests/cli/faults.py, `tokenward token`)",
        "fault\treported\tcode\telapsed_ms\ttimeout_ms\tin_time\tkept\tresult\tnote",
    ]
    try:
        for fault, (expect, _label) in load_faults().items():
            cmd = [exe, "token", "--token-url", f"{url}/fault/{fault}/token", "--client-id", "svc",
                   "--client-secret-env", "TW_FAULT_SECRET", "--timeout", str(TIMEOUT_MS // 1000), "--json"]
            start = time.monotonic()
            try:
                p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=30)
                rc, stdout, stderr = p.returncode, p.stdout, p.stderr
            except subprocess.TimeoutExpired:
                rc, stdout, stderr = -999, "", "hung: killed after 30 s"
            elapsed = int((time.monotonic() - start) * 1000)
            error = error_of(stderr)
            code = str(error.get("code", "unknown"))
            in_time = elapsed <= TIMEOUT_MS + GRACE_MS
            why = []
            if rc != NETWORK_EXIT:
                why.append(f"exit {rc}, want {NETWORK_EXIT}" + (" (killed by a signal)" if rc < 0 else ""))
            if code != expect:
                why.append(f"error code {code}, want {expect}")
            if not in_time:
                why.append(f"{elapsed} ms")
            if stdout:
                why.append("printed something on stdout")
            if not error or error.get("exit") != NETWORK_EXIT or not error.get("message"):
                why.append("stderr is not one JSON error object with exit and message")
            if SECRET in stdout + stderr:
                why.append("the secret is in the output")
            ok = not why
            reported = f"exit {rc}" if rc >= 0 else f"signal {-rc}"
            print(f"{'ok  ' if ok else 'FAIL'} {fault}: {reported}, {code}, {elapsed} ms"
                  + ("" if ok else f": {'; '.join(why)}\n     stderr: {stderr.strip()[:300]}"))
            passed, failed = passed + ok, failed + (not ok)
            lines.append("\t".join([fault, reported, code, str(elapsed), str(TIMEOUT_MS), "yes" if in_time else "no",
                                    "n-a", "pass" if ok else "fail", NO_CACHE]))
    finally:
        os.kill(server.pid, 15)
        server.wait(10)
        shutil.rmtree(scratch, ignore_errors=True)
    with open(out + ".tmp", "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(out + ".tmp", out)
    print(f"faults: {passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
