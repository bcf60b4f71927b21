"""The requests, httpx and aiohttp adapters in real calls to a resource server that validates the JWT
against Keycloak's JWKS with PyJWT and answers in each seed API's error shape."""

from __future__ import annotations

import asyncio
import urllib.parse

import aiohttp
import httpx
import pytest
import requests

import tokenward
from resource_server import ResourceServer
from tokenward.httpx_auth import TokenwardHttpxAuth
from tokenward.requests_auth import TokenwardAuth

DOCUMENTS = "/vault/api/v1/documents"


@pytest.fixture(scope="module")
def api(kc):
    server = ResourceServer(kc.url)
    yield server
    server.close()


@pytest.fixture
def vault(kc, token_log):
    u = urllib.parse.urlsplit(kc.url)
    c = tokenward.Client.from_template(
        f"http://{{host}}:{u.port}/realms/{{tenant}}",
        host=u.hostname,
        tenant="acme",
        client_id="vault-service",
        client_secret=kc.secret("vault-service"),
        scope="openid",
        required_claims=["tenant"],
        on_token=token_log,
    )
    yield c
    c.close()


def _start(api, n):
    api.reject(n)
    return len(api.requests)


# --- requests ------------------------------------------------------------------------------


def test_requests_attaches_the_bearer_token(api, vault, token_log):
    s = requests.Session()
    s.auth = vault.requests_auth()
    r = s.get(api.url + DOCUMENTS)
    assert r.status_code == 200 and r.json()["tenant"] == "acme"
    assert api.tokens()[-1] == vault.token()
    assert len(token_log) == 1
    assert isinstance(s.auth, TokenwardAuth)
    assert tokenward.TokenwardAuth is TokenwardAuth


def test_requests_renews_once_on_docbyte_401_and_retries(api, vault, token_log):
    s = requests.Session()
    s.auth = TokenwardAuth(vault)
    s.get(api.url + DOCUMENTS).raise_for_status()
    before = _start(api, 1)  # the API refuses the next token it sees, once
    r = s.post(api.url + DOCUMENTS, data=b"payload")
    assert r.status_code == 200
    sent = api.tokens()[before:]
    assert len(sent) == 2 and sent[0] != sent[1]  # retried once, with a new token
    assert len(token_log) == 2  # exactly one renewal
    assert r.history and r.history[0].status_code == 401


def test_requests_raises_after_the_second_401(api, vault, token_log):
    s = requests.Session()
    s.auth = TokenwardAuth(vault)
    before = _start(api, 2)
    with pytest.raises(tokenward.ApiError) as e:
        s.get(api.url + DOCUMENTS)
    err = e.value
    assert err.status == 401 and err.error == "NOT_AUTHORIZED" and err.error_description is None
    assert err.response is not None and err.response.status_code == 401
    assert len(api.requests) - before == 2
    assert len(token_log) == 2  # the first token, one renewal: no more
    api.reject(0)


def test_requests_token_without_tenant_is_refused_by_vault(api, kc, token_log):
    # No required claim on the client: the API's own 401 after one renewal.
    c = kc.client("vault-notenant", on_token=token_log)
    s = requests.Session()
    s.auth = c.requests_auth()
    with pytest.raises(tokenward.ApiError) as e:
        s.get(api.url + DOCUMENTS)
    assert e.value.error == "NOT_AUTHORIZED"
    assert len(token_log) == 2
    # With the requirement, the client refuses before any request.
    strict = kc.client("vault-notenant", required_claims=["tenant"])
    n = len(api.requests)
    with pytest.raises(tokenward.MissingClaimError):
        requests.get(api.url + DOCUMENTS, auth=strict.requests_auth())
    assert len(api.requests) == n


def test_requests_other_apis(api, kc):
    eco = kc.client("ecoinvent-client")
    r = requests.get(api.url + "/ecoinvent/v0/versions", auth=eco.requests_auth())
    assert r.status_code == 200 and r.json()["azp"] == "ecoinvent-client"
    user = kc.client("iopole-user")
    assert requests.get(api.url + "/iopole/v1/invoices", auth=user.requests_auth()).status_code == 200
    n = len(api.requests)
    r = requests.get(api.url + "/iopole/v1/config/webhooks", auth=user.requests_auth())
    assert r.status_code == 403 and r.json()["code"] == "FORBIDDEN"  # not a token problem
    assert len(api.requests) == n + 1  # no retry on 403
    vion = kc.client("vion-service")
    r = requests.get(api.url + "/vion/Tenant/7/Services", auth=vion.requests_auth())
    assert r.status_code == 200
    # ecoinvent's bearer-challenge 401, twice
    _start(api, 2)
    with pytest.raises(tokenward.ApiError) as e:
        requests.get(api.url + "/ecoinvent/v0/versions", auth=eco.requests_auth())
    assert e.value.error == "invalid_token" and e.value.error_description == "Token is not valid"
    # VION's empty 401
    _start(api, 2)
    with pytest.raises(tokenward.ApiError) as e:
        requests.get(api.url + "/vion/Tenant/7/Services", auth=vion.requests_auth())
    assert e.value.status == 401 and e.value.error is None
    api.reject(0)


