"""The four seed scenarios against the real Keycloak harness."""

from __future__ import annotations

import json
import urllib.parse

import pytest

from conftest import assert_lifespan
from kc_client import REDIRECT
from kc_login import login as kc_login
import tokenward



# --- client credentials, one realm at a time ---------------------------------------------


def test_ecoinvent_client_credentials_3600s_with_keycloak_extras(kc):
    client = kc.client("ecoinvent-client")
    token = client.token()
    assert token.count(".") == 2  # a JWT
    assert client.token() == token  # cached
    info = client.token_info()
    assert info.access_token == token
    assert_lifespan(info, 3600)
    assert info.refresh_token is None  # client credentials: no refresh token at Keycloak
    assert "not-before-policy" in info.extra
    assert info.claims["azp"] == "ecoinvent-client"
    assert info.claims["iss"] == kc.issuer("ecoinvent")
    assert info.expires_at is not None and info.issued_at is not None
    assert (info.expires_at - info.issued_at).total_seconds() == 3600
    assert info.lifetime is not None and 3590 <= info.lifetime.total_seconds() <= 3600


def test_ecoinvent_from_the_documented_token_url(kc):
    with tokenward.Client.from_token_url(
        kc.token_url("ecoinvent"),
        client_id="ecoinvent-client",
        client_secret=kc.secret("ecoinvent-client"),
    ) as client:
        assert_lifespan(client.token_info(), 3600)


def test_wrong_secret_is_invalid_client_with_keycloaks_description(kc):
    client = kc.client("ecoinvent-client", client_secret="not-the-secret-0123456789")
    with pytest.raises(tokenward.OAuthError) as e:
        client.token()
    err = e.value
    assert err.error == "invalid_client"
    assert err.error_description == "Invalid client or Invalid client credentials"
    assert err.status == 401
    assert err.code == "oauth" and err.number == 6
    assert isinstance(err, tokenward.ServerError) and isinstance(err, tokenward.TokenwardError)
    assert "invalid_client" in str(err)
    assert "not-the-secret" not in str(err) and "not-the-secret" not in repr(err)


def test_unknown_scope_is_invalid_scope(kc):
    client = kc.client("iopole-user", scope="no-such-scope")
    with pytest.raises(tokenward.OAuthError) as e:
        client.token()
    assert e.value.error == "invalid_scope"
    assert "no-such-scope" in (e.value.error_description or "")
    assert e.value.status == 400


@pytest.mark.parametrize(
    "client_id, role, other", [("iopole-admin", "admin", "user"), ("iopole-user", "user", "admin")]
)
def test_iopole_roles_and_optional_scopes(kc, client_id, role, other):
    client = kc.client(client_id, scope=["invoicing", "directory"])
    info = client.token_info()
    assert role in info.roles and other not in info.roles
    assert {"invoicing", "directory"} <= info.scopes
    assert_lifespan(info, 600)
    assert role in repr(info)  # roles are shown, tokens are not
    plain = kc.client(client_id)
    assert "invoicing" not in plain.token_info().scopes


def test_docbyte_template_with_required_tenant_claim(kc):
    u = urllib.parse.urlsplit(kc.url)
    template = f"{u.scheme}://{{host}}:{u.port}/realms/{{tenant}}"
    with tokenward.Client.from_template(
        template,
        host=u.hostname,
        tenant="acme",
        client_id="vault-service",
        client_secret=kc.secret("vault-service"),
        scope="openid",
        required_claims=["tenant"],
    ) as client:
        info = client.token_info()
        assert info.claims["tenant"] == "acme"
        assert_lifespan(info, 300)
        assert info.refresh_token is None  # Docbyte: no refresh token, a new one before expiry
        assert "openid" in info.scopes
    # the same with the values as a mapping
    with tokenward.Client.from_template(
        template,
        values={"host": u.hostname, "tenant": "acme"},
        client_id="vault-service",
        client_secret=kc.secret("vault-service"),
        required_claims="tenant",
    ) as client:
        assert client.claims()["tenant"] == "acme"


