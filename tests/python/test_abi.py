"""The package's C declarations are include/tokenward.h's: cffi reads the header (pycparser, a
real C parser) and every function, constant and struct the installed package calls through
has exactly the header's type. No C type is written by hand in the package."""

from __future__ import annotations

import os
import re

import cffi
import pytest

from conftest import REPO

import tokenward
from tokenward import _ffi
from tokenward._native import ffi, lib

HEADER = os.path.join(REPO, "include", "tokenward.h")
PKG_SRC = os.path.join(REPO, "bindings", "python", "src", "tokenward")


def _cdef_text(text: str) -> str:
    """The header as cffi's cdef() takes it: the `#ifdef __cplusplus` blocks and the other
    preprocessor lines out, the integer `#define`s kept (cffi reads those)."""
    text = re.sub(r"^#ifdef __cplusplus\n.*?^#endif[^\n]*\n", "", text, flags=re.M | re.S)
    return "\n".join(
        line
        for line in text.splitlines()
        if not line.lstrip().startswith("#") or re.match(r"\s*#define\s+TW_\w+\s+\d+\s*$", line)
    )


@pytest.fixture(scope="module")
def header():
    with open(HEADER, encoding="utf-8") as f:
        text = f.read()
    ref = cffi.FFI()
    ref.cdef(_cdef_text(text))
    names = re.findall(r"^[a-z_][^\n(]*?\b(tw_\w+)\(", text, re.M)
    constants = dict(re.findall(r"^#define\s+(TW_\w+)\s+(\d+)\s*$", text, re.M))
    return ref, names, {k: int(v) for k, v in constants.items()}


def test_every_function_of_the_header_has_the_headers_type(header):
    ref, names, _ = header
    assert len(names) > 70, names
    ref_lib = ref.dlopen(_library_file())
    for name in names:
        want = _spelling(ref.typeof(getattr(ref_lib, name)).cname)
        got = _spelling(ffi.typeof(getattr(lib, name)).cname)
        assert got == want, f"{name}: the package has {got}, include/tokenward.h says {want}"
    # one spelled out, so the comparison cannot pass by comparing nothing
    assert _spelling(ffi.typeof(lib.tw_client_access_token).cname) == (
        "uint32_t(*)(tw_client *, char *, size_t, size_t *)"
    )


def _spelling(cname: str) -> str:
    """One spelling of a type: cbindgen declares each opaque type as
    `typedef struct tw_x tw_x;`, so `struct tw_x` and `tw_x` are the same type (cffi names it
    after the declaration it met first); cffi does not keep `const` in a type's name."""
    return cname.replace("struct ", "")


def _library_file() -> str:
    """The library the package bundles (maturin names it after the module)."""
    import tokenward._native as native

    d = os.path.dirname(native.__file__)
    (so,) = [f for f in os.listdir(d) if f.endswith((".so", ".dylib", ".dll"))]
    return os.path.join(d, so)


def test_every_constant_and_struct_is_the_headers(header):
    ref, _, constants = header
    assert constants["TW_ERR_BUFFER_TOO_SMALL"] == 102
    for name, value in constants.items():
        assert getattr(lib, name) == value, name
        assert _ffi.C[name] == value, name
    assert ffi.sizeof("tw_param") == ref.sizeof("tw_param") == 2 * ffi.sizeof("void *")
    assert [f for f, _ in ffi.typeof("tw_param").fields] == [f for f, _ in ref.typeof("tw_param").fields]


def test_no_c_type_is_written_by_hand_in_the_package():
    for f in sorted(os.listdir(PKG_SRC)):
        if f.endswith(".py"):
            with open(os.path.join(PKG_SRC, f), encoding="utf-8") as fh:
                src = fh.read()
            assert not re.search(r"^\s*(import ctypes|from ctypes)", src, re.M), f
            assert "cdef(" not in src, f
    assert not os.path.exists(os.path.join(PKG_SRC, "_abi.py"))


def test_error_classes_follow_the_result_codes(header):
    _, _, constants = header
    for name, number in constants.items():
        if not name.startswith("TW_ERR_"):
            continue
        code = _ffi.borrowed(lib.tw_result_name(number))
        err = _ffi.last_error.__globals__["error_for"](number, code, "m")
        assert err.number == number and err.code == code
        if number < 100:
            assert type(err).__name__ != "InterfaceError", name
    assert tokenward.library_version == tokenward.__version__
