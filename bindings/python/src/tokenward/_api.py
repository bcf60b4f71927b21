"""The error an adapter raises when the API refuses the token twice."""

from __future__ import annotations

import json
from typing import Any, Optional

from ._errors import ApiError


def rejected(status: int, body: bytes, content_type: Optional[str], response: Any) -> ApiError:
    """An ApiError for a 401 that survived one renewal, with the API's own `code` / `message`
    when its body is a JSON object (Docbyte: `{"message": null, "code": "NOT_AUTHORIZED"}`).

    The body is only read for these two fields; it is never put in the message (an API may
    echo the request)."""
    code: Optional[str] = None
    message: Optional[str] = None
    if body and (content_type is None or "json" in content_type.lower()):
        try:
            obj = json.loads(body[:65536].decode("utf-8", "replace"))
        except ValueError:
            obj = None
        if isinstance(obj, dict):
            c = obj.get("code", obj.get("error"))
            m = obj.get("message", obj.get("error_description"))
            code = str(c) if isinstance(c, (str, int)) and not isinstance(c, bool) else None
            message = m if isinstance(m, str) else None
    shown = f" {code}" if code else ""
    err = ApiError(
        f"the API refused the token (HTTP {status}{shown}) even after one renewal; check the "
        "client's roles, scopes and required claims (e.g. Docbyte's `tenant`)",
        error=code,
        error_description=message,
        status=status,
    )
    err.response = response
    return err
