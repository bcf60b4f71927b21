#!/usr/bin/env python3
"""tests/store/fleet.py SECONDS: the shared token store with real processes, a real Keycloak
(TW_KC_ENV; the `rotate` realm) and a real redis-server (started here on a free loopback port
with its own directory, stopped by PID).

- fleet: 8 processes x 4 threads for SECONDS on one key (2 s client-credentials tokens),
  without a store, with the file store and with Redis: token requests for the whole fleet,
  never an expired token handed out.
- rotation: 4 processes share one user session (5 s tokens, refresh-token rotation with reuse
  detection) for SECONDS through Redis and through the file store: 0 invalid_grant.
- faults: the lock holder killed (-9) mid-renewal; Redis stopped and restarted mid-run; a
  corrupt file entry; a store file of mode 0644.

Every process is core/examples/store_fleet.rs; it counts the token requests it sent (the
client's on_token hook) and checks every token it was handed against the JWT's exp.
Prints the figures and a last line `N passed, M failed`.
"""

import fcntl
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "keycloak"))
from kc_client import read_env  # noqa: E402  (the harness's env file, read one way)
SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 10.0
# rotate-service's tokens say 2 s; the JWT's whole-second iat/exp leave 1 s the client may count on.
TOKEN_LIFETIME = 1.0
results = []


def env_file():
    path = os.environ.get("TW_KC_ENV")
    if not path:
        sys.exit("TW_KC_ENV is not set (tests/keycloak/start STATE; export TW_KC_ENV=STATE/env)")
    env = read_env(path)
    if "rotate" not in env.get("KC_REALMS", "").split(","):
        sys.exit(f"the Keycloak of {path} has no `rotate` realm (tests/keycloak/rotate-realm.json)")
    return env


KC = env_file()
CHILD_ENV = dict(os.environ, KC_URL=KC["KC_URL"], TW_FLEET_REALM="rotate",
                 TW_FLEET_SECRET=KC["TW_VION_SHORT_SERVICE_SECRET"])


def check(name, ok, detail=""):
    results.append((name, ok))
    print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}", flush=True)


def build():
    subprocess.run(["cargo", "build", "-q", "--release", "-p", "tokenward", "--features", "redis",
                    "--example", "store_fleet"], cwd=ROOT, check=True)
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    return os.path.join(target, "release", "examples", "store_fleet")


BIN = build()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Redis:
    def __init__(self, port=None):
        self.port = port or free_port()
        self.dir = tempfile.mkdtemp(prefix="tw-redis-")
        self.proc = None
        self.start()

    def start(self):
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
             "--save", "", "--appendonly", "no", "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                if time.time() > deadline:
                    raise RuntimeError("redis-server did not start")
                time.sleep(0.02)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def cli(self, *args):
        return subprocess.run(["redis-cli", "-p", str(self.port), *args], capture_output=True,
                              text=True).stdout.strip()

    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def spawn(store, threads, seconds, user=False, seed=None, extra_env=None):
    args = [BIN, "--store", store, "--threads", str(threads), "--seconds", str(seconds)]
    if user:
        args += ["--user"]
        if seed:
            args += ["--seed-env", "TW_FLEET_RT"]
    else:
        args += ["--client", "rotate-service", "--secret-env", "TW_FLEET_SECRET"]
    env = dict(CHILD_ENV, **(extra_env or {}))
    return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def collect(procs):
    out = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=SECONDS + 120)
        line = stdout.strip().splitlines()[-1] if stdout.strip() else "{}"
        try:
            r = json.loads(line)
        except ValueError:
            r = {"requests": 0, "errors": 1, "expired": 0, "invalid_grant": 0,
                 "first_error": f"exit {p.returncode}: {stderr[-500:]}"}
        r["stderr"] = stderr
        r["rc"] = p.returncode
        out.append(r)
    return out


def total(rs, k):
    return sum(r.get(k, 0) for r in rs)


def fleet(store, label, procs=8, threads=4, seconds=None):
    seconds = seconds or SECONDS
    rs = collect([spawn(store, threads, seconds) for _ in range(procs)])
    return rs


def password_grant():
    body = urllib.parse.urlencode({
        "grant_type": "password", "client_id": "rotate-cli", "username": "rotate-user",
        "password": KC["TW_VION_USER_PASSWORD"], "scope": "openid"}).encode()
    url = f"{KC['KC_URL']}/realms/rotate/protocol/openid-connect/token"
    with urllib.request.urlopen(urllib.request.Request(url, data=body), timeout=10) as r:
        return json.load(r)["refresh_token"]


