"""`Login`: an authorization-code login between the redirect and the callback."""

from __future__ import annotations

from typing import Any, Optional

from . import _ffi
from ._util import text_arg

_F = _ffi.F


#: A `tw_login *` that owns the login: freed (and its secrets zeroed) when the last reference
#: goes (cffi's ffi.gc).
_LoginHandle = Any


def _own(p: Any) -> _LoginHandle:
    return _ffi.ffi.gc(p, _F["tw_login_free"])


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
        self._url: Optional[str] = _ffi.borrowed(_F["tw_login_url"](handle))

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
        out = _ffi.ffi.new("tw_login **")
        _ffi.check(_F["tw_login_from_json"](raw, out))
        return cls(_own(out[0]))

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