def test_docbyte_token_without_tenant_is_missing_claim(kc):
    client = kc.client("vault-notenant", scope="openid", required_claims=["tenant"])
    with pytest.raises(tokenward.MissingClaimError) as e:
        client.token()
    assert "tenant" in str(e.value)
    assert e.value.code == "missing_claim"
    # without the requirement the same client gets its token
    assert "tenant" not in kc.client("vault-notenant").claims()


def test_vion_client_credentials_by_discovery(kc):
    with tokenward.Client.from_issuer(
        kc.issuer("vion"),
        client_id="vion-service",
        client_secret=kc.secret("vion-service"),
        scope="user_impersonation",
    ) as client:
        info = client.token_info()
        assert_lifespan(info, 300)
        assert "user_impersonation" in info.scopes


def test_client_secret_basic(kc):
    client = kc.client("ecoinvent-client", auth_method="client_secret_basic")
    assert client.token_info().claims["azp"] == "ecoinvent-client"


def test_from_env_with_the_clis_variables(kc, tmp_path):
    secret_file = tmp_path / "secret"
    secret_file.write_text(kc.secret("iopole-admin") + "\n")
    env = {
        "TOKENWARD_KEYCLOAK": kc.url,
        "TOKENWARD_REALM": "iopole",
        "TOKENWARD_CLIENT_ID": "iopole-admin",
        "TOKENWARD_CLIENT_SECRET_FILE": str(secret_file),
        "TOKENWARD_SCOPE": "invoicing",
        "TOKENWARD_TIMEOUT": "10",
    }
    with tokenward.Client.from_env(env) as client:
        info = client.token_info()
        assert "admin" in info.roles and "invoicing" in info.scopes
    u = urllib.parse.urlsplit(kc.url)
    env = {
        "TOKENWARD_TEMPLATE": f"http://{{host}}:{u.port}/realms/{{tenant}}",
        "TOKENWARD_SET": f"host={u.hostname}",
        "TOKENWARD_SET_TENANT": "acme",
        "TOKENWARD_CLIENT_ID": "vault-service",
        "TOKENWARD_CLIENT_SECRET": kc.secret("vault-service"),
        "TOKENWARD_REQUIRE_CLAIM": "tenant",
        "TOKENWARD_AUTH_METHOD": "post",
    }
    with tokenward.Client.from_env(env) as client:
        assert client.claims()["tenant"] == "acme"
    env = {
        "TOKENWARD_ISSUER": kc.issuer("ecoinvent"),
        "TOKENWARD_CLIENT_ID": "ecoinvent-client",
        "TOKENWARD_CLIENT_SECRET": kc.secret("ecoinvent-client"),
    }
    with tokenward.Client.from_env(env, timeout=5) as client:
        assert_lifespan(client.token_info(), 3600)
    env = {
        "TOKENWARD_TOKEN_URL": kc.token_url("ecoinvent"),
        "TOKENWARD_CLIENT_ID": "ecoinvent-client",
        "TOKENWARD_CLIENT_SECRET": kc.secret("ecoinvent-client"),
    }
    with tokenward.Client.from_env(env) as client:
        assert_lifespan(client.token_info(), 3600)


def test_from_env_reads_os_environ(kc, monkeypatch):
    for k in list(__import__("os").environ):
        if k.startswith("TOKENWARD_"):
            monkeypatch.delenv(k)
    monkeypatch.setenv("TOKENWARD_KEYCLOAK", kc.url)
    monkeypatch.setenv("TOKENWARD_REALM", "ecoinvent")
    monkeypatch.setenv("TOKENWARD_CLIENT_ID", "ecoinvent-client")
    monkeypatch.setenv("TOKENWARD_CLIENT_SECRET", kc.secret("ecoinvent-client"))
    with tokenward.Client.from_env() as client:
        assert client.token()


# --- authorization code + PKCE through the real login form --------------------------------


