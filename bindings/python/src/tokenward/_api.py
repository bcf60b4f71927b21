"""The error an adapter raises when the API refuses the token twice."""

from __future__ import annotations

from typing import Any, Optional

from . import _ffi
from ._errors import ApiError


def rejected(status: int, body: bytes, www_authenticate: Optional[str], response: Any) -> ApiError:
    """An ApiError for a 401 that survived one renewal. The library classifies the response as
    every binding does: the API's own `code` / `message` (Docbyte:
    `{"message": null, "code": "NOT_AUTHORIZED"}`), or an OAuth `error` from the body or the
    `WWW-Authenticate` challenge. The body is never put in the message (an API may echo the
    request)."""
    header = _ffi.NULL if www_authenticate is None else www_authenticate.encode("utf-8", "replace")
    data = _ffi.ffi.from_buffer("uint8_t[]", body)
    found = _ffi.last_error(_ffi.F["tw_api_error"](status, header, data, len(body)))
    code = getattr(found, "error", None)
    shown = f" {code}" if code else ""
    err = ApiError(
        f"the API refused the token (HTTP {status}{shown}) even after one renewal; check the "
        "client's roles, scopes and required claims (e.g. Docbyte's `tenant`)",
        error=code,
        error_description=getattr(found, "error_description", None),
        status=status,
    )
    err.response = response
    return err
