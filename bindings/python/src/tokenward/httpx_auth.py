"""`httpx` adapter: `httpx.Client(auth=tokenward.httpx_auth.TokenwardHttpxAuth(client))`.

Attaches `Authorization: Bearer <token>` from the client's cache to every request. When the
API answers 401 (Docbyte's `{"message": null, "code": "NOT_AUTHORIZED"}` included), it forces
one renewal and sends the request again once; a second 401 raises `tokenward.ApiError`.
Works with `httpx.Client` and `httpx.AsyncClient` (which runs the library's blocking calls in
a worker thread, so the event loop never waits on a token request).
"""

from __future__ import annotations

import logging
from typing import AsyncGenerator, Generator

import httpx

from ._api import rejected
from ._client import Client

_log = logging.getLogger("tokenward")


class TokenwardHttpxAuth(httpx.Auth):
    """Bearer authentication from a `tokenward.Client`, with one renewal on 401."""

    def __init__(self, client: Client) -> None:
        if not isinstance(client, Client):
            raise TypeError(f"client must be a tokenward.Client, not {type(client).__name__}")
        self.client = client

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
        import anyio.to_thread

        token = await anyio.to_thread.run_sync(self.client.token)
        request.headers["Authorization"] = "Bearer " + token
        response = yield request
        if response.status_code != 401:
            return
        _log.debug("tokenward: the API answered 401; renewing the token and retrying once")
        await response.aread()
        token = await anyio.to_thread.run_sync(self.client.token_after_rejection, token)
        request.headers["Authorization"] = "Bearer " + token
        response = yield request
        if response.status_code == 401:
            await response.aread()
            raise rejected(401, response.content, response.headers.get("WWW-Authenticate"), response)

    def __repr__(self) -> str:
        return f"<tokenward.httpx_auth.TokenwardHttpxAuth {self.client!r}>"


__all__ = ["TokenwardHttpxAuth"]
