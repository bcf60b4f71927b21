"""Issue 17's grants from Python against the Keycloak harness (realm vion): a device login
approved on Keycloak's device page (tests/keycloak/kc_device.py plays the user), refused, and
cancelled from another thread; token exchange; logout; private_key_jwt (RSA and EC, file and
PEM text) and client_secret_jwt. The polling policy's faults (slow_down, expired_token, an HTML
device endpoint) are core's and run in core/tests/grants.rs."""

from __future__ import annotations

import os
import threading
import time

import pytest

from kc_device import approve
import tokenward

KEYS = os.path.join(os.path.dirname(__file__), "..", "keycloak", "keys")


def device_client(kc, **kw) -> tokenward.Client:
    c = tokenward.Client.keycloak(kc.url, "vion", client_id="vion-device", **kw)
    kc.clients.append(c)
    return c


def user_answers(kc, login: tokenward.DeviceLogin, accept: bool = True) -> None:
    approve(kc.url, "vion", login.user_code, "vion-user", kc.env["TW_VION_USER_PASSWORD"], accept=accept)


def test_device_login_then_exchange_and_logout(kc):
    c = device_client(kc, scope="openid offline_access")
    login = c.device_login(pkce=True)
    assert login.verification_uri.endswith("/realms/vion/device")
    assert login.user_code in (login.verification_uri_complete or "")
    assert login.interval >= 1 and login.expires_in > 60
    assert "device_code" not in repr(login)
    user_answers(kc, login)
    began = time.monotonic()
    info = login.wait()
    assert time.monotonic() - began >= login.interval - 0.5, "never polls sooner than asked"
    assert info.refresh_token, "a user session renews by refresh token"
    assert c.token() == info.access_token, "the login is cached"
    assert c.refresh().access_token != info.access_token, "renews by refresh token"

    svc = tokenward.Client.keycloak(
        kc.url, "vion", client_id="vion-exchange", client_secret=kc.env["TW_VION_EXCHANGE_SECRET"]
    )
    kc.clients.append(svc)
    subject = c.token()
    exchanged = svc.exchange_token(subject, audience="vion-service")
    assert exchanged.claims["aud"] == "vion-service"
    assert exchanged.claims["azp"] == "vion-exchange"
    again = svc.exchange_token(subject, audience="vion-service")
    assert again.access_token == exchanged.access_token, "cached per subject, audience, scope"
    with pytest.raises(tokenward.OAuthError) as e:
        svc.exchange_token(subject, audience="vion-web")
    assert e.value.error in ("invalid_request", "invalid_client", "access_denied")
    with pytest.raises(tokenward.ConfigError):
        svc.exchange_token(subject, requested_token_type="saml2")

    c.logout()
    with pytest.raises(tokenward.LoginRequiredError):
        c.token()


def test_device_login_refused_and_cancelled(kc):
    c = device_client(kc, scope="openid")
    login = c.device_login()
    user_answers(kc, login, accept=False)
    with pytest.raises(tokenward.OAuthError) as e:
        login.wait()
    assert e.value.error == "access_denied"

    login = c.device_login()
    threading.Timer(1.0, login.cancel).start()
    began = time.monotonic()
    with pytest.raises(tokenward.LoginRequiredError):
        login.wait()
    assert time.monotonic() - began < 3


@pytest.mark.parametrize("name,kid", [("vion-jwt-rsa.pem", "vion-jwt-rsa"), ("vion-jwt-ec.pem", "vion-jwt-ec")])
def test_private_key_jwt(kc, name, kid):
    path = os.path.join(KEYS, name)
    c = tokenward.Client.keycloak(kc.url, "vion", client_id="vion-jwt", private_key_file=path, key_id=kid)
    kc.clients.append(c)
    assert c.token_info().claims["azp"] == "vion-jwt"
    with open(path, encoding="ascii") as f:
        pem = f.read()
    c2 = tokenward.Client.keycloak(
        kc.url, "vion", client_id="vion-jwt", private_key_pem=pem, key_id=kid,
        auth_method=tokenward.AuthMethod.PRIVATE_KEY_JWT,
    )
    kc.clients.append(c2)
    c2.token()
    assert pem.splitlines()[1] not in repr(c2)


def test_signed_jwt_mistakes_and_client_secret_jwt(kc):
    with pytest.raises(tokenward.ConfigError, match="cannot read the private key file"):
        tokenward.Client.keycloak(kc.url, "vion", client_id="vion-jwt", private_key_file="/nonexistent.pem")
    wrong = tokenward.Client.keycloak(
        kc.url, "vion", client_id="vion-jwt", private_key_file=os.path.join(KEYS, "vion-jwt-ec.pem"),
        key_id="vion-jwt-rsa",
    )
    kc.clients.append(wrong)
    with pytest.raises(tokenward.OAuthError) as e:
        wrong.token()
    assert e.value.error == "invalid_client"
    c = tokenward.Client.keycloak(
        kc.url, "vion", client_id="vion-secret-jwt", client_secret=kc.env["TW_VION_SECRET_JWT_SECRET"],
        auth_method="client_secret_jwt",
    )
    kc.clients.append(c)
    assert c.token_info().claims["azp"] == "vion-secret-jwt"


def test_a_provider_without_a_device_endpoint_says_so(scripted):
    def client(script: str, session: str) -> tokenward.Client:
        base = f"{scripted.url}/device/{script}/{session}"
        return tokenward.Client.from_token_url(f"{base}/token", client_id="tv")

    # A bare token URL names no device endpoint: a configuration error that says so.
    with pytest.raises(tokenward.ConfigError, match="device authorization endpoint"):
        client("pending,token", "py-none").device_login()
