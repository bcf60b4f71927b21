"""Loads the bundled libtokenward and declares its functions with ctypes, from `_abi.FUNCTIONS`.

Pure translation: C types to ctypes, the thread's last error to an exception, owned C strings
to Python strings (freed, and so zeroed, by `tw_string_free`).
"""

from __future__ import annotations

import ctypes
import json
import os
import sys
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    c_bool,
    c_char_p,
    c_size_t,
    c_uint16,
    c_uint32,
    c_uint64,
    c_void_p,
)
from typing import Any, Callable, Dict, Optional

from . import _abi
from ._errors import error_for

# --- C types -> ctypes ---------------------------------------------------------------------


class tw_param(Structure):
    _fields_ = [("name", c_char_p), ("value", c_char_p)]


TOKEN_CALLBACK = CFUNCTYPE(None, c_void_p, c_void_p)

# Opaque objects travel as c_void_p; owned strings (`char **` out) as c_void_p so they can be
# freed with tw_string_free; borrowed `const char *` results as c_char_p (copied to bytes).
CTYPES: Dict[str, Any] = {
    "void": None,
    "bool": c_bool,
    "size_t": c_size_t,
    "size_t *": POINTER(c_size_t),
    "uint16_t": c_uint16,
    "uint64_t": c_uint64,
    "uint64_t *": POINTER(c_uint64),
    "tw_result": c_uint32,
    "tw_token_kind": c_uint32,
    "tw_auth_method": c_uint32,
    "tw_trust": c_uint32,
    "const char *": c_char_p,
    "const uint8_t *": c_char_p,
    "char *": c_void_p,
    "char **": POINTER(c_void_p),
    "void *": c_void_p,
    "const tw_param *": POINTER(tw_param),
    "const char *const *": POINTER(c_char_p),
    "tw_token_callback": TOKEN_CALLBACK,
}
for _name in _abi.OPAQUE:
    CTYPES[f"{_name} *"] = c_void_p
    CTYPES[f"const {_name} *"] = c_void_p
    CTYPES[f"{_name} **"] = POINTER(c_void_p)


def ctypes_for(c_type: str) -> Any:
    try:
        return CTYPES[c_type]
    except KeyError:
        raise TypeError(f"no ctypes mapping for the C type `{c_type}`; add it to _ffi.CTYPES") from None


# --- the library ---------------------------------------------------------------------------

if sys.platform == "darwin":
    LIBRARY_NAME = "libtokenward.dylib"
elif sys.platform == "win32":
    LIBRARY_NAME = "tokenward.dll"
else:
    LIBRARY_NAME = "libtokenward.so"

LIBRARY_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), LIBRARY_NAME)


def _load() -> ctypes.CDLL:
    if not os.path.exists(LIBRARY_PATH):
        raise ImportError(
            f"tokenward: the bundled library {LIBRARY_PATH} is missing; reinstall the package "
            "(`pip install ./bindings/python` builds it with cargo)"
        )
    return ctypes.CDLL(LIBRARY_PATH)


lib = _load()


class _Absent:
    """A function the header declares but this build of the library lacks."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, *args: Any) -> Any:
        raise ImportError(
            f"tokenward: {LIBRARY_PATH} has no function {self.name}; the library is older than "
            "the package's declarations: reinstall the package"
        )


def _declare() -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for name, decl in _abi.FUNCTIONS.items():
        try:
            fn = getattr(lib, name)
        except AttributeError:
            out[name] = _Absent(name)
            continue
        fn.restype = ctypes_for(decl.restype)
        fn.argtypes = [ctypes_for(t) for t in decl.argtypes]
        out[name] = fn
    return out


F = _declare()


def raw(name: str) -> Any:
    """A second function object for `name` without argtypes: no per-argument conversion, for
    the hot path, which passes ready-made ctypes objects of exactly the declared types."""
    fn = lib[name]
    fn.restype = ctypes_for(_abi.FUNCTIONS[name].restype)
    return fn


C = _abi.CONSTANTS
TW_OK = C["TW_OK"]
TW_ERR_BUFFER_TOO_SMALL = C["TW_ERR_BUFFER_TOO_SMALL"]

_last_message = F["tw_last_error_message"]
_last_oauth_error = F["tw_last_error_oauth_error"]
_last_oauth_description = F["tw_last_error_oauth_description"]
_last_status = F["tw_last_error_http_status"]
_result_name = F["tw_result_name"]


def _text(b: Optional[bytes]) -> Optional[str]:
    return None if b is None else b.decode("utf-8", "replace")


def last_error(rc: int) -> Exception:
    """The exception for a failed call that returned `rc`, from this thread's last error.
    Call it right after the failing call, on the same thread."""
    message = _text(_last_message()) or ""
    name = _text(_result_name(rc)) or "unknown"
    status = int(_last_status()) or None
    return error_for(
        rc,
        name,
        message,
        error=_text(_last_oauth_error()),
        error_description=_text(_last_oauth_description()),
        status=status,
    )


def check(rc: int) -> None:
    if rc != TW_OK:
        raise last_error(rc)


_string_free = F["tw_string_free"]


def take_string(p: c_void_p) -> Optional[str]:
    """An owned `char *` from the library as a str (None for NULL); the C copy is freed."""
    if not p.value:
        return None
    try:
        return ctypes.string_at(p.value).decode("utf-8")
    finally:
        _string_free(p)


def call_string(fn: Callable[..., int], *args: Any) -> Optional[str]:
    """Calls a function whose last parameter is `char **out` and returns the string."""
    out = c_void_p()
    check(fn(*args, ctypes.byref(out)))
    return take_string(out)


def call_json(fn: Callable[..., int], *args: Any) -> Any:
    text = call_string(fn, *args)
    return None if text is None else json.loads(text)


def call_buffer(fn: Callable[..., int], *args: Any) -> str:
    """Calls a function with the (buf, buf_len, out_len) convention and returns the string."""
    size = 2048
    n = c_size_t()
    while True:
        buf = ctypes.create_string_buffer(size)
        rc = fn(*args, buf, size, ctypes.byref(n))
        if rc == TW_OK:
            return buf.raw[: n.value].decode("utf-8")
        if rc != TW_ERR_BUFFER_TOO_SMALL:
            raise last_error(rc)
        size = max(n.value, size * 2)


def version() -> str:
    return (F["tw_version"]() or b"").decode()