def fleet_suite():
    # The ideal: one request per token lifetime less the renewal margin (10 %), plus the first.
    ideal = SECONDS / (TOKEN_LIFETIME * 0.9) + 1
    figures = {}
    rs = fleet("memory", "no store")
    per = [r.get("requests", 0) for r in rs]
    figures["none"] = total(rs, "requests")
    check("fleet without a store: every token valid, no error",
          total(rs, "expired") == 0 and total(rs, "errors") == 0,
          f"{figures['none']} token requests ({per} per process; ideal for one process {ideal:.0f}), "
          f"{total(rs, 'calls')} calls, {total(rs, 'expired')} expired, "
          f"first error {next((r['first_error'] for r in rs if r.get('first_error')), None)}")

    d = tempfile.mkdtemp(prefix="tw-store-")
    try:
        rs = fleet(f"file://{d}/store", "file")
        figures["file"] = total(rs, "requests")
        check("fleet with the file store: requests near the ideal for the whole fleet, no expired token",
              total(rs, "expired") == 0 and total(rs, "errors") == 0 and figures["file"] <= ideal * 1.5 + 2,
              f"{figures['file']} token requests for 8 processes (ideal {ideal:.0f}), "
              f"{total(rs, 'calls')} calls, {total(rs, 'expired')} expired, {total(rs, 'errors')} errors "
              f"{next((r['first_error'] for r in rs if r.get('first_error')), '')}")
    finally:
        shutil.rmtree(d, ignore_errors=True)

    redis = Redis()
    try:
        rs = fleet(redis.url(), "redis")
        figures["redis"] = total(rs, "requests")
        check("fleet with Redis: requests near the ideal for the whole fleet, no expired token",
              total(rs, "expired") == 0 and total(rs, "errors") == 0 and figures["redis"] <= ideal * 1.5 + 2,
              f"{figures['redis']} token requests for 8 processes (ideal {ideal:.0f}), "
              f"{total(rs, 'calls')} calls, {total(rs, 'expired')} expired, {total(rs, 'errors')} errors "
              f"{next((r['first_error'] for r in rs if r.get('first_error')), '')}")
    finally:
        redis.close()
    print("fleet figures (token requests, 8 processes x 4 threads, "
          f"{SECONDS:g} s of 2 s tokens): " + json.dumps(figures), flush=True)
    os.makedirs(os.path.join(ROOT, ".tw-state"), exist_ok=True)
    with open(os.path.join(ROOT, ".tw-state", "store-fleet.json"), "w") as f:
        json.dump({"seconds": SECONDS, "ideal": ideal, **figures}, f)


def rotation(store, label):
    rt = password_grant()
    seeder = spawn(store, 2, SECONDS, user=True, seed=True, extra_env={"TW_FLEET_RT": rt})
    time.sleep(0.5)
    others = [spawn(store, 2, SECONDS, user=True) for _ in range(3)]
    rs = collect([seeder] + others)
    check(f"rotation through {label}: 4 processes, one user session, {SECONDS:g} s of 5 s tokens: 0 invalid_grant",
          total(rs, "invalid_grant") == 0 and total(rs, "errors") == 0 and total(rs, "expired") == 0
          and all(r["rc"] == 0 for r in rs),
          f"{total(rs, 'requests')} refreshes, {total(rs, 'calls')} calls, "
          f"{total(rs, 'invalid_grant')} invalid_grant, {total(rs, 'errors')} errors "
          f"{next((r['first_error'] for r in rs if r.get('first_error')), '')}")


def refresh(rt):
    body = urllib.parse.urlencode({"grant_type": "refresh_token", "client_id": "rotate-cli",
                                   "refresh_token": rt}).encode()
    url = f"{KC['KC_URL']}/realms/rotate/protocol/openid-connect/token"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=body), timeout=10) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:
        return json.load(e)


def rotation_suite():
    # The control: this realm really refuses a spent refresh token (and ends the session).
    rt = password_grant()
    first = refresh(rt)
    again = refresh(rt)
    check("the rotate realm rotates refresh tokens and refuses a reused one",
          "refresh_token" in first and first["refresh_token"] != rt
          and again.get("error") == "invalid_grant", json.dumps(again))
    redis = Redis()
    try:
        rotation(redis.url(), "Redis")
    finally:
        redis.close()
    d = tempfile.mkdtemp(prefix="tw-store-")
    try:
        rotation(f"file://{d}/store", "the file store")
    finally:
        shutil.rmtree(d, ignore_errors=True)


