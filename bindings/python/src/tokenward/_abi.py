"""The C interface this package calls, written as C declarations, and a checker against
`include/tokenward.h`.

Every function and constant the package uses is listed here exactly as the header spells its
types. `_ffi.py` turns these C types into ctypes with the fixed table `CTYPES` below; the build
(`setup.py`) and the tests (`tests/python/test_abi.py`) parse the header and compare, so a
header change cannot silently break Python: a changed signature fails the build, a new function
fails the tests until it is declared here.

This module imports nothing but the standard library and never loads the library.
"""

from __future__ import annotations

import re
from typing import Dict, List, NamedTuple, Tuple


class Decl(NamedTuple):
    restype: str
    argtypes: Tuple[str, ...]


def _d(restype: str, *argtypes: str) -> Decl:
    return Decl(restype, tuple(argtypes))


# name -> (return type, argument types), as include/tokenward.h writes them.
FUNCTIONS: Dict[str, Decl] = {
    "tw_version": _d("const char *"),
    # clients
    "tw_client_from_token_url": _d("tw_result", "const char *", "const tw_options *", "tw_client **"),
    "tw_client_from_keycloak": _d(
        "tw_result", "const char *", "const char *", "const tw_options *", "tw_client **"
    ),
    "tw_client_from_template": _d(
        "tw_result", "const char *", "const tw_param *", "size_t", "const tw_options *", "tw_client **"
    ),
    "tw_client_discover": _d("tw_result", "const char *", "const tw_options *", "tw_client **"),
    "tw_client_from_env": _d("tw_result", "const char *", "tw_client **"),
    "tw_client_from_env_with": _d(
        "tw_result", "const char *", "const tw_param *", "size_t", "const tw_options *", "tw_client **"
    ),
    "tw_client_free": _d("void", "tw_client *"),
    "tw_api_error": _d("tw_result", "uint16_t", "const char *", "const uint8_t *", "size_t"),
    "tw_client_access_token": _d("tw_result", "const tw_client *", "char *", "size_t", "size_t *"),
    "tw_client_access_token_view": _d(
        "tw_result", "const tw_client *", "char *", "size_t", "size_t *", "uint64_t *", "uint64_t *"
    ),
    "tw_client_generation": _d("tw_result", "const tw_client *", "uint64_t *"),
    "tw_client_access_token_after_rejection": _d(
        "tw_result", "const tw_client *", "const char *", "char *", "size_t", "size_t *"
    ),
    "tw_client_authorization_header": _d(
        "tw_result", "const tw_client *", "char *", "size_t", "size_t *"
    ),
    "tw_client_token": _d("tw_result", "const tw_client *", "tw_token **"),
    "tw_client_claims_json": _d("tw_result", "const tw_client *", "char **"),
    "tw_client_client_id": _d("tw_result", "const tw_client *", "char **"),
    "tw_client_refresh": _d("tw_result", "const tw_client *", "tw_token **"),
    "tw_client_resume": _d("tw_result", "const tw_client *", "const char *", "tw_token **"),
    "tw_client_revoke": _d("tw_result", "const tw_client *", "const char *", "tw_token_kind"),
    "tw_client_introspect": _d(
        "tw_result", "const tw_client *", "const char *", "tw_token_kind", "char **"
    ),
    "tw_client_end_session_url": _d("tw_result", "const tw_client *", "const char *", "char **"),
    # issue 17: the device login, token exchange, logout, signed-JWT client authentication
    "tw_client_device_begin": _d("tw_result", "const tw_client *", "const char *", "bool", "tw_device **"),
    "tw_device_user_code": _d("const char *", "const tw_device *"),
    "tw_device_verification_uri": _d("const char *", "const tw_device *"),
    "tw_device_verification_uri_complete": _d("const char *", "const tw_device *"),
    "tw_device_expires_in": _d("uint64_t", "const tw_device *"),
    "tw_device_interval": _d("uint64_t", "const tw_device *"),
    "tw_client_device_wait": _d("tw_result", "const tw_client *", "const tw_device *", "tw_token **"),
    "tw_device_cancel": _d("void", "const tw_device *"),
    "tw_device_free": _d("void", "tw_device *"),
    "tw_client_exchange_token": _d(
        "tw_result", "const tw_client *", "const char *", "const char *", "const char *", "tw_token_kind",
        "tw_token **",
    ),
    "tw_client_logout": _d("tw_result", "const tw_client *", "const char *"),
    "tw_options_set_private_key_file": _d("tw_result", "tw_options *", "const char *", "const char *"),
    "tw_options_set_private_key_pem": _d("tw_result", "tw_options *", "const char *", "const char *"),
    # verification
    "tw_client_verify_access_token": _d(
        "tw_result",
        "const tw_client *",
        "const char *",
        "const char *",
        "const char *const *",
        "size_t",
        "const char *const *",
        "size_t",
        "char **",
    ),
    "tw_client_userinfo": _d("tw_result", "const tw_client *", "char **"),
    # the last error
    "tw_last_error_code": _d("tw_result"),
    "tw_last_error_message": _d("const char *"),
    "tw_last_error_oauth_error": _d("const char *"),
    "tw_last_error_oauth_description": _d("const char *"),
    "tw_last_error_http_status": _d("uint16_t"),
    "tw_last_error_clear": _d("void"),
    "tw_result_name": _d("const char *", "tw_result"),
    # logins
    "tw_client_login_begin": _d(
        "tw_result",
        "const tw_client *",
        "const char *",
        "const char *",
        "const tw_param *",
        "size_t",
        "tw_login **",
    ),
    "tw_login_url": _d("const char *", "const tw_login *"),
    "tw_login_to_json": _d("tw_result", "const tw_login *", "char **"),
    "tw_login_from_json": _d("tw_result", "const char *", "tw_login **"),
    "tw_login_free": _d("void", "tw_login *"),
    "tw_client_login_finish": _d(
        "tw_result", "const tw_client *", "const tw_login *", "const char *", "tw_token **"
    ),
    # options
    "tw_options_new": _d("tw_result", "const char *", "tw_options **"),
    "tw_options_free": _d("void", "tw_options *"),
    "tw_options_set_secret": _d("tw_result", "tw_options *", "const char *"),
    "tw_options_set_auth_method": _d("tw_result", "tw_options *", "tw_auth_method"),
    "tw_options_set_scope": _d("tw_result", "tw_options *", "const char *"),
    "tw_options_set_audience": _d("tw_result", "tw_options *", "const char *"),
    "tw_options_set_redirect_uri": _d("tw_result", "tw_options *", "const char *"),
    "tw_options_add_required_claim": _d("tw_result", "tw_options *", "const char *"),
    "tw_options_set_refresh_margin_ms": _d("tw_result", "tw_options *", "uint64_t"),
    "tw_options_set_timeout_ms": _d("tw_result", "tw_options *", "uint64_t"),
    "tw_options_set_connect_timeout_ms": _d("tw_result", "tw_options *", "uint64_t"),
    "tw_options_set_ca_file": _d("tw_result", "tw_options *", "const char *"),
    "tw_options_set_trust": _d("tw_result", "tw_options *", "tw_trust"),
    "tw_options_set_proxy_from_env": _d("tw_result", "tw_options *", "bool"),
    "tw_options_set_on_token": _d("tw_result", "tw_options *", "tw_token_callback", "void *"),
    "tw_options_set_expected_issuer": _d("tw_result", "tw_options *", "const char *"),
    "tw_options_set_leeway_ms": _d("tw_result", "tw_options *", "uint64_t"),
    "tw_options_set_store": _d("tw_result", "tw_options *", "const char *"),
    # strings and tokens
    "tw_string_free": _d("void", "char *"),
    "tw_token_free": _d("void", "tw_token *"),
    "tw_token_access_token": _d("tw_result", "const tw_token *", "char *", "size_t", "size_t *"),
    "tw_token_refresh_token": _d("tw_result", "const tw_token *", "char **"),
    "tw_token_id_token": _d("tw_result", "const tw_token *", "char **"),
    "tw_token_scope": _d("tw_result", "const tw_token *", "char **"),
    "tw_token_claims_json": _d("tw_result", "const tw_token *", "char **"),
    "tw_token_extra_json": _d("tw_result", "const tw_token *", "char **"),
    "tw_token_id_token_claims_json": _d("tw_result", "const tw_token *", "char **"),
    "tw_token_expires_in": _d("uint64_t", "const tw_token *"),
    "tw_token_lifetime_ms": _d("uint64_t", "const tw_token *"),
}

