"""`TokenInfo`: a copy of everything the library knows about one token response."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from types import MappingProxyType
from typing import Any, Dict, FrozenSet, Mapping, Optional

from . import _ffi

_F = _ffi.F


def _freeze(value: Any) -> Any:
    """JSON as read-only mappings and tuples, so a TokenInfo cannot be changed by accident."""
    if isinstance(value, dict):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


_EMPTY: Mapping[str, Any] = MappingProxyType({})


class TokenInfo:
    """A token response as the library holds it: the tokens, granted scope, lifetime, the
    access token's claims (decoded by the library, NOT verified: use them to learn about your
    own token, never to trust someone else's) and Keycloak's extra fields.

    `repr()` and `str()` never show a token.
    """

    __slots__ = (
        "_access_token",
        "_refresh_token",
        "_id_token",
        "scope",
        "expires_in",
        "lifetime",
        "claims",
        "extra",
        "id_token_claims",
    )

    #: The granted scope, space-separated (None when the server did not say).
    scope: Optional[str]
    #: The server's `expires_in`, in seconds (None when it sent none).
    expires_in: Optional[int]
    #: How long the token is usable after its request was sent (the library's figure: the
    #: smaller of `expires_in` and the JWT's `exp - iat`, less a second); None when unknown.
    lifetime: Optional[timedelta]
    #: The access token's claims (empty when it is not a JWT). Decoded, not verified.
    claims: Mapping[str, Any]
    #: Fields of the response beyond RFC 6749's (Keycloak's `not-before-policy`,
    #: `session_state`, ...).
    extra: Mapping[str, Any]
    #: The ID token's claims, VERIFIED by the library (signature against the provider's keys,
    #: `iss`, `aud`, `azp`, `exp` / `iat` within the leeway, and on a login `nonce`): who the
    #: user is. Empty when the answer carried no ID token.
    id_token_claims: Mapping[str, Any]

    def __init__(
        self,
        access_token: str,
        *,
        refresh_token: Optional[str] = None,
        id_token: Optional[str] = None,
        scope: Optional[str] = None,
        expires_in: Optional[int] = None,
        lifetime: Optional[timedelta] = None,
        claims: Optional[Mapping[str, Any]] = None,
        extra: Optional[Mapping[str, Any]] = None,
        id_token_claims: Optional[Mapping[str, Any]] = None,
    ) -> None:
        self._access_token = access_token
        self._refresh_token = refresh_token
        self._id_token = id_token
        self.scope = scope
        self.expires_in = expires_in
        self.lifetime = lifetime
        self.claims = _freeze(dict(claims)) if claims else _EMPTY
        self.extra = _freeze(dict(extra)) if extra else _EMPTY
        self.id_token_claims = _freeze(dict(id_token_claims)) if id_token_claims else _EMPTY

    @classmethod
    def _from_ptr(cls, token: Any) -> "TokenInfo":
        """Copies a `tw_token` (owned or borrowed; not freed here)."""
        expires_in = int(_F["tw_token_expires_in"](token))
        lifetime_ms = int(_F["tw_token_lifetime_ms"](token))
        claims = _ffi.call_json(_F["tw_token_claims_json"], token)
        extra = _ffi.call_json(_F["tw_token_extra_json"], token)
        id_claims = _ffi.call_json(_F["tw_token_id_token_claims_json"], token)
        return cls(
            _ffi.call_buffer(_F["tw_token_access_token"], token),
            refresh_token=_ffi.call_string(_F["tw_token_refresh_token"], token),
            id_token=_ffi.call_string(_F["tw_token_id_token"], token),
            scope=_ffi.call_string(_F["tw_token_scope"], token),
            expires_in=expires_in or None,
            lifetime=timedelta(milliseconds=lifetime_ms) if lifetime_ms else None,
            claims=claims if isinstance(claims, dict) else None,
            extra=extra if isinstance(extra, dict) else None,
            id_token_claims=id_claims if isinstance(id_claims, dict) else None,
        )

    @classmethod
    def _take(cls, token: Any) -> "TokenInfo":
        """Copies an owned `tw_token` and frees it."""
        try:
            return cls._from_ptr(token)
        finally:
            _F["tw_token_free"](token)

    # Tokens: properties, so that they are never part of the object's generic listings.
    @property
    def access_token(self) -> str:
        """The access token (a secret: never log it)."""
        return self._access_token

    @property
    def refresh_token(self) -> Optional[str]:
        """The refresh token, None when the server sent none (client credentials at Keycloak).
        A secret: store it like a password (`Client.resume` takes it back)."""
        return self._refresh_token

    @property
    def id_token(self) -> Optional[str]:
        """The OpenID Connect ID token (only with the `openid` scope)."""
        return self._id_token

    @property
    def token_type(self) -> str:
        return "Bearer"

    @property
    def scopes(self) -> FrozenSet[str]:
        """The granted scopes as a set."""
        return frozenset((self.scope or "").split())

    @property
    def expires_at(self) -> Optional[datetime]:
        """The access token's `exp` claim as an aware UTC datetime (the server's clock);
        None when the token is not a JWT with `exp`."""
        return _claim_time(self.claims.get("exp"))

    @property
    def issued_at(self) -> Optional[datetime]:
        """The `iat` claim as an aware UTC datetime (the server's clock)."""
        return _claim_time(self.claims.get("iat"))

    @property
    def subject(self) -> Optional[str]:
        sub = self.claims.get("sub")
        return sub if isinstance(sub, str) else None

    @property
    def roles(self) -> FrozenSet[str]:
        """Keycloak's realm roles (`realm_access.roles`)."""
        access = self.claims.get("realm_access")
        return _role_set(access.get("roles") if isinstance(access, Mapping) else None)

    def client_roles(self, client_id: Optional[str] = None) -> FrozenSet[str]:
        """Keycloak's client roles (`resource_access.<client_id>.roles`); `client_id`
        defaults to the token's `azp`."""
        cid = client_id if client_id is not None else self.claims.get("azp")
        access = self.claims.get("resource_access")
        if not isinstance(access, Mapping) or not isinstance(cid, str):
            return frozenset()
        entry = access.get(cid)
        return _role_set(entry.get("roles") if isinstance(entry, Mapping) else None)

    def to_dict(self, *, include_tokens: bool = False) -> Dict[str, Any]:
        """A JSON-friendly dict; tokens only with `include_tokens=True`."""
        d: Dict[str, Any] = {
            "scope": self.scope,
            "expires_in": self.expires_in,
            "lifetime_s": self.lifetime.total_seconds() if self.lifetime else None,
            "claims": json.loads(json.dumps(self.claims, default=_unfreeze)),
            "extra": json.loads(json.dumps(self.extra, default=_unfreeze)),
            "has_refresh_token": self._refresh_token is not None,
            "has_id_token": self._id_token is not None,
        }
        if include_tokens:
            d.update(
                access_token=self._access_token,
                refresh_token=self._refresh_token,
                id_token=self._id_token,
            )
        return d

    def __repr__(self) -> str:
        exp = self.expires_at
        parts = [
            f"scope={self.scope!r}",
            f"expires_in={self.expires_in!r}",
            f"expires_at={exp.isoformat() if exp else None!r}",
            f"roles={sorted(self.roles)!r}",
            f"refresh_token={'<present>' if self._refresh_token else None}",
            f"id_token={'<present>' if self._id_token else None}",
        ]
        return f"TokenInfo({', '.join(parts)})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TokenInfo):
            return NotImplemented
        return self._access_token == other._access_token

    def __hash__(self) -> int:
        return hash(self._access_token)

    def __reduce__(self):  # type: ignore[no-untyped-def]
        raise TypeError("TokenInfo holds secrets and is not picklable; use to_dict()")


def _unfreeze(o: Any) -> Any:
    if isinstance(o, MappingProxyType):
        return dict(o)
    raise TypeError(type(o).__name__)


def _claim_time(v: Any) -> Optional[datetime]:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return datetime.fromtimestamp(v, tz=timezone.utc)


def _role_set(v: Any) -> FrozenSet[str]:
    if not isinstance(v, (list, tuple)):
        return frozenset()
    return frozenset(r for r in v if isinstance(r, str))
