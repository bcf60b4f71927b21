"""tokenward.AsyncClient: cached tokens on the event loop, one flight per renewal, cancellation,
the httpx adapter's async flow, trio through anyio; on the scripted server and on Keycloak."""

from __future__ import annotations

import asyncio
import threading
import time

import httpx
import pytest

import tokenward
from resource_server import ResourceServer


def run(coro):
    return asyncio.run(coro)


def workers() -> int:
    """Threads of the event loop's executor and anyio's (the ones a token call could start);
    the in-process resource server's threads are not counted."""
    return sum(t.name.startswith(("asyncio", "AnyIO")) for t in threading.enumerate())


def test_a_cache_hit_needs_no_thread_and_no_suspension(scripted):
    e = scripted.endpoint("kc")

    async def main():
        async with tokenward.AsyncClient.from_token_url(e.token_url, client_id="c1", client_secret="s1") as c:
            first = await c.token()  # one flight: the token request
            threads = threading.active_count()
            # A hit completes without suspending: driving the coroutine once finishes it.
            coro = c.token()
            with pytest.raises(StopIteration) as done:
                coro.send(None)
            assert done.value.value == first
            for _ in range(10_000):
                assert await c.token() == first
            assert threading.active_count() == threads
            assert (await c.authorization_header()) == "Bearer " + first
            info = await c.token_info()
            assert info.access_token == first and info.expires_in == 3600
        return c

    c = run(main())
    assert c.closed
    assert e.count == 1


def test_a_thousand_coroutines_on_an_expired_token_make_one_request_and_no_threads(scripted):
    e = scripted.endpoint("short")  # 2 s tokens, each answered after 150 ms

    async def main():
        c = tokenward.AsyncClient.from_token_url(e.token_url, client_id="c1", client_secret="s1")
        first = await c.token()
        await asyncio.sleep(0)  # the executor's worker exists from here on
        assert e.count == 1
        await asyncio.sleep(2.2)  # expired: every caller must wait for the renewal
        threads = threading.active_count()
        tokens = await asyncio.gather(*(c.token() for _ in range(1000)))
        after = threading.active_count()
        c.close()
        return first, tokens, threads, after

    first, tokens, threads, after = run(main())
    assert len(set(tokens)) == 1 and tokens[0] != first
    assert e.count == 2, "one token request for 1,000 coroutines"
    assert after <= threads + 1, (threads, after)  # at most the one worker of the flight


def test_cancelling_a_waiter_leaves_the_renewal_and_the_other_waiters_alone(scripted):
    e = scripted.endpoint("slow")  # each answer takes 150 ms

    async def main():
        c = tokenward.AsyncClient.from_token_url(e.token_url, client_id="c1", client_secret="s1")
        tasks = [asyncio.ensure_future(c.token()) for _ in range(50)]
        await asyncio.sleep(0.03)  # all waiting on the flight
        for t in tasks[:25]:
            t.cancel()
        # the first one, which started the flight, is among the cancelled
        done = await asyncio.gather(*tasks, return_exceptions=True)
        cancelled = [d for d in done if isinstance(d, asyncio.CancelledError)]
        got = [d for d in done if isinstance(d, str)]
        assert len(cancelled) == 25 and len(got) == 25 and len(set(got)) == 1
        assert await c.token() == got[0]  # and the flight left its view for the next caller
        c.close()

    run(main())
    assert e.count == 1


def test_errors_reach_every_waiter(scripted):
    e = scripted.endpoint("invalid_client")

    async def main():
        c = tokenward.AsyncClient.from_token_url(e.token_url, client_id="c1", client_secret="s1")
        out = await asyncio.gather(*(c.token() for _ in range(20)), return_exceptions=True)
        c.close()
        return out

    out = run(main())
    assert all(isinstance(x, tokenward.OAuthError) and x.error == "invalid_client" for x in out), out


def test_async_and_sync_share_one_cache(scripted):
    e = scripted.endpoint("kc")
    sync = tokenward.Client.from_token_url(e.token_url, client_id="c1", client_secret="s1")
    t = sync.token()

    async def main():
        a = tokenward.AsyncClient(sync)
        assert await a.token() == t
        info = await a.refresh()
        assert sync.token() == info.access_token != t
        assert await a.token() == info.access_token

    run(main())
    assert e.count == 2
    sync.close()
    with pytest.raises(tokenward.ClientClosedError):
        run(tokenward.AsyncClient(sync).token())


