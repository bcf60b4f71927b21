"""`Login`: an authorization-code login between the redirect and the callback."""

from __future__ import annotations

import ctypes
from ctypes import c_void_p
from typing import Optional

from . import _ffi
from ._util import text_arg

_F = _ffi.F


class _LoginHandle(c_void_p):
    """Owns a `tw_login *`; freed (and its secrets zeroed) when the last reference goes."""

    def __del__(self) -> None:
        if self.value:
            try:
                _F["tw_login_free"](self)
            except Exception:  # interpreter shutdown
                pass
            self.value = None


class Login:
    """A login in progress: the PKCE verifier, `state` and `nonce` the callback is checked
    against, and the URL to send the user to.

    Native apps keep it in memory; web apps store `to_json()` in the user's server-side
    session and restore it with `Login.from_json()` when the callback arrives. The JSON holds
    secrets: store it only where this user's session alone can read it. `repr()` and `str()`
    show none of it.

    A login is spent by its first callback (`Client.exchange_code`), whatever the outcome;
    after that, finishing it again or `to_json()` raises LoginRequiredError: start a new one.
    """

    __slots__ = ("_h", "_url", "__weakref__")

    def __init__(self, handle: _LoginHandle) -> None:
        self._h: Optional[_LoginHandle] = handle
        raw = _F["tw_login_url"](handle)
        self._url: Optional[str] = raw.decode("utf-8") if raw is not None else None

    @property
    def url(self) -> Optional[str]:
        """The URL to open in the user's browser; None for a login restored with
        `from_json` (its URL was used already)."""
        return self._url

    def to_json(self) -> str:
        """The login's secret state (verifier, state, nonce, redirect URI, issuer) as JSON."""
        return _ffi.call_string(_F["tw_login_to_json"], self._handle()) or ""

    @classmethod
    def from_json(cls, text: str) -> "Login":
        """Restores a login saved with `to_json()`."""
        raw = text_arg(text, "text")
        h = _LoginHandle()
        _ffi.check(_F["tw_login_from_json"](raw, ctypes.byref(h)))
        return cls(h)

    def _handle(self) -> _LoginHandle:
        h = self._h
        if h is None:
            from ._errors import ConfigError

            raise ConfigError("this Login was closed; start a new login")
        return h

    def close(self) -> None:
        """Frees the login's secrets now (otherwise when it is garbage-collected)."""
        self._h = None

    def __enter__(self) -> "Login":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._h is None else ("pending" if self._url else "restored")
        return f"<tokenward.Login {state}>"

    __str__ = __repr__

    def __reduce__(self):  # type: ignore[no-untyped-def]
        raise TypeError("a Login holds secrets and is not picklable; store to_json() instead")