# Functions of the header this package deliberately does not call (test builds only, ...).
NOT_WRAPPED: Dict[str, str] = {
    "tw_test_force_panic": "exported only by test builds (cargo feature test-hooks)",
}

# typedef name -> what it stands for, as the header declares it.
TYPEDEFS: Dict[str, str] = {
    "tw_result": "uint32_t",
    "tw_token_kind": "uint32_t",
    "tw_auth_method": "uint32_t",
    "tw_trust": "uint32_t",
    "tw_token_callback": "void (*)(void *, const tw_token *)",
}

# typedef struct { ... } name: field name and C type, in order.
STRUCTS: Dict[str, Tuple[Tuple[str, str], ...]] = {
    "tw_param": (("name", "const char *"), ("value", "const char *")),
}

OPAQUE = ("tw_client", "tw_login", "tw_options", "tw_token", "tw_device")

CONSTANTS: Dict[str, int] = {
    "TW_OK": 0,
    "TW_ERR_CONFIG": 1,
    "TW_ERR_INSECURE_URL": 2,
    "TW_ERR_TRANSPORT": 3,
    "TW_ERR_TIMEOUT": 4,
    "TW_ERR_HTTP": 5,
    "TW_ERR_OAUTH": 6,
    "TW_ERR_API": 7,
    "TW_ERR_INVALID_RESPONSE": 8,
    "TW_ERR_STATE_MISMATCH": 9,
    "TW_ERR_ISSUER_MISMATCH": 10,
    "TW_ERR_MISSING_CLAIM": 11,
    "TW_ERR_LOGIN_REQUIRED": 12,
    "TW_ERR_INVALID_TOKEN": 13,
    "TW_ERR_NULL_ARGUMENT": 100,
    "TW_ERR_INVALID_UTF8": 101,
    "TW_ERR_BUFFER_TOO_SMALL": 102,
    "TW_ERR_PANIC": 103,
    "TW_ERR_INVALID_ARGUMENT": 104,
    "TW_TOKEN_KIND_ACCESS": 0,
    "TW_TOKEN_KIND_REFRESH": 1,
    "TW_AUTH_METHOD_AUTO": 0,
    "TW_AUTH_METHOD_CLIENT_SECRET_POST": 1,
    "TW_AUTH_METHOD_CLIENT_SECRET_BASIC": 2,
    "TW_AUTH_METHOD_NONE": 3,
    "TW_AUTH_METHOD_PRIVATE_KEY_JWT": 4,
    "TW_AUTH_METHOD_CLIENT_SECRET_JWT": 5,
    "TW_TRUST_WEBPKI": 0,
    "TW_TRUST_PLATFORM": 1,
}


