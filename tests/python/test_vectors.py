"""The shared vectors of tests/vectors/ (see its README) through the Python package, offline.

What the package can reach without a server: PKCE verifiers (Login.from_json checks the stored
verifier; the package never shows a challenge), callbacks (Client.exchange_code with the
vectors' pending login; a callback that passes every check goes on to the code exchange, which
meets a closed loopback port: TransportError is the Python view of "accepted"), URL templates
(Client.from_template, the issuer seen through logout_url) and API errors (the classification
the requests/httpx adapters raise). Token responses and JWT claim sets reach Python only over
HTTP: tests/faults/server.py serves them (its /vector/ and /vector-jwt/ routes) to Client.token.
Discovery documents name their own issuer URL, which a loopback server cannot be: not run here.
"""

from __future__ import annotations

import json
import os

import pytest

import tokenward
from tokenward import _api

VECTORS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "vectors")


def vectors(name):
    with open(os.path.join(VECTORS, name), encoding="utf-8") as f:
        return json.load(f)


PKCE = vectors("pkce.json")
CALLBACKS = vectors("callbacks.json")
TEMPLATES = vectors("templates.json")
API = vectors("api_errors.json")
TOKENS = vectors("token_responses.json")
JWTS = vectors("jwt_claims.json")
# Nothing listens on port 9 of loopback (the discard service) in the test environments.
CLOSED_KEYCLOAK = "http://127.0.0.1:9"


def thaw(value):
    """TokenInfo's read-only claims as plain JSON values."""
    if isinstance(value, (str, bytes)) or value is None:
        return value
    if hasattr(value, "items"):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [thaw(v) for v in value]
    return value


def login_json(verifier):
    return json.dumps(
        {"state": "s", "nonce": "n", "code_verifier": verifier, "redirect_uri": "http://127.0.0.1:8765/callback"}
    )


@pytest.mark.parametrize("v", PKCE["valid"], ids=lambda v: v["name"])
def test_pkce_valid_verifier_is_accepted(v):
    assert tokenward.Login.from_json(login_json(v["verifier"])).url is None


@pytest.mark.parametrize("v", PKCE["invalid"], ids=lambda v: v["name"])
def test_pkce_invalid_verifier_is_refused(v):
    with pytest.raises(tokenward.TokenwardError) as e:
        tokenward.Login.from_json(login_json(v["verifier"]))
    assert e.value.code == v["error"] and "43 to 128" in str(e.value)


@pytest.fixture(scope="module")
def vion():
    with tokenward.Client.keycloak(CLOSED_KEYCLOAK, "vion", client_id="vion-spa", timeout=5) as c:
        yield c


@pytest.mark.parametrize("v", CALLBACKS["cases"], ids=lambda v: v["name"])
def test_callback(vion, v):
    pending = dict(CALLBACKS["pending"], iss_required=v.get("iss_required", CALLBACKS["pending"]["iss_required"]))
    login = tokenward.Login.from_json(json.dumps(pending))
    if "code" in v["expect"]:
        with pytest.raises(tokenward.TransportError):
            vion.exchange_code(v["url"], login)
        return
    want = v["expect"]["error"]
    with pytest.raises(tokenward.TokenwardError) as e:
        vion.exchange_code(v["url"], login)
    assert e.value.code == want["code"], str(e.value)
    if "oauth_error" in want:
        assert isinstance(e.value, tokenward.OAuthError)
        assert (e.value.error, e.value.error_description) == (want["oauth_error"], want["description"])
    assert pending["code_verifier"] not in str(e.value)


@pytest.mark.parametrize("v", TEMPLATES["cases"], ids=lambda v: v["name"])
def test_template(v):
    want = v["expect"]
    if "issuer" in want:
        with tokenward.Client.from_template(v["template"], v["values"], client_id="vault-service") as c:
            assert c.logout_url().startswith(want["issuer"] + "/protocol/openid-connect/logout?")
        return
    with pytest.raises(tokenward.ConfigError) as e:
        tokenward.Client.from_template(v["template"], v["values"], client_id="vault-service")
    assert e.value.code == want["error"]["code"]
    for word in want["error"].get("message_contains", []):
        assert word in str(e.value)


@pytest.mark.parametrize("v", API["cases"], ids=lambda v: v["name"])
def test_api_error_as_the_adapters_raise_it(v):
    want = v["expect"]
    err = _api.rejected(v["status"], v["body"].encode("utf-8"), v["www_authenticate"], None)
    assert isinstance(err, tokenward.ApiError) and err.status == v["status"]
    assert err.error == want.get("api_code", want.get("oauth_error"))
    assert err.error_description == want.get("api_message", want.get("description"))


@pytest.fixture
def vector_server(scripted):
    """The suite's tests/faults/server.py (conftest's `scripted`), which serves the vectors."""
    return scripted.url


@pytest.mark.parametrize("v", TOKENS["cases"], ids=lambda v: v["name"])
def test_token_response(vector_server, v):
    url = f"{vector_server}/vector/{v['name']}/token"
    with tokenward.Client.from_token_url(url, client_id="c1", client_secret="s1", timeout=5) as c:
        if "token" in v["expect"]:
            want = v["expect"]["token"]
            assert c.token() == want["access_token"]
            info = c.token_info()
            assert (info.refresh_token, info.id_token) == (want["refresh_token"], want["id_token"])
            assert (info.token_type, info.expires_in, info.scope) == (
                want["token_type"],
                want["expires_in"],
                want["scope"],
            )
            assert dict(info.extra) == v["expect"]["extra"]
            return
        want = v["expect"]["error"]
        with pytest.raises(tokenward.TokenwardError) as e:
            c.token()
    assert e.value.code == want["code"], str(e.value)
    if "oauth_error" in want:
        assert (e.value.error, e.value.error_description) == (want["oauth_error"], want["description"])
    if "status" in want:
        assert e.value.status == want["status"]
    for word in want.get("message_contains", []):
        assert word in str(e.value)


@pytest.mark.parametrize("v", JWTS["cases"], ids=lambda v: v["name"])
def test_jwt_claims_and_required_claims(vector_server, v):
    url = f"{vector_server}/vector-jwt/{v['name']}/token"
    kw = dict(client_id="c1", client_secret="s1", timeout=5, required_claims=v["required_claims"])
    with tokenward.Client.from_token_url(url, **kw) as c:
        if v["required_outcome"].get("ok"):
            assert c.token() == v["jwt"]
            info = c.token_info()
            assert thaw(info.claims) == v["claims"]
            assert info.roles == frozenset(v["expect"]["realm_roles"])
            return
        with pytest.raises(tokenward.MissingClaimError) as e:
            c.token()
    want = v["required_outcome"]["error"]
    assert e.value.code == want["code"] and f"`{want['claim']}`" in str(e.value)