def faults_suite():
    d = tempfile.mkdtemp(prefix="tw-store-")
    store = f"file://{d}/store"
    try:
        # Prime the store: one record, one lock file.
        collect([spawn(store, 1, 0.2)])
        [record] = glob.glob(f"{d}/store/*.json")
        lock = record[:-len(".json")] + ".lock"

        # The lock holder is killed mid-renewal: a process holds the flock (as a renewal does
        # while its request is out) and is killed with -9 a second later. The kernel releases
        # the lock at once; the fleet renews after it, nothing expired is handed out.
        holder = subprocess.Popen([sys.executable, "-c", (
            "import fcntl,sys,time; f=open(sys.argv[1],'a'); fcntl.flock(f, fcntl.LOCK_EX); "
            "print('held', flush=True); time.sleep(600)"), lock], stdout=subprocess.PIPE, text=True)
        holder.stdout.readline()
        procs = [spawn(store, 2, 5) for _ in range(3)]
        time.sleep(1.0)
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
        rs = collect(procs)
        check("kill -9 of the file lock's holder mid-renewal: the others take over, no expired token, no error",
              total(rs, "expired") == 0 and total(rs, "errors") == 0,
              f"{total(rs, 'requests')} requests after the holder died, {total(rs, 'calls')} calls")

        # A corrupt entry: ignored (said once) and overwritten with a good record.
        with open(record, "w") as f:
            f.write('{"v":1,"key":"torn')
        rs = collect([spawn(store, 2, 1)])
        body = open(record).read()
        check("a corrupt file entry is ignored, said once and overwritten",
              total(rs, "errors") == 0 and total(rs, "expired") == 0 and json.loads(body).get("v") == 1
              and "corrupt" in rs[0]["stderr"],
              rs[0]["stderr"].strip().splitlines()[0] if rs[0]["stderr"].strip() else "nothing said")

        # A store file others can read: refused with its name and `chmod 600`; the process
        # carries on with its own token and the next write replaces the file with a 0600 one.
        os.chmod(record, 0o644)
        rs = collect([spawn(store, 2, 1)])
        said = rs[0]["stderr"]
        mode = os.stat(record).st_mode & 0o777
        check("a store file of mode 0644 is refused with its name and `chmod 600`; no token lost",
              total(rs, "errors") == 0 and record in said and "chmod 600" in said and mode == 0o600,
              f"mode afterwards {mode:o}; said: {said.strip().splitlines()[0] if said.strip() else ''}")
    finally:
        shutil.rmtree(d, ignore_errors=True)

    # Redis stopped and restarted mid-run: the processes carry on with their own caches, say
    # so once, and use Redis again when it is back.
    redis = Redis()
    try:
        procs = [spawn(redis.url(), 2, 8) for _ in range(4)]
        time.sleep(2)
        redis.stop()
        time.sleep(3)
        redis.start()
        rs = collect(procs)
        said = "".join(r["stderr"] for r in rs)
        back = redis.cli("--scan", "--pattern", "tokenward:*")
        check("Redis stopped and restarted mid-run: no error, no expired token, said once, used again",
              total(rs, "errors") == 0 and total(rs, "expired") == 0 and "failed" in said
              and "is back" in said and back != "",
              f"{total(rs, 'requests')} requests by 4 processes in 8 s (3 s without Redis); "
              f"records after the restart: {len(back.split())}")

        # A Redis lock holder that dies: its lock expires (PX) and the others take over.
        key = back.split()[0]
        redis.cli("SET", key + ":lock", "dead-holder", "PX", "1500")
        redis.cli("DEL", key)
        rs = collect([spawn(redis.url(), 2, 4) for _ in range(2)])
        check("a dead Redis lock holder is replaced when its lock expires; no expired token",
              total(rs, "errors") == 0 and total(rs, "expired") == 0,
              f"{total(rs, 'requests')} requests")
    finally:
        redis.close()


suites = sys.argv[2:] or ["fleet", "rotation", "faults"]
for s in suites:
    {"fleet": fleet_suite, "rotation": rotation_suite, "faults": faults_suite}[s]()
passed = sum(1 for _, ok in results if ok)
failed = len(results) - passed
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
