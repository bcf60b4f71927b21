"""tokenward's Python package beside Authlib, requests-oauthlib and msal, on one local HTTPS
token endpoint (tests/faults/server.py --tls, the scripted server, in its own process, behind a
throw-away CA). Run by tests/python/bench.

    cached   one call that returns a valid access token from the library's cache (median)
    cold     a new client object and its first token: one token request (median)
    renew    a new token on a live client (connection reused) (median)
    herd     8 threads x 10,000 calls paced over 6 s, 2 s tokens: token requests made

and under asyncio (wall time per awaited call, median; the event loop's own thread):
    tokenward AsyncClient           await client.token()
    tokenward, thread per call      await anyio.to_thread.run_sync(client.token) (the httpx
                                    adapter's async flow before AsyncClient)
    Authlib AsyncOAuth2Client       await session.ensure_active_token(session.token);
                                    session.token["access_token"] (httpx)
    herd     1,000 coroutines, each asking every 10 ms for 6 s, 2 s tokens: token requests made

What each library's "give me a valid token" is:
    tokenward          client.token()
    Authlib            session.ensure_active_token(); session.token["access_token"]
    requests-oauthlib  session._client.add_token(...) (what each request does), and
                       fetch_token() on TokenExpiredError; session.access_token
    msal               app.acquire_token_for_client(scopes)["access_token"]
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import os
import ssl
import statistics
import sys
import tempfile
import threading
import time
import warnings
from typing import Awaitable, Callable, Dict, List, Optional

os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "0"  # every peer talks https here

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

import tokenward
from scripted import ScriptedServer  # tests/python/scripted.py, beside this file
from tokenward import _ffi

SCOPES = ["api://bench/.default"]
API = "https://api.example/v1/x"


# --- a CA and a certificate for 127.0.0.1 ---------------------------------------------------


def make_certs(directory: str):
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tokenward bench CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_pem = os.path.join(directory, "ca.pem")
    cert_pem = os.path.join(directory, "cert.pem")
    key_pem = os.path.join(directory, "key.pem")
    with open(ca_pem, "wb") as f:
        f.write(ca.public_bytes(serialization.Encoding.PEM))
    with open(cert_pem, "wb") as f:
        f.write(leaf.public_bytes(serialization.Encoding.PEM))
    with open(key_pem, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return ca_pem, cert_pem, key_pem


class RemoteTokenServer:
    """One counted endpoint (/mode/<mode>/bench) of tests/faults/server.py over HTTPS, which runs
    in its own process: it must not compete with the measured code for our GIL."""

    def __init__(self, scripted: ScriptedServer, mode: str) -> None:
        self.endpoint = scripted.endpoint(mode, counter=f"bench-{mode}")
        self.url = self.endpoint.url  # also the issuer whose discovery names token_url (msal's)
        self.token_url = self.endpoint.token_url

    def reset(self) -> int:
        """Token requests since the last reset."""
        return self.endpoint.reset()


# --- the libraries --------------------------------------------------------------------------


class Lib:
    name = ""

    def __init__(self, server: RemoteTokenServer, ca: str) -> None:
        self.server, self.ca = server, ca

    def new(self):  # a fresh client object
        raise NotImplementedError

    def getter(self, client) -> Callable[[], str]:
        raise NotImplementedError

    def renew(self, client) -> None:
        raise NotImplementedError

    def close(self, client) -> None:
        pass


class Tokenward(Lib):
    name = "tokenward"

    def new(self):
        return tokenward.Client.from_token_url(
            self.server.token_url, client_id="c1", client_secret="s1", ca_file=self.ca
        )

    def getter(self, client):
        return client.token

    def renew(self, client):
        client.refresh()

    def close(self, client):
        client.close()


class Authlib(Lib):
    name = "Authlib"

    def new(self):
        from authlib.integrations.requests_client import OAuth2Session

        s = OAuth2Session("c1", "s1", token_endpoint=self.server.token_url, grant_type="client_credentials")
        return https_only_ca(s, self.ca)

    def getter(self, s):
        def get():
            s.ensure_active_token()
            return s.token["access_token"]

        if s.token is None:
            s.fetch_token()
        return get

    def renew(self, s):
        s.fetch_token()

    def close(self, s):
        s.close()


class RequestsOAuthlib(Lib):
    name = "requests-oauthlib"

    def new(self):
        from oauthlib.oauth2 import BackendApplicationClient
        from requests_oauthlib import OAuth2Session

        s = OAuth2Session(client=BackendApplicationClient(client_id="c1"))
        return https_only_ca(s, self.ca)

    def getter(self, s):
        from oauthlib.oauth2 import TokenExpiredError

        url = self.server.token_url

        def get():
            try:
                s._client.add_token(API, http_method="GET", headers={})
            except TokenExpiredError:
                s.fetch_token(token_url=url, client_id="c1", client_secret="s1")
            return s.access_token

        if not s.token:
            s.fetch_token(token_url=url, client_id="c1", client_secret="s1")
        return get

    def renew(self, s):
        s.fetch_token(token_url=self.server.token_url, client_id="c1", client_secret="s1")

    def close(self, s):
        s.close()


class Msal(Lib):
    name = "msal"

    def __init__(self, server, ca):
        super().__init__(server, ca)
        self.http_cache: Dict = {}  # discovery fetched once, as a long-lived app would

    def new(self):
        import msal
        import requests

        return msal.ConfidentialClientApplication(
            "c1", client_credential="s1", oidc_authority=self.server.url,
            http_cache=self.http_cache, http_client=https_only_ca(requests.Session(), self.ca),
        )

    def close(self, app):
        app.http_client.close()

    def getter(self, app):
        def get():
            return app.acquire_token_for_client(scopes=SCOPES)["access_token"]

        get()
        return get

    def renew(self, app):
        app.remove_tokens_for_client()
        r = app.acquire_token_for_client(scopes=SCOPES)
        assert "access_token" in r, r


def https_only_ca(session, ca):
    """Trust only the bench CA (REQUESTS_CA_BUNDLE in the environment would override
    session.verify), as tokenward does with ca_file."""
    session.trust_env = False
    session.verify = ca
    return session


LIBS = [Tokenward, Authlib, RequestsOAuthlib, Msal]


# --- measuring ------------------------------------------------------------------------------


def cached_ns(getters: Dict[str, Callable[[], object]], rounds: int = 21, batch_s: float = 0.02) -> Dict[str, float]:
    """Median time per call, in batches of about `batch_s`, the libraries interleaved round by
    round so that load from the rest of the machine falls on all of them alike. CPU time of
    the calling thread (time.thread_time_ns): no I/O happens on this path, and time the
    scheduler gives to other processes is not counted."""
    sizes = {}
    for name, fn in getters.items():
        n = 1
        while True:
            t0 = time.thread_time_ns()
            for _ in range(n):
                fn()
            if time.thread_time_ns() - t0 > batch_s * 1e9 or n >= 1 << 22:
                break
            n *= 2
        sizes[name] = n
    samples: Dict[str, List[float]] = {name: [] for name in getters}
    for _ in range(rounds):
        for name, fn in getters.items():
            n = sizes[name]
            t0 = time.thread_time_ns()
            for _ in range(n):
                fn()
            samples[name].append((time.thread_time_ns() - t0) / n)
    return {name: statistics.median(v) for name, v in samples.items()}


def herd(lib: Lib, server: RemoteTokenServer, threads=8, calls=10_000, seconds=6.0):
    client = lib.new()
    get = lib.getter(client)
    server.reset()
    errors: List[BaseException] = []
    done = [0] * threads
    barrier = threading.Barrier(threads + 1)
    start_box: List[float] = []

    def worker(i):
        barrier.wait()
        t0 = start_box[0]
        step = seconds / calls
        deadline = t0 + seconds + 1.0
        for k in range(calls):
            now = time.monotonic()
            if now > deadline:
                break
            wait = t0 + k * step - now
            if wait > 0.0002:
                time.sleep(wait)
            try:
                get()
                done[i] += 1
            except BaseException as e:
                errors.append(e)

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in ts:
        t.start()
    start_box.append(time.monotonic())
    barrier.wait()
    for t in ts:
        t.join()
    elapsed = time.monotonic() - start_box[0]
    requests_made = server.reset()
    lib.close(client)
    return requests_made, sum(done), len(errors), elapsed


# --- asyncio --------------------------------------------------------------------------------


class AsyncLib:
    """A library's awaitable "give me a valid token" (made and used inside one event loop)."""

    name = ""

    def __init__(self, server: RemoteTokenServer, ca: str) -> None:
        self.server, self.ca = server, ca

    async def getter(self) -> Callable[[], Awaitable[str]]:
        raise NotImplementedError

    async def close(self) -> None:
        pass