def _login(kc, client, **kw):
    login = client.authorization_url(**kw)
    assert login.url
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(login.url).query)
    assert q["code_challenge_method"] == ["S256"] and len(q["code_challenge"][0]) == 43
    assert q["client_id"] == ["vion-spa"] and q["redirect_uri"] == [REDIRECT]
    assert "openid" in q["scope"][0].split() and q["state"] and q["nonce"]
    callback = kc_login(login.url, "vion-user", kc.env["TW_VION_USER_PASSWORD"])
    assert callback.startswith(REDIRECT + "?")
    return login, callback


def test_pkce_login_refresh_logout_revoke(kc, token_log):
    with kc.vion_spa(on_token=token_log) as client:
        login, callback = _login(kc, client)
        info = client.exchange_code(callback)
        assert info.refresh_token and info.id_token
        assert {"openid", "user_impersonation"} <= info.scopes
        assert info.claims["preferred_username"] == "vion-user"
        assert info.claims["azp"] == "vion-spa"
        assert client.token() == info.access_token  # the login's token is cached
        assert len(token_log) == 1

        refreshed = client.refresh()
        assert refreshed.access_token != info.access_token
        assert refreshed.refresh_token
        assert client.token() == refreshed.access_token
        assert len(token_log) == 2

        url = client.logout_url("http://127.0.0.1:8765/")
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
        assert url.startswith(kc.issuer("vion") + "/protocol/openid-connect/logout?")
        assert q["id_token_hint"] and q["post_logout_redirect_uri"] == ["http://127.0.0.1:8765/"]

        client.revoke()  # the session's refresh token: ends the session at Keycloak
        with pytest.raises((tokenward.OAuthError, tokenward.LoginRequiredError)) as e:
            client.refresh()
        if isinstance(e.value, tokenward.OAuthError):
            assert e.value.error == "invalid_grant"


def test_web_app_login_state_survives_json(kc):
    # Request 1: begin, store the login in the user's session.
    with kc.vion_spa() as web1:
        login = web1.authorization_url(prompt="login")
        assert "prompt=login" in login.url
        session = {"tw_login": login.to_json()}
        assert json.loads(session["tw_login"])  # plain JSON for a session store
        auth_url = login.url
        login.close()
    callback = kc_login(auth_url, "vion-user", kc.env["TW_VION_USER_PASSWORD"])
    # Request 2, another Client (another worker): restore and finish.
    with kc.vion_spa() as web2:
        restored = tokenward.Login.from_json(session["tw_login"])
        assert restored.url is None
        info = web2.exchange_code(callback, restored)
        assert info.claims["preferred_username"] == "vion-user"
        # Request 3: resume the session elsewhere from the refresh token alone.
        with kc.vion_spa() as web3:
            resumed = web3.resume(info.refresh_token)
            assert resumed.claims["preferred_username"] == "vion-user"
            assert web3.token() == resumed.access_token
        web2.revoke(info.refresh_token, kind="refresh")


def test_tampered_state_is_refused(kc):
    with kc.vion_spa() as client:
        login, callback = _login(kc, client)
        parts = urllib.parse.urlsplit(callback)
        q = dict(urllib.parse.parse_qsl(parts.query))
        q["state"] = "forged-" + q["state"]
        forged = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(q)))
        saved = login.to_json()  # what a web app keeps in its session store
        with pytest.raises(tokenward.StateMismatchError) as e:
            client.exchange_code(forged, login)
        assert isinstance(e.value, tokenward.LoginError)
        # the forged callback spent the login (test_session.py); a copy the app kept finishes
        info = client.exchange_code(callback, tokenward.Login.from_json(saved))
        assert info.refresh_token
        # a code is redeemed once; Keycloak answers a replay by revoking the session's tokens
        with pytest.raises(tokenward.OAuthError) as e:
            client.exchange_code(callback, tokenward.Login.from_json(saved))
        assert e.value.error == "invalid_grant" and e.value.status == 400
        with pytest.raises(tokenward.LoginRequiredError):
            client.refresh()


def test_public_client_without_login_needs_one(kc):
    with kc.vion_spa() as client:
        with pytest.raises(tokenward.TokenwardError) as e:
            client.token()
        assert isinstance(e.value, (tokenward.LoginRequiredError, tokenward.ConfigError))
