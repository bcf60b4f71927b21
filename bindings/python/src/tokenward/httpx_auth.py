"""`httpx` adapter: `httpx.Client(auth=tokenward.httpx_auth.TokenwardHttpxAuth(client))`.

Attaches `Authorization: Bearer <token>` from the client's cache to every request. When the
API answers 401 (Docbyte's `{"message": null, "code": "NOT_AUTHORIZED"}` included), it forces
one renewal and sends the request again once; a second 401 raises `tokenward.ApiError`.
Works with `httpx.Client` and `httpx.AsyncClient`. The async flow goes through
`tokenward.AsyncClient` (made for you from a `Client`, sharing its cache): a cached token is
read on the event loop, and a renewal is one worker thread however many requests wait for it.
"""

from __future__ import annotations

import logging
from typing import AsyncGenerator, Generator, Union

import httpx

from ._api import rejected
from ._async import AsyncClient
from ._client import Client

_log = logging.getLogger("tokenward")


class TokenwardHttpxAuth(httpx.Auth):
    """Bearer authentication from a `tokenward.Client` or `AsyncClient`, with one renewal on
    401."""

    def __init__(self, client: Union[Client, AsyncClient]) -> None:
        if isinstance(client, AsyncClient):
            self.async_client = client
            self.client = client.client
        elif isinstance(client, Client):
            self.client = client
            self.async_client = AsyncClient(client)
        else:
            raise TypeError(
                f"client must be a tokenward.Client or AsyncClient, not {type(client).__name__}"
            )

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self.client.token()
        request.headers["Authorization"] = "Bearer " + token
        response = yield request
        if response.status_code != 401:
            return
        _log.debug("tokenward: the API answered 401; renewing the token and retrying once")
        response.read()
        token = self.client.token_after_rejection(token)
        request.headers["Authorization"] = "Bearer " + token
        response = yield request
        if response.status_code == 401:
            response.read()
            raise rejected(401, response.content, response.headers.get("WWW-Authenticate"), response)

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        client = self.async_client
        token = await client.token()
        request.headers["Authorization"] = "Bearer " + token
        response = yield request
        if response.status_code != 401:
            return
        _log.debug("tokenward: the API answered 401; renewing the token and retrying once")
        await response.aread()
        token = await client.token_after_rejection(token)
        request.headers["Authorization"] = "Bearer " + token
        response = yield request
        if response.status_code == 401:
            await response.aread()
            raise rejected(401, response.content, response.headers.get("WWW-Authenticate"), response)

    def __repr__(self) -> str:
        return f"<tokenward.httpx_auth.TokenwardHttpxAuth {self.client!r}>"


__all__ = ["TokenwardHttpxAuth"]
