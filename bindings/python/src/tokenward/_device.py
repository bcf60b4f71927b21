"""A device login (RFC 8628) in progress: show the code, wait for the user, or cancel."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from . import _ffi
from ._token import TokenInfo

if TYPE_CHECKING:  # pragma: no cover
    from ._client import Client

_F = _ffi.F


#: A `tw_device *` that owns the login: freed (its device code zeroed) when the last
#: reference goes (cffi's ffi.gc).
_DeviceHandle = Any


def _own(p: Any) -> _DeviceHandle:
    return _ffi.ffi.gc(p, _F["tw_device_free"])


_borrowed = _ffi.borrowed


class DeviceLogin:
    """A device login started by `Client.device_login()`.

    Show the user `user_code` and `verification_uri` (or `verification_uri_complete`, which
    holds the code, e.g. as a QR code), then call `wait()`. The device code itself is a
    secret and never leaves the library; `repr()` shows none of it.
    """

    def __init__(self, client: "Client", handle: _DeviceHandle) -> None:
        self._client = client
        self._h = handle
        self.user_code: str = _borrowed(_F["tw_device_user_code"](handle)) or ""
        self.verification_uri: str = _borrowed(_F["tw_device_verification_uri"](handle)) or ""
        self.verification_uri_complete: Optional[str] = _borrowed(
            _F["tw_device_verification_uri_complete"](handle)
        )
        #: Seconds the codes were good for when the login began.
        self.expires_in: int = int(_F["tw_device_expires_in"](handle))
        #: The polling interval the provider asked for, in seconds.
        self.interval: int = int(_F["tw_device_interval"](handle))

    def wait(self) -> TokenInfo:
        """Blocks until the user approves (the tokens are then cached like a login's and
        renewed with the refresh token), refuses (`OAuthError` with `access_denied`), the codes
        expire (`OAuthError` with `expired_token`) or `cancel()` is called from another thread
        (`LoginRequiredError`). Polls no faster than the provider asks, +5 s per `slow_down`."""
        out = _ffi.ffi.new("tw_token **")
        try:
            _ffi.check(_F["tw_client_device_wait"](self._client._handle(), self._h, out))
        finally:
            self._client._session_changed()
        return TokenInfo._take(out[0])

    def cancel(self) -> None:
        """Makes a running (or later) `wait()` raise `LoginRequiredError` within 0.1 s."""
        _F["tw_device_cancel"](self._h)

    def __repr__(self) -> str:
        return (
            f"DeviceLogin(user_code={self.user_code!r}, verification_uri={self.verification_uri!r}, "
            f"expires_in={self.expires_in}, interval={self.interval})"
        )
