"""TLS and the https rule through the Python package, against tests/faults/server.py --tls (the
scripted loopback server as an HTTPS token endpoint, its /mode/fixed/ route) behind a throw-away
private CA made by tests/tls/gen-certs (openssl).

- the private CA is refused by default: TransportError (code "transport"), the message names
  the certificate problem and says how to trust a private CA, and no secret is in it;
- it is accepted with `ca_file=` (str or path) and with TOKENWARD_CA_FILE in `Client.from_env`;
- a CA file that is not PEM is a ConfigError naming the file;
- plain http:// off loopback is InsecureUrlError with no network traffic: every proxy
  variable points at a listening socket of the test, and nothing connects to it (a control
  shows that a real request would).

Needs `openssl` and `python3`; no Keycloak.
"""

from __future__ import annotations

import pathlib
import select
import socket
import subprocess
import time
from dataclasses import dataclass

import pytest

import tokenward
from scripted import ScriptedServer

HERE = pathlib.Path(__file__).resolve().parent
TLS = HERE.parent / "tls"
SECRET = "tls-test-client-secret-py-5e02"
TOKEN = "tls-test-access-token"
PROXY_VARS = ("ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy")


@dataclass
class Endpoint:
    token_url: str
    ca: pathlib.Path
    other_ca: pathlib.Path
    dir: pathlib.Path


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls")
    for sub in (d, d / "other"):
        subprocess.run([str(TLS / "gen-certs"), str(sub)], check=True, capture_output=True)
    server = ScriptedServer(tls=(d / "server.pem", d / "server.key"))
    try:
        yield Endpoint(
            token_url=f"{server.url}/mode/fixed/token",
            ca=d / "ca.pem",
            other_ca=d / "other" / "ca.pem",
            dir=d,
        )
    finally:
        server.close()  # by PID


def client(url, **kw):
    kw.setdefault("client_id", "tls-client")
    kw.setdefault("client_secret", SECRET)
    kw.setdefault("timeout", 10)
    kw.setdefault("proxy_from_env", False)
    return tokenward.Client.from_token_url(url, **kw)


def assert_certificate_refusal(e: tokenward.TokenwardError) -> None:
    assert type(e) is tokenward.TransportError, repr(e)
    assert e.code == "transport" and e.number == 3
    assert isinstance(e, tokenward.NetworkError) and isinstance(e, ConnectionError)
    msg = str(e)
    assert "certificate" in msg.lower() or "issuer" in msg.lower(), msg
    # core's hint names each binding's option: Python's `ca_file=` among them.
    assert "private CA" in msg and "ca_file=" in msg, msg
    assert e.status is None and e.error is None
    for text in (msg, repr(e), str(e.args), e.message):
        assert SECRET not in text


@pytest.mark.parametrize("trust", [None, "webpki", "platform"])
def test_private_ca_is_refused_by_default(tls, trust):
    with client(tls.token_url, trust=trust) as c:
        t0 = time.monotonic()
        with pytest.raises(tokenward.TransportError) as e:
            c.token()
        assert time.monotonic() - t0 < 10, "no hang"
        assert SECRET not in repr(c)
    assert_certificate_refusal(e.value)


def test_another_private_ca_is_refused(tls):
    with client(tls.token_url, ca_file=tls.other_ca) as c:
        with pytest.raises(tokenward.TransportError) as e:
            c.token()
    assert_certificate_refusal(e.value)


@pytest.mark.parametrize("as_path", [False, True], ids=["str", "pathlib"])
def test_private_ca_is_accepted_with_ca_file(tls, as_path):
    ca = tls.ca if as_path else str(tls.ca)
    with client(tls.token_url, ca_file=ca) as c:
        assert c.token() == TOKEN
        info = c.token_info()
        assert info.access_token == TOKEN
        assert 200 < info.expires_in <= 300
        assert c.token() == TOKEN


