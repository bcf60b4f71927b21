"""The exception hierarchy: one class per error code of the core (the same numbers and names in
every binding), grouped in families, all under `TokenwardError`.

    TokenwardError
    ├── ConfigError (ValueError)               config            1
    │   └── InsecureUrlError                   insecure_url      2
    ├── NetworkError (OSError)
    │   ├── TransportError (ConnectionError)   transport         3
    │   └── RequestTimeoutError (TimeoutError) timeout           4
    ├── ServerError                            (the server answered, not as hoped)
    │   ├── HttpError                          http              5
    │   ├── OAuthError                         oauth             6
    │   ├── ApiError                           api               7
    │   └── InvalidResponseError               invalid_response  8
    ├── LoginError
    │   ├── StateMismatchError                 state_mismatch    9
    │   ├── IssuerMismatchError                issuer_mismatch  10
    │   └── LoginRequiredError                 login_required   12
    ├── MissingClaimError                      missing_claim    11
    ├── InvalidTokenError                      invalid_token    13
    └── InterfaceError                         the C interface's own (100+): a bug
        └── PanicError                         panic           103

Every exception carries `.code` (the stable name, e.g. "oauth"), `.number` (the C result
code), `.message`, and when the server said so `.error` / `.error_description` (OAuth's, or an
API's `code` / `message`) and `.status` (HTTP). No message holds a secret or a whole token.
"""

from __future__ import annotations

import builtins
from typing import Any, Dict, Optional, Tuple, Type


class TokenwardError(Exception):
    """Base class of every tokenward error."""

    code: str = "unknown"
    number: int = -1

    def __init__(
        self,
        message: str,
        *,
        code: Optional[str] = None,
        number: Optional[int] = None,
        error: Optional[str] = None,
        error_description: Optional[str] = None,
        status: Optional[int] = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if number is not None:
            self.number = number
        self.error = error
        self.error_description = error_description
        self.status = status

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        parts = [repr(self.message)]
        for k in ("error", "status"):
            v = getattr(self, k)
            if v is not None:
                parts.append(f"{k}={v!r}")
        return f"{type(self).__name__}({', '.join(parts)})"

    def __reduce__(self) -> Tuple[Any, ...]:  # picklable (multiprocessing, logging handlers)
        return (
            _rebuild,
            (
                type(self),
                self.message,
                self.code,
                self.number,
                self.error,
                self.error_description,
                self.status,
            ),
        )


def _rebuild(cls, message, code, number, error, error_description, status):  # type: ignore[no-untyped-def]
    return cls(
        message,
        code=code,
        number=number,
        error=error,
        error_description=error_description,
        status=status,
    )


class ConfigError(TokenwardError, ValueError):
    """The configuration or an argument's value is wrong; the message names what to fix."""

    code, number = "config", 1


class InsecureUrlError(ConfigError):
    """A plain http:// URL that is not loopback; use https."""

    code, number = "insecure_url", 2


class NetworkError(TokenwardError, OSError):
    """No usable exchange with the server."""

    def __init__(self, message: str, **kw):  # type: ignore[no-untyped-def]
        TokenwardError.__init__(self, message, **kw)

    def __str__(self) -> str:
        return self.message


class TransportError(NetworkError, ConnectionError):
    """The connection failed (refused, reset, DNS, TLS)."""

    code, number = "transport", 3


class RequestTimeoutError(NetworkError, builtins.TimeoutError):
    """No complete answer within the configured timeout."""

    code, number = "timeout", 4


class ServerError(TokenwardError):
    """The server answered, but not with what was asked for."""


class HttpError(ServerError):
    """An unexpected HTTP answer that is not an OAuth error (a 5xx, a 429, an HTML page)."""

    code, number = "http", 5


class OAuthError(ServerError):
    """The authorization server refused: `.error` is OAuth's code (`invalid_client`,
    `invalid_scope`, `invalid_grant`, ...), `.error_description` the server's text."""

    code, number = "oauth", 6


class ApiError(ServerError):
    """A resource API refused the token (e.g. Docbyte's `{"message": null, "code":
    "NOT_AUTHORIZED"}`): `.error` is the API's `code`, `.error_description` its `message`,
    `.status` the HTTP status; `.response` the HTTP library's response, when there is one."""

    code, number = "api", 7
    response: object = None


class InvalidResponseError(ServerError):
    """A success status whose body is not usable (truncated, no access_token, too large)."""

    code, number = "invalid_response", 8


class LoginError(TokenwardError):
    """A login cannot go on."""


class StateMismatchError(LoginError):
    """The callback's `state` is not the one this login sent."""

    code, number = "state_mismatch", 9


class IssuerMismatchError(LoginError):
    """The callback's or discovery document's issuer is not the expected one."""

    code, number = "issuer_mismatch", 10


class MissingClaimError(TokenwardError):
    """The access token lacks a claim the client requires (`required_claims`)."""

    code, number = "missing_claim", 11


class LoginRequiredError(LoginError):
    """No new token can be had without the user: start a new login."""

    code, number = "login_required", 12


class InvalidTokenError(TokenwardError):
    """A signed token failed verification (signature, key, issuer, audience, lifetime, type):
    the message says which rule and what to check."""

    code, number = "invalid_token", 13


class InterfaceError(TokenwardError):
    """An error of the C interface itself (100 and up): a bug in tokenward's Python binding or
    library; please report it."""


class PanicError(InterfaceError):
    """A bug inside the library was caught before it could crash the process."""

    code, number = "panic", 103


_BY_NUMBER: Dict[int, Type[TokenwardError]] = {
    cls.number: cls
    for cls in (
        ConfigError,
        InsecureUrlError,
        TransportError,
        RequestTimeoutError,
        HttpError,
        OAuthError,
        ApiError,
        InvalidResponseError,
        StateMismatchError,
        IssuerMismatchError,
        MissingClaimError,
        LoginRequiredError,
        InvalidTokenError,
        PanicError,
    )
}


def error_for(
    number: int,
    name: str,
    message: str,
    *,
    error: Optional[str] = None,
    error_description: Optional[str] = None,
    status: Optional[int] = None,
) -> TokenwardError:
    cls = _BY_NUMBER.get(number, InterfaceError)
    return cls(
        message or f"tokenward call failed ({name})",
        code=name,
        number=number,
        error=error,
        error_description=error_description,
        status=status,
    )