def test_the_herd_of_coroutines_through_expiries_makes_one_request_per_renewal(scripted):
    e = scripted.endpoint("kc-2s")

    async def main():
        c = tokenward.AsyncClient.from_token_url(e.token_url, client_id="c1", client_secret="s1")
        usable = (await c.token_info()).lifetime.total_seconds()
        stop = time.monotonic() + 5.0
        calls = 0

        async def worker():
            nonlocal calls
            while time.monotonic() < stop:
                await c.token()
                calls += 1
                await asyncio.sleep(0.002)

        threads = threading.active_count()
        await asyncio.gather(*(worker() for _ in range(1000)))
        c.close()
        return usable, calls, threading.active_count() - threads

    usable, calls, new_threads = run(main())
    requests = e.count
    print(f"\nasync herd: 1,000 coroutines, {calls} token() calls over 5 s, usable {usable:.2f} s: {requests} token requests")
    assert calls > 10_000
    assert 3 <= requests <= 1 + 5.0 / (usable * 0.9) + 2
    assert new_threads <= 1


def test_under_trio_through_anyio(scripted):
    trio = pytest.importorskip("trio")
    e = scripted.endpoint("short")

    async def main():
        c = tokenward.AsyncClient.from_token_url(e.token_url, client_id="c1", client_secret="s1")
        got = []
        async with trio.open_nursery() as n:
            for _ in range(200):
                n.start_soon(lambda: _append(got, c.token()))
        assert len(got) == 200 and len(set(got)) == 1
        assert await c.token() == got[0]
        c.close()

    async def _append(out, coro):
        out.append(await coro)

    trio.run(main)
    assert e.count == 1


def test_httpx_async_flow_uses_no_thread_per_request(kc):
    api = ResourceServer(kc.url)
    try:

        async def main():
            c = tokenward.AsyncClient.keycloak(
                kc.url, "ecoinvent", client_id="ecoinvent-client", client_secret=kc.secret("ecoinvent-client")
            )
            async with httpx.AsyncClient(auth=c.httpx_auth()) as http:
                r = await http.get(api.url + "/ecoinvent/v0/versions")
                assert r.status_code == 200, r.text
                threads = workers()
                rs = await asyncio.gather(*(http.get(api.url + "/ecoinvent/v0/versions") for _ in range(50)))
                assert all(r.status_code == 200 for r in rs)
                assert workers() == threads
                # the API stops accepting the cached token: 50 requests refused at once share
                # one renewal, and each is retried once with the new token
                first = await c.token()
                api.revoke(first)
                rs = await asyncio.gather(*(http.get(api.url + "/ecoinvent/v0/versions") for _ in range(50)))
                assert all(r.status_code == 200 for r in rs), [r.status_code for r in rs]
                assert await c.token() != first
            c.close()

        run(main())
    finally:
        api.close()


def test_on_keycloak_short_tokens_renew_once_for_all_coroutines(kc, token_log):
    async def main():
        c = tokenward.AsyncClient.keycloak(
            kc.url,
            "ecoinvent",
            client_id="ecoinvent-short",
            client_secret=kc.secret("ecoinvent-short"),
            on_token=token_log,
        )
        first = await c.token()
        await asyncio.sleep(2.1)
        tokens = await asyncio.gather(*(c.token() for _ in range(1000)))
        assert len(set(tokens)) == 1 and tokens[0] != first
        claims = await c.claims()
        assert claims["azp"] == "ecoinvent-short"
        c.close()

    run(main())
    assert len(token_log) == 2


@pytest.mark.parametrize("use", ["asyncio", "anyio-trio"])
def test_from_issuer_discovers_in_a_worker(kc, use):
    async def main():
        c = await tokenward.AsyncClient.from_issuer(
            kc.issuer("vion"), client_id="vion-service", client_secret=kc.secret("vion-service")
        )
        async with c:
            return await c.token()

    if use == "asyncio":
        t = run(main())
    else:
        trio = pytest.importorskip("trio")
        t = trio.run(main)
    assert t.count(".") == 2
