"""`AsyncClient`: the same client for asyncio (and trio, through anyio), one cache with `Client`.

How a token is served:

- A cache hit is the sync client's view of the library's cache (deadline, generation, token;
  see `Client.token`): read on the event loop, no thread hop, no call into the library, and the
  coroutine returns without suspending.
- A miss (no view, or its deadline passed: the token is due, expired, or missing) is one
  *flight*: the first coroutine starts the library's blocking call in one worker thread (the
  loop's default executor) and every coroutine that misses meanwhile awaits the same asyncio
  future, which the worker completes with `loop.call_soon_threadsafe`. 1,000 coroutines cost
  one thread and, through the library's single-flight, one token request; the worker's call
  leaves a fresh view behind, so the next calls are hits again.
- Waiters await the flight through `asyncio.shield`: a cancelled waiter leaves the flight and
  the other waiters alone. The flight itself cannot be cancelled (it is a call into the
  library); its outcome goes to whoever still waits.

Why a worker thread and not a callback from the library: the library's renewal is already
single-flight across every thread and process sharing the cache, and waiting for it is a
blocking call that releases the GIL. One worker per flight joins that wait with no new ABI, no
callback into Python from a Rust thread (and no loop that may have closed by the time it
fires); the cost, one thread hop per renewal rather than per call, is paid once per token
lifetime.
"""

from __future__ import annotations

import asyncio
import functools
import time
from typing import (
    TYPE_CHECKING,
    Any,
    Awaitable,
    Callable,
    Dict,
    Iterable,
    Mapping,
    Optional,
    Tuple,
    TypeVar,
    Union,
)

from ._client import Client
from ._device import DeviceLogin
from ._login import Login
from ._token import TokenInfo

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from ._options import ClientOptions, EnvOptions

T = TypeVar("T")
_monotonic = time.monotonic  # the clock of Client's view (seconds)


def _consume(f: "asyncio.Future[Any]") -> None:
    # A flight whose waiters were all cancelled: its exception was seen (by nobody) on purpose.
    if not f.cancelled():
        f.exception()