# --- the header, parsed -------------------------------------------------------------------


class Header(NamedTuple):
    functions: Dict[str, Decl]
    typedefs: Dict[str, str]
    structs: Dict[str, Tuple[Tuple[str, str], ...]]
    opaque: Tuple[str, ...]
    constants: Dict[str, int]


def normalize_type(t: str) -> str:
    """`const  char*` -> `const char *`: one space between words, ` *` before each star."""
    t = re.sub(r"\s+", " ", t.strip())
    t = re.sub(r"\s*\*\s*", " *", t)
    t = re.sub(r"\*\s+\*", "**", t)
    return t.strip()


def _strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def _split_params(params: str) -> List[str]:
    params = params.strip()
    if params in ("", "void"):
        return []
    out = []
    for p in params.split(","):
        p = normalize_type(p)
        # Drop the parameter's name: the last identifier, unless the type is a bare word.
        m = re.match(r"^(.*?)\s*\b([A-Za-z_]\w*)$", p)
        if m and m.group(1) and m.group(1) not in ("const", "struct", "unsigned"):
            p = m.group(1)
        out.append(normalize_type(p))
    return out


def parse_header(text: str) -> Header:
    """The declarations of a cbindgen-generated tokenward.h (no preprocessor needed)."""
    body = _strip_comments(text)
    constants = {
        m.group(1): int(m.group(2), 0)
        for m in re.finditer(r"^\s*#define\s+(TW_\w+)\s+(-?(?:0x[0-9A-Fa-f]+|\d+))[uUlL]*\s*$", body, re.M)
    }
    body = re.sub(r"^\s*#.*$", " ", body, flags=re.M)
    body = body.replace('extern "C" {', " ").replace('extern "C"{', " ")

    typedefs: Dict[str, str] = {}
    structs: Dict[str, Tuple[Tuple[str, str], ...]] = {}
    opaque: List[str] = []
    for m in re.finditer(r"typedef\s+struct\s*\{(.*?)\}\s*(\w+)\s*;", body, re.S):
        fields = []
        for f in m.group(1).split(";"):
            f = normalize_type(f)
            if not f:
                continue
            fm = re.match(r"^(.*?)\s*\b(\w+)$", f)
            if not fm:
                raise ValueError(f"cannot read field `{f}` of struct {m.group(2)}")
            fields.append((fm.group(2), normalize_type(fm.group(1))))
        structs[m.group(2)] = tuple(fields)
    body = re.sub(r"typedef\s+struct\s*\{.*?\}\s*\w+\s*;", " ", body, flags=re.S)
    for m in re.finditer(r"typedef\s+struct\s+(\w+)\s+(\w+)\s*;", body):
        opaque.append(m.group(2))
    body = re.sub(r"typedef\s+struct\s+\w+\s+\w+\s*;", " ", body)
    for m in re.finditer(r"typedef\s+([^;(]*?)\(\s*\*\s*(\w+)\s*\)\s*\(([^)]*)\)\s*;", body, re.S):
        ret = normalize_type(m.group(1))
        args = ", ".join(_split_params(m.group(3)))
        typedefs[m.group(2)] = f"{ret} (*)({args})"
    body = re.sub(r"typedef\s+[^;(]*?\(\s*\*\s*\w+\s*\)\s*\([^)]*\)\s*;", " ", body, flags=re.S)
    for m in re.finditer(r"typedef\s+([^;]*?)\s+(\w+)\s*;", body):
        typedefs[m.group(2)] = normalize_type(m.group(1))
    body = re.sub(r"typedef\s+[^;]*;", " ", body)

    functions: Dict[str, Decl] = {}
    for m in re.finditer(r"([A-Za-z_][\w\s\*]*?)\b(tw_\w+)\s*\(([^()]*)\)\s*;", body, re.S):
        ret = normalize_type(m.group(1))
        functions[m.group(2)] = Decl(ret, tuple(_split_params(m.group(3))))
    return Header(functions, typedefs, structs, tuple(opaque), constants)


