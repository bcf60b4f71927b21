"""`Client.from_env`: the CLI's `TOKENWARD_*` variables (bindings/cli/src/config.rs) read into
constructor arguments. Only configuration is translated here; the library does the rest."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Tuple

from ._errors import ConfigError

if TYPE_CHECKING:
    from ._client import Client

PROVIDERS = ("TOKENWARD_ISSUER", "TOKENWARD_KEYCLOAK", "TOKENWARD_TEMPLATE", "TOKENWARD_TOKEN_URL")
SET_PREFIX = "TOKENWARD_SET_"

_HELP = (
    "name the provider with TOKENWARD_ISSUER=URL, TOKENWARD_KEYCLOAK=BASE and "
    "TOKENWARD_REALM=NAME, TOKENWARD_TEMPLATE=URL with TOKENWARD_SET='key=value ...', or "
    "TOKENWARD_TOKEN_URL=URL"
)


def _get(env: Mapping[str, str], key: str) -> Optional[str]:
    v = env.get(key)
    if v is None:
        return None
    if not isinstance(v, str):
        raise TypeError(f"{key} must be a str in the environment mapping, not {type(v).__name__}")
    return v if v.strip() else None


def template_values(env: Mapping[str, str]) -> Dict[str, str]:
    """TOKENWARD_SET='k=v k=v' (as the CLI) plus TOKENWARD_SET_<NAME>=v (NAME lower-cased)."""
    values: Dict[str, str] = {}
    origin: Dict[str, str] = {}
    packed = _get(env, "TOKENWARD_SET")
    if packed:
        for kv in packed.split():
            k, sep, v = kv.partition("=")
            if not sep or not k.strip():
                raise ConfigError(f"TOKENWARD_SET: `{kv}` is not key=value (e.g. TOKENWARD_SET='tenant=acme')")
            values[k.strip()] = v
            origin[k.strip()] = "TOKENWARD_SET"
    for key in sorted(env):
        if key.startswith(SET_PREFIX) and len(key) > len(SET_PREFIX):
            value = _get(env, key)
            if value is None:
                continue
            name = key[len(SET_PREFIX):].lower()
            if name in values:
                raise ConfigError(f"template value `{name}` is set by both {origin[name]} and {key}; keep one")
            values[name] = value
            origin[name] = key
    return values


def _seconds(text: str) -> int:
    try:
        n = int(text.strip())
    except ValueError:
        n = 0
    if n <= 0:
        raise ConfigError(f"TOKENWARD_TIMEOUT: `{text}` is not a whole number of seconds above zero")
    return n


def _secret(env: Mapping[str, str]) -> Optional[str]:
    inline: Optional[str] = _get(env, "TOKENWARD_CLIENT_SECRET")
    path = _get(env, "TOKENWARD_CLIENT_SECRET_FILE")
    if inline is not None and path is not None:
        raise ConfigError("both TOKENWARD_CLIENT_SECRET and TOKENWARD_CLIENT_SECRET_FILE are set; unset one")
    origin = "TOKENWARD_CLIENT_SECRET"
    if path is not None:
        origin = f"TOKENWARD_CLIENT_SECRET_FILE (`{path}`)"
        try:
            with open(path, encoding="utf-8") as f:
                inline = f.read()
        except OSError as e:
            raise ConfigError(f"cannot read the client secret from `{path}`: {e.strerror or e}") from None
    if inline is None:
        return None
    value = inline.rstrip("\r\n")
    if not value.strip():
        raise ConfigError(f"the client secret from {origin} is empty")
    return value


def settings(env: Mapping[str, str]) -> Tuple[str, List[Any], Dict[str, Any]]:
    """(constructor name, positional arguments, keyword options) from the environment."""
    named = [k for k in PROVIDERS if _get(env, k) is not None]
    if not named:
        raise ConfigError(f"no identity provider in the environment; {_HELP}")
    if len(named) > 1:
        raise ConfigError(
            f"the environment names the provider {len(named)} ways ({', '.join(named)}); keep one"
        )
    kind = named[0]
    url = _get(env, kind) or ""
    realm = _get(env, "TOKENWARD_REALM")
    values = template_values(env)
    if realm is not None and kind != "TOKENWARD_KEYCLOAK":
        raise ConfigError(f"TOKENWARD_REALM goes with TOKENWARD_KEYCLOAK, but the provider is {kind}")
    if values and kind != "TOKENWARD_TEMPLATE":
        raise ConfigError(f"TOKENWARD_SET fills a TOKENWARD_TEMPLATE URL, but the provider is {kind}")

    kw: Dict[str, Any] = {}
    client_id = _get(env, "TOKENWARD_CLIENT_ID")
    if client_id is None:
        raise ConfigError("no client id in the environment; set TOKENWARD_CLIENT_ID")
    kw["client_id"] = client_id
    secret = _secret(env)
    if secret is not None:
        kw["client_secret"] = secret
    for var, opt in (
        ("TOKENWARD_SCOPE", "scope"),
        ("TOKENWARD_AUTH_METHOD", "auth_method"),
        ("TOKENWARD_CA_FILE", "ca_file"),
        ("TOKENWARD_REDIRECT_URI", "redirect_uri"),
    ):
        v = _get(env, var)
        if v is not None:
            kw[opt] = v
    claims = _get(env, "TOKENWARD_REQUIRE_CLAIM")
    if claims is not None:
        kw["required_claims"] = [c for c in claims.replace(",", " ").split() if c]
    timeout = _get(env, "TOKENWARD_TIMEOUT")
    if timeout is not None:
        kw["timeout"] = _seconds(timeout)

    if kind == "TOKENWARD_ISSUER":
        return "from_issuer", [url], kw
    if kind == "TOKENWARD_KEYCLOAK":
        if realm is None:
            raise ConfigError("TOKENWARD_KEYCLOAK=BASE needs TOKENWARD_REALM=NAME")
        return "keycloak", [url, realm], kw
    if kind == "TOKENWARD_TEMPLATE":
        return "from_template", [url, values], kw
    return "from_token_url", [url], kw


def from_env(cls: "type[Client]", env: Mapping[str, str], overrides: Dict[str, Any]) -> "Client":
    if not isinstance(env, Mapping):
        raise TypeError(f"environ must be a mapping, not {type(env).__name__}")
    ctor, args, kw = settings(env)
    kw.update(overrides)
    client: "Client" = getattr(cls, ctor)(*args, **kw)
    return client
