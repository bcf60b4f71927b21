"""The package's C declarations against include/tokenward.h, so a header change cannot
silently break Python."""

from __future__ import annotations

import ctypes
import os

from conftest import REPO

import tokenward
from tokenward import _abi, _ffi

HEADER = os.path.join(REPO, "include", "tokenward.h")


def _header():
    with open(HEADER, encoding="utf-8") as f:
        return _abi.parse_header(f.read())


def test_every_declaration_matches_the_header():
    breaking, missing = _abi.compare(_header())
    assert not breaking, "\n".join(breaking)
    assert not missing, "declare these in bindings/python/src/tokenward/_abi.py:\n" + "\n".join(missing)


def test_the_parser_reads_the_whole_header():
    h = _header()
    with open(HEADER, encoding="utf-8") as f:
        text = f.read()
    # every `tw_x(` that starts a declaration was parsed
    import re

    names = set(re.findall(r"^[a-z_].*?\b(tw_\w+)\(", text, re.M))
    assert names == set(h.functions), names ^ set(h.functions)
    assert h.functions["tw_client_access_token"] == _abi.Decl(
        "tw_result", ("const tw_client *", "char *", "size_t", "size_t *")
    )


def test_the_ctypes_declarations_follow_the_c_types():
    for name, decl in _abi.FUNCTIONS.items():
        fn = _ffi.F[name]
        if isinstance(fn, _ffi._Absent):
            raise AssertionError(f"{name} is declared but the bundled library lacks it")
        assert fn.restype == _ffi.ctypes_for(decl.restype), name
        assert list(fn.argtypes) == [_ffi.ctypes_for(t) for t in decl.argtypes], name
    # the ctypes types have the C types' sizes
    assert ctypes.sizeof(_ffi.CTYPES["tw_result"]) == 4
    assert ctypes.sizeof(_ffi.CTYPES["uint16_t"]) == 2
    assert ctypes.sizeof(_ffi.CTYPES["uint64_t"]) == 8
    assert ctypes.sizeof(_ffi.tw_param) == 2 * ctypes.sizeof(ctypes.c_void_p)
    assert [f[0] for f in _ffi.tw_param._fields_] == [f[0] for f in _abi.STRUCTS["tw_param"]]


def test_the_installed_package_was_built_from_this_header():
    bundled = os.path.join(os.path.dirname(tokenward.__file__), "tokenward.h")
    with open(bundled, encoding="utf-8") as a, open(HEADER, encoding="utf-8") as b:
        assert _abi.parse_header(a.read()) == _abi.parse_header(b.read()), (
            "the installed package is older than include/tokenward.h; reinstall it"
        )


def test_error_classes_follow_the_result_codes():
    for name, number in _abi.CONSTANTS.items():
        if not name.startswith("TW_ERR_"):
            continue
        code = _ffi.F["tw_result_name"](number).decode()
        err = _ffi.last_error.__globals__["error_for"](number, code, "m")
        assert err.number == number and err.code == code
        if number < 100:
            assert type(err).__name__ != "InterfaceError", name
    assert tokenward.library_version == tokenward.__version__