class AsyncTokenward(AsyncLib):
    name = "tokenward AsyncClient"

    async def getter(self):
        self.c = tokenward.AsyncClient.from_token_url(
            self.server.token_url, client_id="c1", client_secret="s1", ca_file=self.ca
        )
        await self.c.token()
        return self.c.token

    async def close(self):
        self.c.close()


class AsyncTokenwardThreadHop(AsyncLib):
    name = "tokenward, thread per call"

    async def getter(self):
        import anyio.to_thread

        self.c = tokenward.Client.from_token_url(
            self.server.token_url, client_id="c1", client_secret="s1", ca_file=self.ca
        )
        c = self.c

        async def get():
            return await anyio.to_thread.run_sync(c.token)

        await get()
        return get

    async def close(self):
        self.c.close()


class AsyncAuthlib(AsyncLib):
    name = "Authlib AsyncOAuth2Client"

    async def getter(self):
        import httpx

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from authlib.integrations.httpx_client import AsyncOAuth2Client

        s = AsyncOAuth2Client(
            "c1", "s1", token_endpoint=self.server.token_url, grant_type="client_credentials",
            verify=ssl.create_default_context(cafile=self.ca), trust_env=False,
        )
        self.s = s
        await s.fetch_token()

        async def get():
            await s.ensure_active_token(s.token)
            return s.token["access_token"]

        await get()
        return get

    async def close(self):
        await self.s.aclose()