def compare(header: Header) -> Tuple[List[str], List[str]]:
    """(breaking, missing): differences that break the package, and header functions the
    package does not declare yet."""
    breaking: List[str] = []
    for name, decl in FUNCTIONS.items():
        have = header.functions.get(name)
        if have is None:
            breaking.append(f"{name}: declared in Python but not in the header")
        elif have != decl:
            breaking.append(
                f"{name}: the header says {_fmt(name, have)}, Python says {_fmt(name, decl)}"
            )
    for name, want in TYPEDEFS.items():
        got = header.typedefs.get(name)
        if got != want:
            breaking.append(f"typedef {name}: the header says {got!r}, Python says {want!r}")
    for name, fields in STRUCTS.items():
        got_fields = header.structs.get(name)
        if got_fields != fields:
            breaking.append(f"struct {name}: the header says {got_fields!r}, Python says {fields!r}")
    for name in OPAQUE:
        if name not in header.opaque:
            breaking.append(f"opaque type {name} is not in the header")
    for name, value in CONSTANTS.items():
        got_value = header.constants.get(name)
        if got_value != value:
            breaking.append(f"{name}: the header says {got_value}, Python says {value}")
    missing = [
        f"{name}: in the header ({_fmt(name, decl)}) but not declared in "
        "bindings/python/src/tokenward/_abi.py"
        for name, decl in sorted(header.functions.items())
        if name not in FUNCTIONS and name not in NOT_WRAPPED
    ]
    missing += [
        f"{name} = {value}: a constant in the header that _abi.CONSTANTS lacks"
        for name, value in sorted(header.constants.items())
        if name not in CONSTANTS
    ]
    return breaking, missing


def _fmt(name: str, d: Decl) -> str:
    return f"{d.restype} {name}({', '.join(d.argtypes) or 'void'})"