class AsyncClient:
    """An OAuth 2.0 / OpenID Connect client for asyncio (or trio, with anyio installed).

    The constructors and keyword options are `Client`'s (`AsyncClient.keycloak(...)`,
    `from_token_url`, `from_template`; `await AsyncClient.from_issuer(...)` and
    `await AsyncClient.from_env(...)`, which may do I/O), and `AsyncClient(client)` wraps a
    `Client` you already have: both then share one token cache. Calls that may do I/O are
    coroutines; `await client.token()` returns a cached token without leaving the event loop.
    Use it as `async with` (or `with`), or call `close()`.
    """

    __slots__ = ("_c", "_flights", "_aflights", "__weakref__")
    _c: Client
    #: In-flight asyncio calls by key ("token", or ("rejected", token)): one future each.
    _flights: Dict[Any, "asyncio.Future[Any]"]
    #: The same for other async libraries (trio through anyio): (event, outcome box).
    _aflights: Dict[Any, Tuple[Any, list]]  # type: ignore[type-arg]

    def __init__(self, client: Client) -> None:
        if not isinstance(client, Client):
            raise TypeError(
                f"AsyncClient(client) wraps a tokenward.Client, not {type(client).__name__}; "
                "or use AsyncClient.keycloak(), .from_token_url(), .from_template(), "
                "await .from_issuer() or await .from_env()"
            )
        self._c = client
        self._flights = {}
        self._aflights = {}

    # --- construction (Client's constructors; those that may do I/O are coroutines) -------

    @classmethod
    def keycloak(cls, base_url: str, realm: str, **options: Unpack[ClientOptions]) -> "AsyncClient":
        """`Client.keycloak` for asyncio. No network traffic."""
        return cls(Client.keycloak(base_url, realm, **options))

    @classmethod
    def from_token_url(cls, token_url: str, **options: Unpack[ClientOptions]) -> "AsyncClient":
        """`Client.from_token_url` for asyncio. No network traffic."""
        return cls(Client.from_token_url(token_url, **options))

    @classmethod
    def from_template(
        cls,
        template: str,
        values: Optional[Mapping[str, str]] = None,
        **options: Unpack[ClientOptions],
    ) -> "AsyncClient":
        """`Client.from_template` for asyncio. No network traffic."""
        return cls(Client.from_template(template, values, **options))

    @classmethod
    async def from_issuer(cls, issuer: str, **options: Unpack[ClientOptions]) -> "AsyncClient":
        """`Client.from_issuer` for asyncio: the discovery request runs in a worker thread."""
        return cls(await _in_thread(functools.partial(Client.from_issuer, issuer, **options)))

    @classmethod
    async def from_env(
        cls,
        profile: Optional[str] = None,
        *,
        environ: Optional[Mapping[str, str]] = None,
        **options: Unpack[EnvOptions],
    ) -> "AsyncClient":
        """`Client.from_env` for asyncio (a TOKENWARD_ISSUER is discovered in a worker thread)."""
        make = functools.partial(Client.from_env, profile, environ=environ, **options)
        return cls(await _in_thread(make))

    # --- tokens -------------------------------------------------------------------------

    async def token(self) -> str:
        """A valid access token, as `Client.token()`: a cache hit returns at once, on the event
        loop; otherwise every coroutine asking meanwhile waits for one renewal."""
        view = self._c._view
        if _monotonic() < view[0]:
            return view[2]
        return await self._flight("token", self._c.token)

    async def authorization_header(self) -> str:
        """`"Bearer <token>"` for the Authorization header."""
        return "Bearer " + await self.token()

    async def token_after_rejection(self, rejected: str) -> str:
        """`Client.token_after_rejection`: the API answered 401 to `rejected`; any number of
        coroutines refused the same token share one renewal."""
        return await self._flight(
            ("rejected", rejected), functools.partial(self._c.token_after_rejection, rejected)
        )

    async def _flight(self, key: Any, call: Callable[[], T]) -> T:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return await self._anyio_flight(key, call)
        f = self._flights.get(key)
        if f is None or f.get_loop() is not loop:
            f = loop.create_future()
            f.add_done_callback(_consume)
            self._flights[key] = f
            loop.run_in_executor(None, self._fly, loop, f, key, call)
        result: T = await asyncio.shield(f)
        return result

    def _fly(self, loop: asyncio.AbstractEventLoop, f: "asyncio.Future[Any]", key: Any, call: Callable[[], Any]) -> None:
        """The worker thread: one blocking call, its outcome handed to the loop."""
        try:
            outcome: Tuple[bool, Any] = (True, call())
        except BaseException as e:  # every outcome goes to the waiters, never lost here
            outcome = (False, e)
        try:
            loop.call_soon_threadsafe(self._land, f, key, outcome)
        except RuntimeError:  # the loop closed meanwhile: nobody is left to tell
            pass

    def _land(self, f: "asyncio.Future[Any]", key: Any, outcome: Tuple[bool, Any]) -> None:
        if self._flights.get(key) is f:
            del self._flights[key]
        if f.done():
            return
        ok, value = outcome
        if ok:
            f.set_result(value)
        else:
            f.set_exception(value)

    async def _anyio_flight(self, key: Any, call: Callable[[], T]) -> T:
        """The same flight under another async library (trio), through anyio."""
        try:
            import anyio
            import anyio.to_thread
        except ImportError:
            raise RuntimeError(
                "tokenward.AsyncClient runs under asyncio, or under trio with anyio installed "
                "(pip install anyio)"
            ) from None
        found = self._aflights.get(key)
        if found is not None:
            event, box = found
            await event.wait()  # a cancelled waiter just stops waiting
        else:
            event, box = anyio.Event(), []
            self._aflights[key] = (event, box)
            try:
                # Shielded: the call runs to its end and its outcome reaches every waiter even
                # if this coroutine is cancelled (that cancellation is delivered afterwards).
                with anyio.CancelScope(shield=True):
                    try:
                        box.append((True, await anyio.to_thread.run_sync(call)))
                    except Exception as e:
                        box.append((False, e))
            finally:
                if self._aflights.get(key, (None,))[0] is event:
                    del self._aflights[key]
                event.set()
        if not box:
            raise RuntimeError("tokenward: the token call was interrupted")
        ok, value = box[0]
        if ok:
            out: T = value
            return out
        raise value

    # --- the other calls that may do I/O: one worker thread each ------------------------

    async def token_info(self) -> TokenInfo:
        """`Client.token_info()`."""
        return await _in_thread(self._c.token_info)

    async def claims(self) -> Dict[str, Any]:
        """`Client.claims()`."""
        return await _in_thread(self._c.claims)

    async def refresh(self) -> TokenInfo:
        """`Client.refresh()`."""
        return await _in_thread(self._c.refresh)

    async def resume(self, refresh_token: str) -> TokenInfo:
        """`Client.resume()`."""
        return await _in_thread(functools.partial(self._c.resume, refresh_token))

    async def exchange_code(self, callback_url: str, login: Optional[Login] = None) -> TokenInfo:
        """`Client.exchange_code()`."""
        return await _in_thread(functools.partial(self._c.exchange_code, callback_url, login))

    async def revoke(self, token: Optional[str] = None, *, kind: str = "refresh") -> None:
        """`Client.revoke()`."""
        await _in_thread(functools.partial(self._c.revoke, token, kind=kind))

    async def introspect(self, token: Optional[str] = None, *, kind: str = "access") -> Dict[str, Any]:
        """`Client.introspect()`."""
        return await _in_thread(functools.partial(self._c.introspect, token, kind=kind))

    async def userinfo(self) -> Dict[str, Any]:
        """`Client.userinfo()`."""
        return await _in_thread(self._c.userinfo)

    async def device_login(self, scope: Union[str, Iterable[str], None] = None, *, pkce: bool = False) -> DeviceLogin:
        """`Client.device_login()`; finish it with `await client.device_wait(login)`."""
        return await _in_thread(functools.partial(self._c.device_login, scope, pkce=pkce))

    async def device_wait(self, login: DeviceLogin) -> TokenInfo:
        """`DeviceLogin.wait()` in a worker thread (`login.cancel()` ends it early)."""
        return await _in_thread(login.wait)

    async def exchange_token(
        self,
        subject_token: str,
        audience: Optional[str] = None,
        scope: Union[str, Iterable[str], None] = None,
        *,
        requested_token_type: str = "access_token",
    ) -> TokenInfo:
        """`Client.exchange_token()`."""
        call = functools.partial(
            self._c.exchange_token, subject_token, audience, scope, requested_token_type=requested_token_type
        )
        return await _in_thread(call)

    async def logout(self, refresh_token: Optional[str] = None) -> None:
        """`Client.logout()`."""
        await _in_thread(functools.partial(self._c.logout, refresh_token))

    async def verify_access_token(
        self,
        token: str,
        audience: Optional[str] = None,
        required_claims: Union[str, Iterable[str]] = (),
        required_roles: Union[str, Iterable[str]] = (),
    ) -> Dict[str, Any]:
        """`Client.verify_access_token()` (it may fetch the provider's keys)."""
        call = functools.partial(self._c.verify_access_token, token, audience, required_claims, required_roles)
        return await _in_thread(call)

    # --- no I/O: as Client ----------------------------------------------------------------

    def authorization_url(
        self,
        redirect_uri: Optional[str] = None,
        *,
        scope: Union[str, Iterable[str], None] = None,
        extra: Optional[Mapping[str, str]] = None,
        **extra_params: str,
    ) -> Login:
        """`Client.authorization_url()` (no network traffic)."""
        return self._c.authorization_url(redirect_uri, scope=scope, extra=extra, **extra_params)

    def logout_url(self, post_logout_redirect_uri: Optional[str] = None) -> str:
        """`Client.logout_url()` (no network traffic)."""
        return self._c.logout_url(post_logout_redirect_uri)

    def httpx_auth(self) -> Any:
        """An `httpx.Auth` for `httpx.AsyncClient` (and `httpx.Client`) over this client."""
        from .httpx_auth import TokenwardHttpxAuth

        return TokenwardHttpxAuth(self)

    @property
    def client(self) -> Client:
        """The `Client` this one wraps (the same cache), for code that is not async."""
        return self._c

    @property
    def client_id(self) -> str:
        return self._c.client_id

    @property
    def closed(self) -> bool:
        return self._c.closed

    def close(self) -> None:
        """Closes the wrapped `Client` (see `Client.close`). Idempotent."""
        self._c.close()

    async def aclose(self) -> None:
        self.close()

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    def __enter__(self) -> "AsyncClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return "<tokenward.AsyncClient" + repr(self._c)[len("<tokenward.Client"):]

    __str__ = __repr__

    def __reduce__(self):  # type: ignore[no-untyped-def]
        raise TypeError("a tokenward.AsyncClient cannot be pickled; make one per process")


async def _in_thread(call: Callable[[], T]) -> T:
    """Runs a blocking call in a worker thread: the loop's default executor under asyncio,
    anyio's under another async library."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        import anyio.to_thread

        return await anyio.to_thread.run_sync(call)
    return await loop.run_in_executor(None, call)


def aiohttp_middleware(client: AsyncClient) -> Callable[[Any, Any], Awaitable[Any]]:
    """A client middleware for aiohttp >= 3.12
    (`aiohttp.ClientSession(middlewares=[tokenward.aiohttp_middleware(client)])`): a Bearer
    header from the cache on every request; on a 401, one renewal and one retry."""

    async def middleware(request: Any, handler: Any) -> Any:
        token = await client.token()
        request.headers["Authorization"] = "Bearer " + token
        response = await handler(request)
        if response.status != 401:
            return response
        response.release()
        token = await client.token_after_rejection(token)
        request.headers["Authorization"] = "Bearer " + token
        return await handler(request)

    return middleware


__all__ = ["AsyncClient", "aiohttp_middleware"]