ASYNC_LIBS = [AsyncTokenward, AsyncTokenwardThreadHop, AsyncAuthlib]


async def async_cached_ns(getters: Dict[str, Callable[[], Awaitable[str]]], rounds: int, batch_s: float = 0.02) -> Dict[str, float]:
    """cached_ns for coroutines: median wall time per awaited call, in batches, interleaved."""
    sizes = {}
    for name, get in getters.items():
        n = 1
        while True:
            t0 = time.perf_counter_ns()
            for _ in range(n):
                await get()
            if time.perf_counter_ns() - t0 > batch_s * 1e9 or n >= 1 << 22:
                break
            n *= 2
        sizes[name] = n
    samples: Dict[str, List[float]] = {name: [] for name in getters}
    for _ in range(rounds):
        for name, get in getters.items():
            n = sizes[name]
            t0 = time.perf_counter_ns()
            for _ in range(n):
                await get()
            samples[name].append((time.perf_counter_ns() - t0) / n)
    return {name: statistics.median(v) for name, v in samples.items()}


async def async_herd(lib: AsyncLib, server: RemoteTokenServer, coroutines=1000, seconds=6.0, every=0.01):
    get = await lib.getter()
    server.reset()
    done = [0]
    errors: List[BaseException] = []
    threads = threading.active_count()
    stop = time.monotonic() + seconds

    async def worker():
        while time.monotonic() < stop:
            try:
                await get()
                done[0] += 1
            except Exception as e:
                errors.append(e)
            await asyncio.sleep(every)

    await asyncio.gather(*(worker() for _ in range(coroutines)))
    new_threads = threading.active_count() - threads
    requests_made = server.reset()
    await lib.close()
    return requests_made, done[0], len(errors), new_threads


async def async_rows(server, short, ca, quick):
    libs = [cls(server, ca) for cls in ASYNC_LIBS]
    getters = {lib.name: await lib.getter() for lib in libs}
    cached = await async_cached_ns(getters, rounds=11 if quick else 31)
    for lib in libs:
        await lib.close()
    print("  async cached: done", file=sys.stderr, flush=True)
    herds = {}
    for cls in (AsyncTokenward, AsyncAuthlib):
        herds[cls.name] = await async_herd(cls(short, ca), short, seconds=3.0 if quick else 6.0)
        print(f"  async herd {cls.name}: done", file=sys.stderr, flush=True)
    return cached, herds


def print_async(cached, herds, sync_base, quick):
    print()
    head = f"{'asyncio':<27} {'cached token':>13} {'vs AsyncClient':>15} {'herd requests':>14} {'herd calls':>11} {'new threads':>12}"
    print(head)
    print("-" * len(head))
    base = cached[AsyncTokenward.name]
    for name, ns in cached.items():
        h = herds.get(name)
        herd_cols = f"{h[0]:>14,} {h[1]:>11,} {h[3]:>12}" + (f"  ({h[2]} errors)" if h[2] else "") if h else f"{'':>14} {'':>11} {'':>12}"
        print(f"{name:<27} {fmt_ns(ns):>13} {ns / base:>14.1f}x {herd_cols}")
    print()
    print("asyncio cached: wall time per awaited call on the loop's thread, libraries interleaved "
          f"(the sync row above, tokenward's token(): {fmt_ns(sync_base)} CPU)")
    print(f"asyncio herd: 1,000 coroutines on one client, each asking every 10 ms for {3 if quick else 6} s, "
          "2 s tokens; token requests counted at the endpoint; threads started meanwhile")


def main() -> int:
    quick = "--quick" in sys.argv
    rounds_cold = 15 if quick else 41
    with tempfile.TemporaryDirectory() as d:
        ca, cert, key = make_certs(d)
        scripted = ScriptedServer(tls=(cert, key), ca=ca)
        try:
            return run(RemoteTokenServer(scripted, "kc"), RemoteTokenServer(scripted, "kc-2s"), ca, rounds_cold, quick)
        finally:
            scripted.close()


