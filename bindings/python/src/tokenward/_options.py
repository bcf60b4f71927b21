"""The keyword options every constructor of `Client` and `AsyncClient` takes, declared once.

`**options: Unpack[ClientOptions]` gives IDEs their completion and `mypy --strict` its checks
without each constructor re-declaring twenty keywords. `Unpack` is imported for type
checkers only (typing_extensions ships with every one of them), so the package still has no
run-time dependency; at run time `_Options` rejects an unknown keyword with a TypeError.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Callable, Iterable, Optional, TypedDict, Union

if TYPE_CHECKING:
    from ._client import AuthMethod
    from ._token import TokenInfo
    from ._util import Seconds


class Options(TypedDict, total=False):
    """Keyword options of every constructor (see `Client` for what each one does)."""

    client_secret: Optional[str]
    scope: Union[str, Iterable[str], None]
    auth_method: Union[str, AuthMethod, None]
    required_claims: Union[str, Iterable[str], None]
    timeout: Optional[Seconds]
    connect_timeout: Optional[Seconds]
    ca_file: Union[str, os.PathLike[str], None]
    trust: Optional[str]
    redirect_uri: Optional[str]
    audience: Optional[str]
    refresh_margin: Optional[Seconds]
    proxy_from_env: Optional[bool]
    on_token: Optional[Callable[[TokenInfo], None]]
    expected_issuer: Optional[str]
    leeway: Optional[Seconds]
    store: Optional[str]
    private_key_file: Union[str, os.PathLike[str], None]
    private_key_pem: Optional[str]
    key_id: Optional[str]


class ClientOptions(Options, total=True):
    """The options plus the client's id, which every constructor but `from_env` needs."""

    client_id: str


class EnvOptions(Options, total=False):
    """`from_env`'s options: the client id may come from the environment."""

    client_id: Optional[str]


#: The option names (the keys of `Options`; a test checks they agree).
OPTION_NAMES = (
    "client_secret",
    "private_key_file",
    "private_key_pem",
    "key_id",
    "scope",
    "auth_method",
    "required_claims",
    "timeout",
    "connect_timeout",
    "ca_file",
    "redirect_uri",
    "audience",
    "refresh_margin",
    "trust",
    "proxy_from_env",
    "expected_issuer",
    "leeway",
    "store",
    "on_token",
)

__all__ = ["ClientOptions", "EnvOptions", "OPTION_NAMES", "Options"]
