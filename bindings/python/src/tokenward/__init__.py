"""tokenward: an OAuth 2.0 / OpenID Connect client for Keycloak, over libtokenward.

    import tokenward

    with tokenward.Client.keycloak(
        "https://sso.ecoinvent.org", "ecoinvent",
        client_id="my-client", client_secret=secret,
    ) as client:
        headers = {"Authorization": f"Bearer {client.token()}"}

Every protocol decision (caching, renewal, PKCE, error mapping) is made by the Rust core in the
bundled library; this package translates. See `Client` for the constructors and options,
`AsyncClient` for the same client under asyncio (`await client.token()`),
`tokenward.requests_auth.TokenwardAuth` / `tokenward.httpx_auth.TokenwardHttpxAuth` for the
HTTP library adapters (also as `client.requests_auth()` / `client.httpx_auth()`).
"""

from __future__ import annotations

from typing import Any

from ._async import AsyncClient, aiohttp_middleware
from ._client import AuthMethod, Client, ClientClosedError, TokenHook
from ._errors import (
    ApiError,
    ConfigError,
    HttpError,
    InsecureUrlError,
    InterfaceError,
    InvalidResponseError,
    InvalidTokenError,
    IssuerMismatchError,
    LoginError,
    LoginRequiredError,
    MissingClaimError,
    NetworkError,
    OAuthError,
    PanicError,
    RequestTimeoutError,
    ServerError,
    StateMismatchError,
    TokenwardError,
    TransportError,
)
from ._device import DeviceLogin  # issue 17
from ._ffi import version as _library_version
from ._login import Login
from ._options import ClientOptions, EnvOptions, Options
from ._token import TokenInfo

#: The version of the bundled libtokenward (the package is built with it: the same number).
library_version: str = _library_version()
__version__ = library_version


def __getattr__(name: str) -> Any:
    # The adapters import requests / httpx, which this package does not require.
    if name == "TokenwardAuth":
        from .requests_auth import TokenwardAuth

        return TokenwardAuth
    if name == "TokenwardHttpxAuth":
        from .httpx_auth import TokenwardHttpxAuth

        return TokenwardHttpxAuth
    raise AttributeError(f"module 'tokenward' has no attribute {name!r}")


__all__ = [
    "ApiError",
    "AsyncClient",
    "AuthMethod",
    "Client",
    "ClientClosedError",
    "ClientOptions",
    "ConfigError",
    "DeviceLogin",
    "EnvOptions",
    "HttpError",
    "InsecureUrlError",
    "InterfaceError",
    "InvalidResponseError",
    "InvalidTokenError",
    "IssuerMismatchError",
    "Login",
    "LoginError",
    "LoginRequiredError",
    "MissingClaimError",
    "NetworkError",
    "OAuthError",
    "Options",
    "PanicError",
    "RequestTimeoutError",
    "ServerError",
    "StateMismatchError",
    "TokenHook",
    "TokenInfo",
    "TokenwardError",
    "TransportError",
    "aiohttp_middleware",
    "library_version",
]