def run(server, short, ca, rounds_cold, quick) -> int:
    libs = [cls(server, ca) for cls in LIBS]
    clients = [lib.new() for lib in libs]
    getters = {lib.name: lib.getter(c) for lib, c in zip(libs, clients)}
    for get in getters.values():
        assert isinstance(get(), str)
    # cffi's own cost on this machine: a call without arguments, and the token call alone.
    s = tokenward._client._Scratch(8192)
    raw = _ffi.raw("tw_client_access_token")
    version = _ffi.raw("tw_version")
    h = clients[0]._h
    getters["(cffi: tw_version())"] = version
    getters["(cffi: tw_client_access_token)"] = lambda: raw(h, s.buf, s.cap, s.plen)
    cached = cached_ns(getters, rounds=11 if quick else 31)
    print("  cached: done", file=sys.stderr, flush=True)

    # Fetches: one sample per library in turn, round after round (wall time: they wait on
    # the endpoint).
    renew_ms: Dict[str, List[float]] = {lib.name: [] for lib in libs}
    cold_ms: Dict[str, List[float]] = {lib.name: [] for lib in libs}
    cold_requests: Dict[str, int] = {lib.name: 0 for lib in libs}
    for _ in range(rounds_cold):
        for lib, client in zip(libs, clients):
            t0 = time.perf_counter_ns()
            lib.renew(client)
            renew_ms[lib.name].append((time.perf_counter_ns() - t0) / 1e6)
        for lib in libs:
            server.reset()
            t0 = time.perf_counter_ns()
            c = lib.new()
            assert lib.getter(c)()
            cold_ms[lib.name].append((time.perf_counter_ns() - t0) / 1e6)
            cold_requests[lib.name] += server.reset()
            lib.close(c)
    for lib, client in zip(libs, clients):
        lib.close(client)
    print("  fetches: done", file=sys.stderr, flush=True)

    rows = []
    for lib in libs:
        h_requests, h_calls, h_errors, _ = herd(type(lib)(short, ca), short, calls=2_000 if quick else 10_000)
        rows.append((
            lib.name,
            cached[lib.name],
            statistics.median(cold_ms[lib.name]),
            cold_requests[lib.name] / rounds_cold,
            statistics.median(renew_ms[lib.name]),
            h_requests,
            h_calls,
            h_errors,
        ))
        print(f"  herd {lib.name}: done", file=sys.stderr, flush=True)

    print()
    print(f"Python {sys.version.split()[0]}, tokenward {tokenward.__version__}; peers: "
          + ", ".join(f"{m} {v}" for m, v in peer_versions().items()))
    print("one local HTTPS token endpoint (127.0.0.1, throw-away CA, its own process); medians")
    print()
    head = (f"{'library':<19} {'cached token':>13} {'vs tokenward':>13} {'cold fetch':>11} "
            f"{'renewal':>9} {'herd requests':>14} {'herd calls':>11}")
    print(head)
    print("-" * len(head))
    base = rows[0][1]
    for name, c_ns, cold_ms, per_cold, renew, hreq, hcalls, herr in rows:
        extra = f"  ({herr} errors)" if herr else ""
        print(
            f"{name:<19} {fmt_ns(c_ns):>13} {c_ns / base:>12.1f}x {cold_ms:>8.2f} ms {renew:>6.2f} ms "
            f"{hreq:>14,} {hcalls:>11,}{extra}"
        )
    print()
    print(f"cffi on this machine: tw_version() {fmt_ns(cached['(cffi: tw_version())'])}, "
          f"tw_client_access_token() alone {fmt_ns(cached['(cffi: tw_client_access_token)'])}")
    print("cached: CPU time per call of the calling thread, libraries interleaved")
    print("cold fetch: a new client object and its first token (token requests per sample: "
          + ", ".join(f"{r[0]} {r[3]:.1f}" for r in rows) + ")")
    print("renewal: a new token on a live client (connection reused); fetches interleaved, wall time")
    print(f"herd: 8 threads x {2_000 if quick else 10_000:,} calls paced over 6 s on one shared client, 2 s tokens; "
          "token requests counted at the endpoint (ideal: one per usable token lifetime)")
    a_cached, a_herds = asyncio.run(async_rows(server, short, ca, quick))
    print_async(a_cached, a_herds, base, quick)
    return 0


def fmt_ns(ns: float) -> str:
    return f"{ns / 1000:.2f} µs" if ns >= 1000 else f"{ns:.0f} ns"


def peer_versions() -> Dict[str, str]:
    from importlib.metadata import version

    return {m: version(m) for m in ("Authlib", "requests-oauthlib", "oauthlib", "msal")}


if __name__ == "__main__":
    sys.exit(main())
