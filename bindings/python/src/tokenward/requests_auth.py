"""`requests` adapter: `session.auth = tokenward.requests_auth.TokenwardAuth(client)`.

Attaches `Authorization: Bearer <token>` from the client's cache to every request. When the
API answers 401 (Docbyte's `{"message": null, "code": "NOT_AUTHORIZED"}` included), it forces
one renewal and sends the request again once; a second 401 raises `tokenward.ApiError`.
Requests whose body is a one-shot stream (a generator or a file object) cannot be sent again:
for those the first 401 is raised.
"""

from __future__ import annotations

import logging
from typing import Any

import requests
from requests.auth import AuthBase

from ._api import rejected
from ._client import Client

_log = logging.getLogger("tokenward")
_RETRIED = "_tokenward_retried"
_TOKEN = "_tokenward_token"


class TokenwardAuth(AuthBase):
    """Bearer authentication from a `tokenward.Client`, with one renewal on 401."""

    def __init__(self, client: Client) -> None:
        if not isinstance(client, Client):
            raise TypeError(f"client must be a tokenward.Client, not {type(client).__name__}")
        self.client = client

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        token = self.client.token()
        r.headers["Authorization"] = "Bearer " + token
        setattr(r, _TOKEN, token)
        if not getattr(r, _RETRIED, False):
            r.register_hook("response", self._on_response)
        return r

    def _on_response(self, resp: requests.Response, **kwargs: Any) -> requests.Response:
        if resp.status_code != 401:
            return resp
        req = resp.request
        if getattr(req, _RETRIED, False) or not _replayable(req):
            raise _error(resp)
        _log.debug("tokenward: the API answered 401; renewing the token and retrying once")
        used = getattr(req, _TOKEN, "")
        new_token = self.client.token_after_rejection(used)
        resp.content  # finish the first response so its connection can be reused
        resp.close()
        prep = req.copy()
        setattr(prep, _RETRIED, True)
        prep.headers["Authorization"] = "Bearer " + new_token
        setattr(prep, _TOKEN, new_token)
        prep.hooks["response"] = [h for h in prep.hooks["response"] if h != self._on_response]
        jar = getattr(prep, "_cookies", None)
        if jar is not None and resp.raw is not None and hasattr(resp.raw, "_original_response"):
            requests.cookies.extract_cookies_to_jar(jar, req, resp.raw)
            prep.prepare_cookies(jar)
        second = resp.connection.send(prep, **kwargs)
        second.history.append(resp)
        second.request = prep
        if second.status_code == 401:
            raise _error(second)
        return second

    def __repr__(self) -> str:
        return f"<tokenward.requests_auth.TokenwardAuth {self.client!r}>"


def _replayable(req: requests.PreparedRequest) -> bool:
    body = req.body
    return body is None or isinstance(body, (bytes, str))


def _error(resp: requests.Response) -> Exception:
    return rejected(resp.status_code, resp.content or b"", resp.headers.get("WWW-Authenticate"), resp)


__all__ = ["TokenwardAuth"]