def test_ca_file_from_the_environment(tls):
    env = {
        "TOKENWARD_TOKEN_URL": tls.token_url,
        "TOKENWARD_CLIENT_ID": "tls-client",
        "TOKENWARD_CLIENT_SECRET": SECRET,
        "TOKENWARD_TIMEOUT": "10",
    }
    with tokenward.Client.from_env(env, proxy_from_env=False) as c:
        with pytest.raises(tokenward.TransportError) as e:
            c.token()
    assert_certificate_refusal(e.value)
    with tokenward.Client.from_env({**env, "TOKENWARD_CA_FILE": str(tls.ca)}, proxy_from_env=False) as c:
        assert c.token() == TOKEN


def test_ca_file_that_is_not_pem_is_a_config_error(tls):
    text = tls.dir / "py-not-pem.txt"
    text.write_text("this is not a certificate\n")
    for path in (text, tls.dir / "server.key", tls.dir / "py-missing.pem"):
        with pytest.raises(tokenward.ConfigError) as e:
            client(tls.token_url, ca_file=path)
        assert type(e.value) is tokenward.ConfigError and e.value.code == "config"
        assert path.name in str(e.value), str(e.value)


# --- plain http:// off loopback ------------------------------------------------------------


@pytest.fixture
def proxy_trap(monkeypatch):
    """A listening loopback socket every proxy variable points at: the only place a request
    could go. Yields a function that says whether anything connected (and drains it)."""
    trap = socket.socket()
    trap.bind(("127.0.0.1", 0))
    trap.listen(8)
    url = "http://127.0.0.1:%d" % trap.getsockname()[1]
    for var in PROXY_VARS:
        monkeypatch.setenv(var, url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)

    def hit() -> bool:
        readable, _, _ = select.select([trap], [], [], 0)
        if readable:
            conn, _ = trap.accept()
            conn.close()
            return True
        return False

    yield hit
    trap.close()


BASES = ["http://keycloak.example.com", "http://10.0.0.1", "http://127.0.0.1.nip.io"]


@pytest.mark.parametrize("base", BASES)
def test_plain_http_off_loopback_is_refused_without_traffic(proxy_trap, base):
    kw = dict(client_id="tls-client", client_secret=SECRET, timeout=2)  # proxy_from_env stays on
    calls = [
        lambda: tokenward.Client.from_token_url(f"{base}/realms/x/protocol/openid-connect/token", **kw),
        lambda: tokenward.Client.keycloak(base, "x", **kw),
        # Discovery would fetch the issuer's document: refused before any request.
        lambda: tokenward.Client.from_issuer(f"{base}/realms/x", **kw),
        lambda: tokenward.Client.from_template(f"{base}/realms/{{tenant}}", tenant="t1", **kw),
        lambda: tokenward.Client.from_env(
            {
                "TOKENWARD_ISSUER": f"{base}/realms/x",
                "TOKENWARD_CLIENT_ID": "tls-client",
                "TOKENWARD_CLIENT_SECRET": SECRET,
            }
        ),
    ]
    for call in calls:
        t0 = time.monotonic()
        with pytest.raises(tokenward.InsecureUrlError) as e:
            call()
        assert time.monotonic() - t0 < 1.0, "refused at once"
        assert type(e.value) is tokenward.InsecureUrlError
        assert e.value.code == "insecure_url" and e.value.number == 2
        assert isinstance(e.value, tokenward.ConfigError)
        assert "https" in str(e.value)
        for text in (str(e.value), repr(e.value)):
            assert SECRET not in text
    assert not proxy_trap(), "no connection attempted (the proxy trap saw none)"


def test_proxy_trap_control(proxy_trap):
    """A real https request does go through the trap, so its silence above means something.
    The trap never answers: the request fails within its 1 s timeout."""
    url = "https://keycloak.example.com/realms/x/protocol/openid-connect/token"
    with tokenward.Client.from_token_url(url, client_id="c", client_secret=SECRET, timeout=1) as c:
        with pytest.raises((tokenward.NetworkError, tokenward.InvalidResponseError)):
            c.token()
    assert proxy_trap(), "the proxy trap saw the https request's connection"


def test_loopback_http_is_still_allowed():
    """The rule is about leaving the machine: http:// on loopback makes a client (the test
    servers and the Keycloak harness use it)."""
    for url in ("http://127.0.0.1:9/token", "http://localhost:9/token", "http://[::1]:9/token"):
        tokenward.Client.from_token_url(url, client_id="c", client_secret=SECRET).close()
