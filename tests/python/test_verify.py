"""Verification against the real Keycloak: access tokens for resource servers
(`verify_access_token`), the verified ID-token claims of a login, userinfo, and the options
that shape the checks (`expected_issuer`, `leeway`). Every rule is the library's; these tests
check that Python passes the arguments through and gets the typed errors back."""

from __future__ import annotations

import datetime

import pytest

from kc_login import login as kc_login
import tokenward

REDIRECT = "http://127.0.0.1:8765/callback"


def test_an_access_token_from_keycloak_verifies_with_its_claims(kc):
    token = kc.client("vault-service", scope="openid").token()
    verifier = kc.client("vault-service", leeway=5)
    claims = verifier.verify_access_token(token)
    assert claims["iss"] == kc.issuer("acme")
    assert claims["tenant"] == "acme" and claims["azp"] == "vault-service"
    assert verifier.verify_access_token(token, required_claims=["tenant"]) == claims
    assert verifier.verify_access_token(token, required_claims="tenant azp") == claims


def test_each_failed_rule_is_a_typed_error_naming_it_never_the_token(kc):
    token = kc.client("vault-notenant", scope="openid").token()
    verifier = kc.client("vault-service")
    with pytest.raises(tokenward.InvalidTokenError) as e:
        verifier.verify_access_token(token, audience="billing-api")
    assert "`aud`" in str(e.value) and "billing-api" in str(e.value)
    assert e.value.code == "invalid_token"
    with pytest.raises(tokenward.MissingClaimError) as m:
        verifier.verify_access_token(token, required_claims=["tenant"])
    assert "tenant" in str(m.value)
    with pytest.raises(tokenward.InvalidTokenError) as r:
        verifier.verify_access_token(token, required_roles=["no-such-role"])
    assert "no-such-role" in str(r.value)
    with pytest.raises(tokenward.InvalidTokenError) as s:
        verifier.verify_access_token(token[:-6] + "AAAAAA")
    assert "signature" in str(s.value)
    # Another realm's token: signed by a key this realm does not publish.
    with pytest.raises(tokenward.InvalidTokenError) as i:
        verifier.verify_access_token(kc.client("vion-service").token())
    assert "key" in str(i.value) and "provider" in str(i.value)
    for err in (e, m, r, s, i):
        assert token not in str(err.value) and token not in repr(err.value)


def test_expected_issuer_and_leeway_reach_the_library(kc):
    token = kc.client("vault-service").token()
    split = kc.client("vault-service", expected_issuer="https://sso.example.com/realms/acme")
    with pytest.raises(tokenward.InvalidTokenError) as e:
        split.verify_access_token(token)
    assert "https://sso.example.com/realms/acme" in str(e.value)
    # The issuer the tokens carry, named explicitly: verifies.
    assert kc.client("vault-service", expected_issuer=kc.issuer("acme")).verify_access_token(token)
    assert kc.client("vault-service", leeway=datetime.timedelta(0)).verify_access_token(token)
    with pytest.raises(tokenward.ConfigError):
        kc.client("vault-service", leeway=-1)
    with pytest.raises(TypeError):
        kc.client("vault-service", expected_issuer=42)
    # The same settings from the environment, read by the library.
    env = {
        "TOKENWARD_KEYCLOAK": kc.url,
        "TOKENWARD_REALM": "acme",
        "TOKENWARD_CLIENT_ID": "vault-service",
        "TOKENWARD_EXPECTED_ISSUER": "https://sso.example.com/realms/acme",
        "TOKENWARD_LEEWAY": "10",
    }
    with tokenward.Client.from_env(environ=env) as c:
        with pytest.raises(tokenward.InvalidTokenError):
            c.verify_access_token(token)
    # An option wins over the environment.
    with tokenward.Client.from_env(environ=env, expected_issuer=kc.issuer("acme")) as c:
        assert c.verify_access_token(token)["iss"] == kc.issuer("acme")


def test_arguments_are_checked_before_the_library_is_called(kc):
    verifier = kc.client("vault-service")
    with pytest.raises(TypeError):
        verifier.verify_access_token(b"bytes")
    with pytest.raises(TypeError):
        verifier.verify_access_token("a.b.c", required_claims=[1])
    with pytest.raises(tokenward.ConfigError):
        verifier.verify_access_token("a\0b")
    with pytest.raises(tokenward.InvalidTokenError):
        verifier.verify_access_token("not-a-jwt")


def test_a_login_brings_verified_id_token_claims_and_userinfo(kc):
    with tokenward.Client.keycloak(
        kc.url, "vion", client_id="vion-spa", redirect_uri=REDIRECT, scope="openid user_impersonation"
    ) as client:
        login = client.authorization_url()
        callback = kc_login(login.url, "vion-user", kc.env["TW_VION_USER_PASSWORD"])
        info = client.exchange_code(callback)
        idc = info.id_token_claims
        assert idc["aud"] == "vion-spa" and idc["iss"] == kc.issuer("vion")
        assert idc["preferred_username"] == "vion-user" and idc["nonce"]
        assert client.token_info().id_token_claims["sub"] == idc["sub"]
        me = client.userinfo()
        assert me["sub"] == idc["sub"] and me["preferred_username"] == "vion-user"
        # The session's own access token verifies as a resource server would see it.
        assert client.verify_access_token(info.access_token)["sub"] == idc["sub"]
        with pytest.raises(tokenward.InvalidTokenError) as e:
            client.verify_access_token(info.id_token)
        assert "not an access token" in str(e.value)


def test_client_credentials_have_no_id_token_claims(kc):
    info = kc.client("ecoinvent-client").token_info()
    assert dict(info.id_token_claims) == {}
