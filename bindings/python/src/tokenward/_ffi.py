"""The bundled libtokenward through cffi, with the declarations of include/tokenward.h.

`_native` is written by the build (maturin, `bindings = "cffi"`): cbindgen emits the header
from ffi/src with ffi/cbindgen.toml, cffi's recompiler turns it into `_native/ffi.py` (ABI
mode: no compiler at install time) and `_native/__init__.py` opens the library with it. No
C type is written by hand in this package.

Pure translation: the thread's last error to an exception, owned C strings to Python strings
(freed, and so zeroed, by `tw_string_free`).
"""

from __future__ import annotations

import json
from typing import Any, Callable, Optional

from ._errors import error_for

try:
    from ._native import ffi as ffi, lib as lib
except ImportError as e:  # pragma: no cover - a source tree without a build
    raise ImportError(
        f"tokenward: the bundled library could not be loaded ({e}); reinstall the package "
        "(`pip install ./bindings/python` builds it with maturin and cargo)"
    ) from e

NULL: Any = ffi.NULL


class _Functions:
    """`F["tw_x"]`: the library's function `tw_x`, as the header declares it."""

    __slots__ = ()

    def __getitem__(self, name: str) -> Any:
        return getattr(lib, name)


F = _Functions()


def raw(name: str) -> Any:
    """The function `name` itself, for the hot path (cffi converts arguments by the header's
    types; there is no cheaper variant to ask for)."""
    return getattr(lib, name)


class _Constants:
    """`C["TW_X"]`: an integer constant (#define) of the header."""

    __slots__ = ()

    def __getitem__(self, name: str) -> int:
        value = getattr(lib, name)
        assert isinstance(value, int), name
        return value


C = _Constants()
TW_OK: int = lib.TW_OK
TW_ERR_BUFFER_TOO_SMALL: int = lib.TW_ERR_BUFFER_TOO_SMALL

_last_message = lib.tw_last_error_message
_last_oauth_error = lib.tw_last_error_oauth_error
_last_oauth_description = lib.tw_last_error_oauth_description
_last_status = lib.tw_last_error_http_status
_result_name = lib.tw_result_name


def borrowed(p: Any) -> Optional[str]:
    """A borrowed `const char *` result as a str (None for NULL); not freed."""
    if p == NULL:
        return None
    s: bytes = ffi.string(p)
    return s.decode("utf-8", "replace")


def cstr(b: Optional[bytes]) -> Any:
    """A `const char *` argument: the bytes (cffi passes a pointer to them for the call), or
    NULL for None."""
    return NULL if b is None else b


def last_error(rc: int) -> Exception:
    """The exception for a failed call that returned `rc`, from this thread's last error.
    Call it right after the failing call, on the same thread."""
    message = borrowed(_last_message()) or ""
    name = borrowed(_result_name(rc)) or "unknown"
    status = int(_last_status()) or None
    return error_for(
        rc,
        name,
        message,
        error=borrowed(_last_oauth_error()),
        error_description=borrowed(_last_oauth_description()),
        status=status,
    )


def check(rc: int) -> None:
    if rc != TW_OK:
        raise last_error(rc)


_string_free = lib.tw_string_free


def take_string(p: Any) -> Optional[str]:
    """An owned `char *` from the library as a str (None for NULL); the C copy is freed."""
    if p == NULL:
        return None
    try:
        s: bytes = ffi.string(p)
        return s.decode("utf-8")
    finally:
        _string_free(p)


def call_string(fn: Callable[..., int], *args: Any) -> Optional[str]:
    """Calls a function whose last parameter is `char **out` and returns the string."""
    out = ffi.new("char **")
    check(fn(*args, out))
    return take_string(out[0])


def call_json(fn: Callable[..., int], *args: Any) -> Any:
    text = call_string(fn, *args)
    return None if text is None else json.loads(text)


def call_buffer(fn: Callable[..., int], *args: Any) -> str:
    """Calls a function with the (buf, buf_len, out_len) convention and returns the string."""
    size = 2048
    n = ffi.new("size_t *")
    while True:
        buf = ffi.new("char[]", size)
        rc = fn(*args, buf, size, n)
        if rc == TW_OK:
            b: bytes = ffi.buffer(buf, n[0])[:]
            return b.decode("utf-8")
        if rc != TW_ERR_BUFFER_TOO_SMALL:
            raise last_error(rc)
        size = max(n[0], size * 2)


def params(items: Any, what: str, value_what: Callable[[Any], str], secret: bool = False) -> Any:
    """A `tw_param[]` from (name, value) pairs, and the C strings it points to (keep both
    alive for the call): (array, count, keep)."""
    from ._util import text_arg

    pairs = list(items)
    arr = ffi.new("tw_param[]", max(len(pairs), 1))
    keep = []
    for i, (k, v) in enumerate(pairs):
        kb = ffi.new("char[]", text_arg(k, what))
        vb = ffi.new("char[]", text_arg(v, value_what(k), secret=secret))
        keep += [kb, vb]
        arr[i].name = kb
        arr[i].value = vb
    return arr, len(pairs), keep


def string_array(items: Any) -> Any:
    """A `const char *const *` from a list of bytes: (array, keep)."""
    keep = [ffi.new("char[]", b) for b in items]
    return ffi.new("const char *[]", keep or [NULL]), keep


def version() -> str:
    return borrowed(lib.tw_version()) or ""