def test_many_requests_refused_at_once_cause_one_renewal(api, vault, token_log):
    import threading

    s = requests.Session()
    s.auth = vault.requests_auth()
    s.get(api.url + DOCUMENTS).raise_for_status()
    api.revoke(vault.token())  # the API stops accepting the cached token
    barrier = threading.Barrier(8)
    results = []

    def call():
        barrier.wait()
        results.append(s.get(api.url + DOCUMENTS).status_code)

    ts = [threading.Thread(target=call) for _ in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert results == [200] * 8
    assert len(token_log) == 2  # the first token and exactly one renewal


def test_token_after_rejection_for_other_http_clients(api, vault, token_log):
    first = vault.token()
    api.revoke(first)
    renewed = vault.token_after_rejection(first)
    assert renewed != first and len(token_log) == 2
    # A refusal of the old token that arrives late: the renewed one, no request.
    assert vault.token_after_rejection(first) == renewed and len(token_log) == 2
    assert vault.token() == renewed
    r = requests.get(api.url + DOCUMENTS, headers={"Authorization": f"Bearer {renewed}"})
    assert r.status_code == 200


# --- httpx ---------------------------------------------------------------------------------


def test_httpx_sync_attaches_renews_once_and_raises(api, vault, token_log):
    with httpx.Client(auth=vault.httpx_auth()) as h:
        r = h.get(api.url + DOCUMENTS)
        assert r.status_code == 200 and r.json()["tenant"] == "acme"
        assert len(token_log) == 1
        before = _start(api, 1)
        r = h.post(api.url + DOCUMENTS, content=b"payload")
        assert r.status_code == 200
        sent = api.tokens()[before:]
        assert len(sent) == 2 and sent[0] != sent[1]
        assert len(token_log) == 2
        before = _start(api, 2)
        with pytest.raises(tokenward.ApiError) as e:
            h.get(api.url + DOCUMENTS)
        assert e.value.status == 401 and e.value.error == "NOT_AUTHORIZED"
        assert len(api.requests) - before == 2
        assert len(token_log) == 3
    api.reject(0)
    assert isinstance(vault.httpx_auth(), TokenwardHttpxAuth)


def test_httpx_async(api, vault, token_log):
    async def main():
        async with httpx.AsyncClient(auth=TokenwardHttpxAuth(vault)) as h:
            r = await h.get(api.url + DOCUMENTS)
            assert r.status_code == 200
            before = _start(api, 1)
            r = await h.get(api.url + DOCUMENTS)
            assert r.status_code == 200
            assert len(api.requests) - before == 2
            _start(api, 2)
            with pytest.raises(tokenward.ApiError):
                await h.get(api.url + DOCUMENTS)
            api.reject(0)
            rs = await asyncio.gather(*(h.get(api.url + DOCUMENTS) for _ in range(8)))
            assert all(r.status_code == 200 for r in rs)

    asyncio.run(main())
    assert len(token_log) == 3


# --- aiohttp -------------------------------------------------------------------------------


def test_aiohttp_middleware_attaches_renews_once_and_retries_once(api, vault, token_log):
    async def main():
        client = tokenward.AsyncClient(vault)
        middleware = tokenward.aiohttp_middleware(client)
        async with aiohttp.ClientSession(middlewares=[middleware]) as s:
            async with s.get(api.url + DOCUMENTS) as r:
                assert r.status == 200 and (await r.json())["tenant"] == "acme"
            assert api.tokens()[-1] == await client.token()
            assert len(token_log) == 1
            # One refusal: one renewal, and the request (with its body) sent again once.
            before = _start(api, 1)
            async with s.post(api.url + DOCUMENTS, data=b"payload") as r:
                assert r.status == 200
            sent = api.tokens()[before:]
            assert len(sent) == 2 and sent[0] != sent[1]
            assert len(token_log) == 2
            # Refused again after the renewal: that 401 is the API's answer, handed back.
            before = _start(api, 2)
            async with s.get(api.url + DOCUMENTS) as r:
                assert r.status == 401
            assert len(api.requests) - before == 2
            assert len(token_log) == 3
            api.reject(0)

    asyncio.run(main())


def test_adapters_refuse_a_non_client():
    with pytest.raises(TypeError):
        TokenwardAuth("not a client")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        TokenwardHttpxAuth(object())  # type: ignore[arg-type]
