"""Argument checks: Python values to the C strings and numbers the library takes, with clear
errors (TypeError for a wrong type, ConfigError for a wrong value). Secret values are never
put in a message."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any, Iterable, List, Optional, Union

from ._errors import ConfigError

Seconds = Union[int, float, timedelta]


def _type_name(v: Any) -> str:
    return type(v).__name__


def text_arg(value: Any, name: str, *, secret: bool = False) -> bytes:
    """A str argument as NUL-free UTF-8."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {_type_name(value)}")
    if "\0" in value:
        what = "" if secret else f" ({value!r})"
        raise ConfigError(f"{name} contains a NUL character{what}; remove it")
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError:
        raise ConfigError(f"{name} is not valid Unicode text (lone surrogates)") from None


def opt_text_arg(value: Any, name: str, *, secret: bool = False) -> Any:
    """An optional str argument: its UTF-8, or NULL (cffi's, for `const char *`) for None."""
    if value is None:
        from ._ffi import NULL

        return NULL
    return text_arg(value, name, secret=secret)


def path_arg(value: Any, name: str) -> bytes:
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if isinstance(value, bytes):
        value = os.fsdecode(value)
    return text_arg(value, name)


def scope_arg(value: Any, name: str = "scope") -> str:
    """A space-separated scope string from a str or an iterable of single scopes."""
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray)) or not isinstance(value, Iterable):
        raise TypeError(f"{name} must be a str or a list of str, not {_type_name(value)}")
    parts: List[str] = []
    for s in value:
        if not isinstance(s, str):
            raise TypeError(f"{name} must hold str items, not {_type_name(s)}")
        if not s or any(c.isspace() for c in s):
            raise ConfigError(f"{name} item {s!r} is empty or holds white space; give one scope per item")
        parts.append(s)
    return " ".join(parts)


def names_arg(value: Any, name: str) -> List[str]:
    """A list of names from a str ("a,b c") or an iterable of str."""
    if isinstance(value, str):
        return [p for p in value.replace(",", " ").split() if p]
    if isinstance(value, (bytes, bytearray)) or not isinstance(value, Iterable):
        raise TypeError(f"{name} must be a list of str, not {_type_name(value)}")
    out = []
    for s in value:
        if not isinstance(s, str):
            raise TypeError(f"{name} must hold str items, not {_type_name(s)}")
        out.append(s)
    return out


def millis_arg(value: Any, name: str, *, allow_zero: bool = False) -> int:
    """Seconds (int, float or timedelta) as whole milliseconds."""
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds or a timedelta, not {_type_name(value)}")
    else:
        seconds = float(value)
    if seconds != seconds or seconds in (float("inf"), float("-inf")):
        raise ConfigError(f"{name} must be a finite number of seconds, not {value!r}")
    ms = round(seconds * 1000)
    if ms < 0 or (ms == 0 and not allow_zero):
        raise ConfigError(f"{name} must be more than zero seconds, not {value!r}")
    if ms >= 2**64:
        raise ConfigError(f"{name} is too large ({value!r})")
    return int(ms)


def bool_arg(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, not {_type_name(value)}")
    return value
