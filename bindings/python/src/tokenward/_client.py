"""`Client`: one registered client at one provider, with the library's token cache."""

from __future__ import annotations

import atexit
import enum
import logging
import threading
import time
import urllib.parse
import weakref
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, Mapping, Optional, Tuple, Union, overload

from . import _ffi
from ._device import DeviceLogin, _own as _own_device  # issue 17
from ._errors import ConfigError, LoginRequiredError, TokenwardError
from ._login import Login, _own as _own_login
from ._options import OPTION_NAMES
from ._token import TokenInfo
from ._util import (
    bool_arg,
    millis_arg,
    names_arg,
    opt_text_arg,
    path_arg,
    scope_arg,
    text_arg,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from ._options import ClientOptions, EnvOptions

_F = _ffi.F
_C = _ffi.C
_cffi = _ffi.ffi
_log = logging.getLogger("tokenward")


class AuthMethod(str, enum.Enum):
    """How the client authenticates at the token endpoint."""

    AUTO = "auto"  #: client_secret_post when a secret is set, else none
    CLIENT_SECRET_POST = "client_secret_post"  #: id and secret in the form body
    CLIENT_SECRET_BASIC = "client_secret_basic"  #: HTTP Basic
    NONE = "none"  #: a public client (PKCE protects the code)
    PRIVATE_KEY_JWT = "private_key_jwt"  #: a JWT signed with the client's key (issue 17)
    CLIENT_SECRET_JWT = "client_secret_jwt"  #: a JWT signed with HS256 and the secret


_TRUST: Dict[str, int] = {"webpki": _C["TW_TRUST_WEBPKI"], "platform": _C["TW_TRUST_PLATFORM"]}
_KINDS: Dict[str, int] = {
    "access": _C["TW_TOKEN_KIND_ACCESS"],
    "access_token": _C["TW_TOKEN_KIND_ACCESS"],
    "refresh": _C["TW_TOKEN_KIND_REFRESH"],
    "refresh_token": _C["TW_TOKEN_KIND_REFRESH"],
}

TokenHook = Callable[[TokenInfo], None]


class ClientClosedError(ConfigError):
    """A method was called on a closed Client."""

    code, number = "closed", 1


# --- the hot path ---------------------------------------------------------------------------

_access_token = _ffi.raw("tw_client_access_token_view")
_generation = _F["tw_client_generation"]
# Only durations cross the ABI: a view's deadline is this clock read before the call plus the
# library's "fresh for", which holds whatever clock the library reads on this platform.
_monotonic_ns = time.monotonic_ns
# The same clock in float seconds, for the hit path's comparison: a float compares and is freed
# faster than the multi-digit int monotonic_ns() makes (about 10 ns of the ~85 ns a hit costs).
_monotonic = time.monotonic
_TOO_SMALL = _ffi.TW_ERR_BUFFER_TOO_SMALL
_tls = threading.local()

#: A view of the library's cached token: (deadline in time.monotonic() seconds, generation,
#: token).
_NO_VIEW: Tuple[float, int, str] = (0.0, 0, "")
#: Above every generation the library can hand out (a u64): the floor of a closed Client.
_CLOSED = 1 << 64


class _Scratch:
    """A thread's buffer for tw_client_access_token_view (the library copies the token into it)."""

    __slots__ = ("ba", "buf", "cap", "plen", "pfresh", "pgen")

    def __init__(self, size: int) -> None:
        self.ba = bytearray(size)
        self.buf = _cffi.from_buffer("char[]", self.ba)  # writes land in self.ba
        self.cap = size
        self.plen = _cffi.new("size_t *")
        self.pfresh = _cffi.new("uint64_t *")
        self.pgen = _cffi.new("uint64_t *")


def _scratch(size: int = 4096) -> _Scratch:
    s = _Scratch(size)
    _tls.s = s
    return s


#: A `tw_client *` that owns the client (cffi's ffi.gc), and through its destructor the token
#: hook the client calls.
#:
#: The library must not free a client while another thread uses it. `Client.close()` drops
#: the Client's reference to this handle; a call running in another thread holds its own
#: reference until it returns, so the client is freed (by `_free_client`) when the last user
#: is done.
_ClientHandle = Any


def _free_client(p: Any, hook: Any) -> None:
    if getattr(_tls, "in_hook", 0):
        # Dropped inside a token hook (its last reference, or a garbage collection that ran
        # there): tw_client_free waits for running hooks, this one included, so it must run on
        # another thread. It returns once this hook has returned.
        threading.Thread(
            target=_free_client, args=(p, hook), name="tokenward-free", daemon=True
        ).start()
        return
    try:
        _F["tw_client_free"](p)
    except Exception:  # interpreter shutdown
        pass


def _own_client(p: Any, hook: Any) -> _ClientHandle:
    return _cffi.gc(p, lambda p: _free_client(p, hook))


def _safe_url(url: str) -> str:
    """A URL for repr(): without user info, query or fragment."""
    try:
        p = urllib.parse.urlsplit(url)
        host = p.hostname or ""
        if p.port:
            host = f"{host}:{p.port}"
        return urllib.parse.urlunsplit((p.scheme, host, p.path, "", ""))
    except ValueError:
        return "<unreadable URL>"


class _Options:
    """A `tw_options` filled from keyword arguments; freed on exit."""

    def __init__(self, client_id: Any, kw: Dict[str, Any]) -> None:
        out = _cffi.new("tw_options **")
        self.hook: Any = None
        _ffi.check(_F["tw_options_new"](text_arg(client_id, "client_id"), out))
        self.ptr: Any = out[0]
        try:
            self._apply(kw)
        except BaseException:
            self.close()
            raise

    def _set(self, fn: str, *args: Any) -> None:
        _ffi.check(_F[fn](self.ptr, *args))

    def _apply(self, kw: Dict[str, Any]) -> None:
        secret = kw.pop("client_secret", None)
        if secret is not None:
            self._set("tw_options_set_secret", text_arg(secret, "client_secret", secret=True))
        method = kw.pop("auth_method", None)
        if method is not None:
            # The library parses the name (the same names and message in every binding).
            name = method.value if isinstance(method, AuthMethod) else method
            if not isinstance(name, str):
                raise TypeError(f"auth_method must be a str or AuthMethod, not {type(method).__name__}")
            self._set("tw_options_set_auth_method_name", text_arg(name, "auth_method"))
        # issue 17: private_key_jwt's key, from a PEM file or PEM text, and its kid.
        key_file = kw.pop("private_key_file", None)
        key_pem = kw.pop("private_key_pem", None)
        key_id = opt_text_arg(kw.pop("key_id", None), "key_id")
        if key_file is not None and key_pem is not None:
            raise ConfigError("pass private_key_file or private_key_pem, not both")
        if key_file is not None:
            self._set("tw_options_set_private_key_file", path_arg(key_file, "private_key_file"), key_id)
        elif key_pem is not None:
            self._set("tw_options_set_private_key_pem", text_arg(key_pem, "private_key_pem", secret=True), key_id)
        scope = kw.pop("scope", None)
        if scope is not None:
            self._set("tw_options_set_scope", text_arg(scope_arg(scope), "scope"))
        audience = kw.pop("audience", None)
        if audience is not None:
            self._set("tw_options_set_audience", text_arg(audience, "audience"))
        redirect_uri = kw.pop("redirect_uri", None)
        if redirect_uri is not None:
            self._set("tw_options_set_redirect_uri", text_arg(redirect_uri, "redirect_uri"))
        for claim in names_arg(kw.pop("required_claims", None) or (), "required_claims"):
            self._set("tw_options_add_required_claim", text_arg(claim, "required_claims item"))
        margin = kw.pop("refresh_margin", None)
        if margin is not None:
            self._set("tw_options_set_refresh_margin_ms", millis_arg(margin, "refresh_margin", allow_zero=True))
        timeout = kw.pop("timeout", None)
        if timeout is not None:
            self._set("tw_options_set_timeout_ms", millis_arg(timeout, "timeout"))
        connect_timeout = kw.pop("connect_timeout", None)
        if connect_timeout is not None:
            self._set("tw_options_set_connect_timeout_ms", millis_arg(connect_timeout, "connect_timeout"))
        trust = kw.pop("trust", None)
        if trust is not None:
            if not isinstance(trust, str):
                raise TypeError(f"trust must be a str, not {type(trust).__name__}")
            if trust not in _TRUST:
                raise ConfigError(f"unknown trust {trust!r}; use 'webpki' or 'platform'")
            self._set("tw_options_set_trust", _TRUST[trust])
        ca_file = kw.pop("ca_file", None)
        if ca_file is not None:
            self._set("tw_options_set_ca_file", path_arg(ca_file, "ca_file"))
        proxy = kw.pop("proxy_from_env", None)
        if proxy is not None:
            self._set("tw_options_set_proxy_from_env", bool_arg(proxy, "proxy_from_env"))
        expected_issuer = kw.pop("expected_issuer", None)
        if expected_issuer is not None:
            self._set("tw_options_set_expected_issuer", text_arg(expected_issuer, "expected_issuer"))
        leeway = kw.pop("leeway", None)
        if leeway is not None:
            self._set("tw_options_set_leeway_ms", millis_arg(leeway, "leeway", allow_zero=True))
        store = kw.pop("store", None)
        if store is not None:
            self._set("tw_options_set_store", text_arg(store, "store"))
        on_token = kw.pop("on_token", None)
        if on_token is not None:
            if not callable(on_token):
                raise TypeError(f"on_token must be callable, not {type(on_token).__name__}")
            self.hook = _make_hook(on_token)
            self._set("tw_options_set_on_token", self.hook, _ffi.NULL)
        if kw:
            raise TypeError(f"unexpected keyword argument(s): {', '.join(sorted(kw))}")

    def close(self) -> None:
        if self.ptr != _ffi.NULL:
            _F["tw_options_free"](self.ptr)
            self.ptr = _ffi.NULL


def _make_hook(fn: TokenHook) -> Any:
    def hook(_user_data: Optional[int], token: Optional[int]) -> None:
        # Runs on the thread that obtained the token (maybe the library's renewal thread).
        _tls.in_hook = getattr(_tls, "in_hook", 0) + 1
        try:
            fn(TokenInfo._from_ptr(token))
        except BaseException as e:  # never let an exception cross into the library
            _log.warning(
                "tokenward: the on_token hook raised %s; it was ignored", type(e).__name__
            )
            _log.debug("tokenward: on_token hook failure", exc_info=True)
        finally:
            _tls.in_hook -= 1

    return _cffi.callback("tw_token_callback", hook)


# Clients with a token hook, closed when the interpreter exits: the library's renewal thread
# must not call into Python once finalization has begun.
_hooked: "weakref.WeakSet[Client]" = weakref.WeakSet()


@atexit.register
def _close_hooked_clients() -> None:
    for client in list(_hooked):
        client.close()




class Client:
    """An OAuth 2.0 / OpenID Connect client for one provider, with its token cache.

    Make one with `Client.keycloak`, `Client.from_issuer`, `Client.from_token_url`,
    `Client.from_template` or `Client.from_env`, once per process and share it: every method
    may be called from many threads at once. `token()` returns a valid access token from the
    library's cache (renewed shortly before expiry in the background, one request at a time).

    Use it as a context manager or call `close()`; neither `repr()` nor `str()` shows a secret
    or a token.

    Keyword options of every constructor:
        client_id: the client's id as registered (required).
        client_secret: the secret of a confidential client.
        scope: scopes to request, "a b" or ["a", "b"].
        auth_method: "client_secret_post" (default with a secret), "client_secret_basic",
            "none" (a public client) or "auto".
        required_claims: claims every access token must carry (Docbyte: ["tenant"]); a token
            without one raises MissingClaimError.
        timeout: seconds (or a timedelta) for one whole HTTP exchange (default 30).
        connect_timeout: seconds to establish a connection (default 10).
        ca_file: trust only the certificates in this PEM file.
        trust: "webpki" (built-in roots, the default) or "platform" (the OS's store).
        redirect_uri: the redirect URI for logins (must match the registration exactly).
        audience: the `audience` parameter.
        refresh_margin: renew this many seconds before expiry (default: min(10 %, 60 s)).
        proxy_from_env: honour HTTPS_PROXY / NO_PROXY (default True).
        on_token: called with a TokenInfo for every token obtained (login, refresh, renewal),
            e.g. to persist a rotated refresh token. It may run on a library thread; it must
            be thread-safe and must not call this client's methods.
        expected_issuer: the issuer tokens carry when the provider is reached by another URL
            (Keycloak's public `hostname` behind an internal URL).
        leeway: seconds (or a timedelta) clocks may disagree when a token's `exp` / `iat`
            are checked (default 30; 0 allows no skew).
        store: share the token cache with other processes (gunicorn workers, pods):
            "file:///dir" (one machine) or "redis://[:password@]host[:port][/db]" /
            "rediss://..." (many); "memory" (the default) keeps it in this process. Renewals
            then happen once for the whole fleet; a fresh token never touches the store. The
            store holds bearer and refresh tokens (files 0600 in a 0700 directory).
    """

    __slots__ = (
        "_h",
        "_memo",
        "_view",
        "_floor",
        "_lock",
        "_desc",
        "_client_id",
        "_last_login",
        "__weakref__",
    )
    _h: Optional[_ClientHandle]
    #: The last token's bytes and str, so an unchanged token is not decoded again.
    _memo: Tuple[bytes, str]
    #: One cache, the library's. This is only a view of it: (deadline, generation, token), the
    #: library's word that until `deadline` (time.monotonic() seconds) it would hand out
    #: `token`, as of its state `generation`. token() returns it without calling the library
    #: while the deadline is ahead.
    _view: Tuple[float, int, str]
    #: The newest generation a call that changed the session (login, refresh, resume, revoke,
    #: a refusal) left the library in. Under `_lock`, a view older than it is dropped and never
    #: stored, so a stored view is never older than the floor: after refresh() returns T2 no
    #: token() returns T1, after revoke() none returns the revoked token.
    _floor: int
    _lock: threading.Lock
    _desc: str
    _client_id: str
    _last_login: Optional[Login]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError(
            "use Client.keycloak(), Client.from_issuer(), Client.from_token_url(), "
            "Client.from_template() or Client.from_env() to make a Client"
        )

    # --- construction -------------------------------------------------------------------

    @classmethod
    def _make(
        cls,
        desc: str,
        client_id: Any,
        options: Dict[str, Any],
        build: Callable[[Any, Any], int],
    ) -> "Client":
        opts = _Options(client_id, options)
        try:
            out = _cffi.new("tw_client **")
            _ffi.check(build(opts.ptr, out))
            h = _own_client(out[0], opts.hook)
        finally:
            opts.close()
        self = object.__new__(cls)
        self._h = h
        self._memo = (b"", "")
        self._view = _NO_VIEW
        self._floor = 0
        self._lock = threading.Lock()
        self._desc = desc
        self._client_id = str(client_id)
        self._last_login = None
        if opts.hook is not None:
            _hooked.add(self)
        return self

    @classmethod
    def keycloak(
        cls,
        base_url: str,
        realm: str,
        **options: Unpack[ClientOptions],
    ) -> "Client":
        """A client for a Keycloak realm: `base_url` is the server
        (`https://auth.test.ecocoa.ch`), `realm` the realm's name (`vion`). Every endpoint is
        derived from them; no network traffic."""
        b = text_arg(base_url, "base_url")
        r = text_arg(realm, "realm")
        client_id, opts = _client_id_and_options(options)
        return cls._make(
            f"keycloak {_safe_url(base_url)} realm {realm}",
            client_id,
            opts,
            lambda o, h: _F["tw_client_from_keycloak"](b, r, o, h),
        )

    @classmethod
    def from_issuer(
        cls,
        issuer: str,
        **options: Unpack[ClientOptions],
    ) -> "Client":
        """A client by OpenID Connect discovery: fetches `issuer/.well-known/openid-configuration`
        now (blocking, within `timeout`) and checks that its `issuer` is exactly `issuer`."""
        i = text_arg(issuer, "issuer")
        client_id, opts = _client_id_and_options(options)
        return cls._make(
            f"issuer {_safe_url(issuer)}",
            client_id,
            opts,
            lambda o, h: _F["tw_client_discover"](i, o, h),
        )

    @classmethod
    def from_token_url(
        cls,
        token_url: str,
        **options: Unpack[ClientOptions],
    ) -> "Client":
        """A client for a bare token URL, as the ecoinvent and Iopole documentation give it. A
        Keycloak-shaped URL also yields the realm's other endpoints (revocation, logout,
        login). No network traffic."""
        u = text_arg(token_url, "token_url")
        client_id, opts = _client_id_and_options(options)
        return cls._make(
            f"token_url {_safe_url(token_url)}",
            client_id,
            opts,
            lambda o, h: _F["tw_client_from_token_url"](u, o, h),
        )

    @overload
    @classmethod
    def from_template(
        cls, template: str, values: Optional[Mapping[str, str]] = None, **options: Unpack[ClientOptions]
    ) -> "Client": ...

    @overload  # the template's values as keywords: options are then not checked by name
    @classmethod
    def from_template(
        cls, template: str, values: Optional[Mapping[str, str]] = None, *, client_id: str, **options_and_values: Any
    ) -> "Client": ...

    @classmethod
    def from_template(
        cls,
        template: str,
        values: Optional[Mapping[str, str]] = None,
        **options: Any,
    ) -> "Client":
        """A client from a URL template and its values, e.g. Docbyte's
        `https://keycloak.{account}.{environment}.docbyte.cloud/realms/{tenant}` with
        `values={"account": "acme", "environment": "prod", "tenant": "t1"}` or the same as
        keyword arguments (`account="acme", ...`; a placeholder named like an option, or
        `values`, goes in `values`). A placeholder without a value, a value without a placeholder, or a value
        that is not a plain name is a ConfigError. No network traffic."""
        t = text_arg(template, "template")
        client_id, opts = _client_id_and_options(options)
        more_values = {k: opts.pop(k) for k in list(opts) if k not in OPTION_NAMES}
        merged: Dict[str, Any] = {}
        if values is not None:
            if not isinstance(values, Mapping):
                raise TypeError(f"values must be a mapping of str to str, not {type(values).__name__}")
            merged.update(values)
        for k, v in more_values.items():
            if k in merged:
                raise ConfigError(f"template value {k!r} is given twice (values and keyword)")
            merged[k] = v
        # keep: the C strings must outlive the call
        params, n, keep = _ffi.params(merged.items(), "template value name", lambda k: f"template value {k!r}")
        return cls._make(
            f"template {_safe_url(template)}",
            client_id,
            opts,
            lambda o, h: _F["tw_client_from_template"](t, params, n, o, h),
        )

    @classmethod
    def from_env(
        cls,
        profile: Optional[str] = None,
        *,
        environ: Optional[Mapping[str, str]] = None,
        **options: Unpack[EnvOptions],
    ) -> "Client":
        """A client configured like the CLI: by `TOKENWARD_*` environment variables, then the
        profile `profile` (else the one TOKENWARD_PROFILE names, if any) of the TOML profiles
        file ($TOKENWARD_CONFIG, else ~/.config/tokenward/config.toml). The library reads
        them (`tw_client_from_env`), the same way for every binding. The provider, exactly one:

            TOKENWARD_ISSUER=URL                       OIDC discovery
            TOKENWARD_KEYCLOAK=BASE + TOKENWARD_REALM  a Keycloak realm
            TOKENWARD_TEMPLATE=URL + TOKENWARD_SET='k=v k=v' and/or TOKENWARD_SET_<NAME>=v
            TOKENWARD_TOKEN_URL=URL                    a bare token endpoint

        and TOKENWARD_CLIENT_ID, TOKENWARD_CLIENT_SECRET or TOKENWARD_CLIENT_SECRET_FILE,
        TOKENWARD_SCOPE, TOKENWARD_AUTH_METHOD (post, basic, none), TOKENWARD_REQUIRE_CLAIM
        (comma- or space-separated), TOKENWARD_TIMEOUT (whole seconds), TOKENWARD_CA_FILE,
        TOKENWARD_REDIRECT_URI, TOKENWARD_EXPECTED_ISSUER, TOKENWARD_LEEWAY (whole seconds).
        Empty variables count as unset; the environment wins over the
        profile. `environ` (a mapping) replaces os.environ for this call; `from_env(mapping)`
        is read the same way. Keyword `options` (as for `Client.keycloak`, plus `client_id`)
        win over both."""
        if isinstance(profile, Mapping) and environ is None:
            profile, environ = None, profile
        p = opt_text_arg(profile, "profile")
        keep: Any = None  # the C strings must outlive the call
        params: Any = _ffi.NULL
        n = 0
        if environ is not None:
            if not isinstance(environ, Mapping):
                raise TypeError(f"environ must be a mapping, not {type(environ).__name__}")
            params, n, keep = _ffi.params(
                environ.items(), "environ key", lambda k: f"environ[{k!r}]", secret=True
            )
        opts: Dict[str, Any] = dict(options)
        client_id = opts.pop("client_id", None)
        desc = "settings from the environment" + ("" if profile is None else f" and profile {profile!r}")
        client = cls._make(
            desc,
            "" if client_id is None else client_id,
            opts,
            lambda o, h: _F["tw_client_from_env_with"](p, params, n, o, h),
        )
        client._client_id = _ffi.call_string(_F["tw_client_client_id"], client._handle()) or ""
        return client

    # --- tokens -------------------------------------------------------------------------

    def token(self) -> str:
        """A valid access token for the configured scopes: from the cache when fresh (no I/O),
        else renewed by the right source (refresh token, else client credentials), one request
        at a time however many threads ask.

        The cache is the library's. With the token it says for how long it would hand out this
        same token and from which state (generation) of the cache; until then, and unless a
        call that changed the session has answered since, the string is returned without
        calling into the library at all."""
        view = self._view
        if _monotonic() < view[0]:
            return view[2]
        h = self._h
        try:
            s = _tls.s
        except AttributeError:
            s = _scratch()
        t0 = _monotonic_ns()  # before the call: t0 + "fresh for" is never late
        if h is None or _access_token(h, s.buf, s.cap, s.plen, s.pfresh, s.pgen):
            return self._token_slow()
        n = s.plen[0]
        last = self._memo
        if n == len(last[0]) and s.ba.startswith(last[0]):
            t = last[1]
        else:
            b = bytes(memoryview(s.ba)[:n])
            t = b.decode("utf-8")
            self._memo = (b, t)
        fresh = s.pfresh[0]
        if fresh:
            self._keep(t0 + fresh, s.pgen[0], t)
        return t

    def _token_slow(self) -> str:
        """token() after a failed call: closed client, a buffer too small, or an error."""
        while True:
            h = self._handle()
            s = _tls.s
            t0 = _monotonic_ns()
            rc = _access_token(h, s.buf, s.cap, s.plen, s.pfresh, s.pgen)
            if rc == _ffi.TW_OK:
                b = bytes(memoryview(s.ba)[: s.plen[0]])
                t = b.decode("utf-8")
                self._memo = (b, t)
                if s.pfresh[0]:
                    self._keep(t0 + s.pfresh[0], s.pgen[0], t)
                return t
            if rc != _TOO_SMALL:
                raise _ffi.last_error(rc)
            _scratch(max(s.plen[0], 2 * s.cap))

    def _keep(self, deadline_ns: int, generation: int, token: str) -> None:
        """Stores a view unless a session change newer than it has answered meanwhile.
        `deadline_ns` is on time.monotonic_ns's clock; the view keeps it in seconds, a
        microsecond early so that the float's rounding can never make it late."""
        deadline = (deadline_ns - 1000) / 1e9
        with self._lock:
            if generation >= self._floor and generation >= self._view[1]:
                self._view = (deadline, generation, token)

    def _session_changed(self) -> None:
        """After a call that may have changed the session (whatever its outcome): the library's
        generation now becomes the floor, and a view older than it goes."""
        h = self._h
        g = _cffi.new("uint64_t *")
        if h is None or _generation(h, g) != _ffi.TW_OK:
            g[0] = 0
        with self._lock:
            if g[0] > self._floor:
                self._floor = g[0]
            if self._view[1] < self._floor:
                self._view = _NO_VIEW

    def authorization_header(self) -> str:
        """`"Bearer <token>"` for the Authorization header."""
        return "Bearer " + self.token()

    def token_info(self) -> TokenInfo:
        """The current token with everything that came with it (expiry, scope, claims, roles,
        refresh and ID token), from the cache or renewed as for `token()`."""
        out = _cffi.new("tw_token **")
        _ffi.check(_F["tw_client_token"](self._handle(), out))
        return TokenInfo._take(out[0])

    def claims(self) -> Dict[str, Any]:
        """The current access token's claims (decoded by the library, not verified); empty
        when the token is not a JWT."""
        c = _ffi.call_json(_F["tw_client_claims_json"], self._handle())
        return c if isinstance(c, dict) else {}

    def refresh(self) -> TokenInfo:
        """Renews the token now, whatever its age: with the refresh token if there is one
        (`invalid_grant` drops it), else client credentials, else LoginRequiredError."""
        out = _cffi.new("tw_token **")
        try:
            _ffi.check(_F["tw_client_refresh"](self._handle(), out))
        finally:
            self._session_changed()
        return TokenInfo._take(out[0])

    def resume(self, refresh_token: str) -> TokenInfo:
        """Resumes a session from a refresh token stored earlier (e.g. by an `on_token` hook):
        redeems it and caches the new tokens."""
        rt = text_arg(refresh_token, "refresh_token", secret=True)
        out = _cffi.new("tw_token **")
        try:
            _ffi.check(_F["tw_client_resume"](self._handle(), rt, out))
        finally:
            self._session_changed()
        return TokenInfo._take(out[0])

    def token_after_rejection(self, rejected: str) -> str:
        """The API answered 401 to `rejected` (a token from `token()`): a renewed token, or
        the one another thread already renewed after the same refusal, so any number of
        requests refused at once cause one renewal. Retry the request once with it. The
        `requests` and `httpx` adapters do this for you; this is for other HTTP clients."""
        rj = text_arg(rejected, "rejected", secret=True)
        try:
            # A second call with a larger buffer copies the token the first one renewed.
            return _ffi.call_buffer(
                _F["tw_client_access_token_after_rejection"], self._handle(), rj
            )
        finally:
            self._session_changed()

    # --- logins -------------------------------------------------------------------------

    def authorization_url(
        self,
        redirect_uri: Optional[str] = None,
        *,
        scope: Union[str, Iterable[str], None] = None,
        extra: Optional[Mapping[str, str]] = None,
        **extra_params: str,
    ) -> Login:
        """Starts an authorization-code login with PKCE (S256), a fresh `state` and `nonce`.

        Send the user to the returned login's `.url`; when the provider redirects to the
        redirect URI, pass that full URL to `exchange_code`. `redirect_uri` and `scope`
        default to the client's. `extra` / keyword arguments are further query parameters
        (`prompt="login"`, `login_hint=...`, `kc_idp_hint=...`). No network traffic."""
        rd = opt_text_arg(redirect_uri, "redirect_uri")
        sc = _ffi.NULL if scope is None else text_arg(scope_arg(scope), "scope")
        if extra is not None and not isinstance(extra, Mapping):
            raise TypeError(f"extra must be a mapping of str to str, not {type(extra).__name__}")
        merged: Dict[str, Any] = dict(extra or {})
        merged.update(extra_params)
        params, n, keep = _ffi.params(merged.items(), "extra parameter name", lambda k: f"extra parameter {k!r}")
        out = _cffi.new("tw_login **")
        _ffi.check(_F["tw_client_login_begin"](self._handle(), rd, sc, params, n, out))
        login = Login(_own_login(out[0]))
        self._last_login = login
        return login

    def exchange_code(self, callback_url: str, login: Optional[Login] = None) -> TokenInfo:
        """Finishes a login: checks the callback URL (or its query string) the provider
        redirected to (`state` in constant time, `iss`, an `error=` answer), exchanges the
        code with the PKCE verifier, checks the ID token's `nonce`, and caches the tokens.

        `login` is the Login from `authorization_url` (or `Login.from_json`); it defaults to
        this client's most recent one, which suits a native app with one login at a time.
        Web apps pass the login restored from the user's session.

        A login is spent by its first callback, whatever the outcome: after a forged, denied
        or failed callback, finishing it again raises LoginRequiredError without a request;
        start a new login with `authorization_url()`."""
        cb = text_arg(callback_url, "callback_url", secret=True)
        if login is None:
            login = self._last_login
            if login is None:
                raise ConfigError(
                    "no login to finish: call authorization_url() first, or pass the Login "
                    "(e.g. Login.from_json(session['login']))"
                )
        elif not isinstance(login, Login):
            raise TypeError(f"login must be a tokenward.Login, not {type(login).__name__}")
        out = _cffi.new("tw_token **")
        try:
            _ffi.check(_F["tw_client_login_finish"](self._handle(), login._handle(), cb, out))
        finally:
            self._session_changed()
            # Spent by this callback whatever the outcome: the default is no longer this one.
            if login is self._last_login:
                self._last_login = None
        return TokenInfo._take(out[0])

    def logout_url(self, post_logout_redirect_uri: Optional[str] = None) -> str:
        """The end-session URL to send the user's browser to, with the session's ID token as
        `id_token_hint`. It holds the ID token: do not log it. No network traffic."""
        rd = opt_text_arg(post_logout_redirect_uri, "post_logout_redirect_uri")
        return _ffi.call_string(_F["tw_client_end_session_url"], self._handle(), rd) or ""

    def revoke(self, token: Optional[str] = None, *, kind: str = "refresh") -> None:
        """Revokes a token (RFC 7009). Without arguments, the current session: its refresh
        token when it has one (which ends the session at Keycloak), else its access token;
        the cache is emptied. With `token`, that token, of `kind` "refresh" or "access".

        An unknown or already invalid token is not an error."""
        if not isinstance(kind, str) or kind not in _KINDS:
            raise ConfigError(f"unknown token kind {kind!r}; use 'refresh' or 'access'")
        if token is None:
            info = self.token_info()
            if info.refresh_token:
                token, kind = info.refresh_token, "refresh"
            else:
                token, kind = info.access_token, "access"
        t = text_arg(token, "token", secret=True)
        try:
            _ffi.check(_F["tw_client_revoke"](self._handle(), t, _KINDS[kind]))
        finally:
            self._session_changed()
        self._memo = (b"", "")

    def introspect(self, token: Optional[str] = None, *, kind: str = "access") -> Dict[str, Any]:
        """Asks the server about a token (RFC 7662; Keycloak allows it to confidential clients
        only); `token` defaults to the current access token. `"active"` says if it is valid."""
        if not isinstance(kind, str) or kind not in _KINDS:
            raise ConfigError(f"unknown token kind {kind!r}; use 'refresh' or 'access'")
        if token is None:
            token, kind = self.token(), "access"
        t = text_arg(token, "token", secret=True)
        answer = _ffi.call_json(_F["tw_client_introspect"], self._handle(), t, _KINDS[kind])
        return answer if isinstance(answer, dict) else {}

    # --- issue 17: device login, token exchange, logout without a browser ---------------

    def device_login(
        self, scope: Union[str, Iterable[str], None] = None, *, pkce: bool = False
    ) -> "DeviceLogin":
        """Starts a device login (RFC 8628) for a user on another device: show the returned
        login's `user_code` and `verification_uri`, then call its `wait()`. `scope` defaults to
        the client's; `pkce=True` sends a PKCE S256 challenge."""
        sc = _ffi.NULL if scope is None else text_arg(scope_arg(scope), "scope")
        out = _cffi.new("tw_device **")
        _ffi.check(_F["tw_client_device_begin"](self._handle(), sc, bool_arg(pkce, "pkce"), out))
        return DeviceLogin(self, _own_device(out[0]))

    def exchange_token(
        self,
        subject_token: str,
        audience: Optional[str] = None,
        scope: Union[str, Iterable[str], None] = None,
        *,
        requested_token_type: str = "access_token",
    ) -> TokenInfo:
        """Exchanges a user's access token (that names this client in its audience) for one
        for `audience` and/or `scope` (RFC 8693; Keycloak's standard token exchange). Cached per
        (subject token, audience, scope, type): exchanged again when due, while the subject
        token is valid. `requested_token_type` is "access_token" or "refresh_token"."""
        if requested_token_type not in _KINDS:
            raise ConfigError(
                f"unknown requested_token_type {requested_token_type!r}; use 'access_token' or 'refresh_token'"
            )
        st = text_arg(subject_token, "subject_token", secret=True)
        au = opt_text_arg(audience, "audience")
        sc = _ffi.NULL if scope is None else text_arg(scope_arg(scope), "scope")
        out = _cffi.new("tw_token **")
        _ffi.check(
            _F["tw_client_exchange_token"](self._handle(), st, au, sc, _KINDS[requested_token_type], out)
        )
        return TokenInfo._take(out[0])

    def logout(self, refresh_token: Optional[str] = None) -> None:
        """Logs the user out without a browser: ends the session at the end-session endpoint
        with its refresh token (Keycloak's back-channel logout), revokes it (for an offline
        token this ends the offline session) and empties the cache. `refresh_token` defaults
        to the current session's."""
        if refresh_token is None:
            refresh_token = self.token_info().refresh_token
            if not refresh_token:
                raise LoginRequiredError("no session with a refresh token to log out")
        rt = text_arg(refresh_token, "refresh_token", secret=True)
        try:
            _ffi.check(_F["tw_client_logout"](self._handle(), rt))
        finally:
            self._session_changed()
        self._memo = (b"", "")

    # --- verification -------------------------------------------------------------------

    def verify_access_token(
        self,
        token: str,
        audience: Optional[str] = None,
        required_claims: Union[str, Iterable[str]] = (),
        required_roles: Union[str, Iterable[str]] = (),
    ) -> Dict[str, Any]:
        """Verifies an access token presented to your API (an `Authorization: Bearer` header)
        and returns its verified claims. The library checks the signature against the
        provider's keys (cached; an unknown key refetches them at most once per 10 s), `iss`,
        `exp` / `iat` within the leeway, that it is an access token, and: `audience` in `aud`
        (None accepts any), each of `required_claims` present (MissingClaimError otherwise),
        each of `required_roles` granted (Keycloak realm or client roles). A token that does
        not verify raises InvalidTokenError; its message names the rule, never the token."""
        t = text_arg(token, "token", secret=True)
        a = opt_text_arg(audience, "audience")
        claims = [text_arg(c, "required_claims item") for c in names_arg(required_claims, "required_claims")]
        roles = [text_arg(r, "required_roles item") for r in names_arg(required_roles, "required_roles")]
        c_claims, keep_claims = _ffi.string_array(claims)
        c_roles, keep_roles = _ffi.string_array(roles)
        answer = _ffi.call_json(
            _F["tw_client_verify_access_token"],
            self._handle(),
            t,
            a,
            c_claims,
            len(claims),
            c_roles,
            len(roles),
        )
        return answer if isinstance(answer, dict) else {}

    def userinfo(self) -> Dict[str, Any]:
        """The logged-in user's claims from the provider's userinfo endpoint, asked with the
        current access token (renewed first if due); its `sub` must be the ID token's."""
        answer = _ffi.call_json(_F["tw_client_userinfo"], self._handle())
        return answer if isinstance(answer, dict) else {}

    # --- adapters -----------------------------------------------------------------------

    def requests_auth(self) -> Any:
        """A `requests.auth.AuthBase` for this client (needs `requests`)."""
        from .requests_auth import TokenwardAuth

        return TokenwardAuth(self)

    def httpx_auth(self) -> Any:
        """An `httpx.Auth` for this client (needs `httpx`)."""
        from .httpx_auth import TokenwardHttpxAuth

        return TokenwardHttpxAuth(self)

    # --- lifetime -----------------------------------------------------------------------

    def _handle(self) -> _ClientHandle:
        h = self._h
        if h is None:
            raise ClientClosedError(f"this Client ({self._desc}) is closed; make a new one")
        return h

    @property
    def closed(self) -> bool:
        return self._h is None

    @property
    def client_id(self) -> str:
        return self._client_id

    def close(self) -> None:
        """Frees the client and its token cache (once calls running in other threads have
        returned). Idempotent."""
        self._h = None
        self._memo = (b"", "")
        with self._lock:
            self._floor = _CLOSED
            self._view = _NO_VIEW
        self._last_login = None

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._h is None else "open"
        return f"<tokenward.Client {self._desc} client_id={self._client_id!r} {state}>"

    __str__ = __repr__

    def __reduce__(self):  # type: ignore[no-untyped-def]
        raise TypeError("a tokenward.Client cannot be pickled; make one per process")


def _client_id_and_options(options: Mapping[str, Any]) -> Tuple[Any, Dict[str, Any]]:
    """A constructor's keywords: the client id (required) and the options that were given."""
    opts = {k: v for k, v in options.items() if v is not None}
    if "client_id" not in opts:
        raise TypeError("missing required keyword argument: 'client_id'")
    return opts.pop("client_id"), opts


__all__ = ["AuthMethod", "Client", "ClientClosedError", "TokenHook", "TokenwardError"]
