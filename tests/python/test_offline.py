"""Without Keycloak: bad input, network faults, the lifecycle, and the Python surface."""

from __future__ import annotations

import gc
import pickle
import socket
import threading
import time
from datetime import timedelta

import pytest

import tokenward


@pytest.fixture
def server(scripted):
    """A Keycloak-shaped token endpoint of the scripted server, with a request count of its own."""
    return scripted.endpoint("kc")


def make(server, **kw):
    kw.setdefault("client_id", "c1")
    kw.setdefault("client_secret", "s1")
    return tokenward.Client.from_token_url(server.token_url, **kw)


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda: tokenward.Client.keycloak(5, "realm", client_id="c"),
        lambda: tokenward.Client.keycloak("https://kc.example", None, client_id="c"),
        lambda: tokenward.Client.keycloak("https://kc.example", "r", client_id=7),
        lambda: tokenward.Client.keycloak("https://kc.example", "r", client_id="c", client_secret=b"s"),
        lambda: tokenward.Client.keycloak("https://kc.example", "r", client_id="c", scope=5),
        lambda: tokenward.Client.keycloak("https://kc.example", "r", client_id="c", scope=["a", 1]),
        lambda: tokenward.Client.keycloak("https://kc.example", "r", client_id="c", timeout="10"),
        lambda: tokenward.Client.keycloak("https://kc.example", "r", client_id="c", timeout=True),
        lambda: tokenward.Client.keycloak("https://kc.example", "r", client_id="c", on_token=5),
        lambda: tokenward.Client.keycloak("https://kc.example", "r", client_id="c", proxy_from_env="yes"),
        lambda: tokenward.Client.keycloak("https://kc.example", "r", client_id="c", required_claims=[1]),
        lambda: tokenward.Client.keycloak("https://kc.example", "r", client_id="c", auth_method=3),
        lambda: tokenward.Client.keycloak("https://kc.example", "r", client_id="c", no_such_option=1),
        lambda: tokenward.Client.from_template("https://kc.example/realms/{t}", ["t"], client_id="c"),
        lambda: tokenward.Client.from_template("https://kc.example/realms/{t}", client_id="c", t=5),
        lambda: tokenward.Client.from_token_url(b"https://kc.example/token", client_id="c"),
        lambda: tokenward.Client.from_env({"TOKENWARD_TOKEN_URL": 5}),
        lambda: tokenward.Client.from_env(environ="TOKENWARD_TOKEN_URL=x"),
        lambda: tokenward.Client.from_env(5),
        lambda: tokenward.Client(),
        lambda: tokenward.Login.from_json(None),
    ],
)
def test_wrong_types_raise_type_error(call):
    with pytest.raises(TypeError) as e:
        call()
    assert str(e.value)


@pytest.mark.parametrize(
    "kw, words",
    [
        (dict(client_id=""), ["client id"]),
        (dict(client_id="c", auth_method="client_secret_post"), ["secret"]),
        (dict(client_id="c", client_secret=""), ["secret"]),
        (dict(client_id="c", auth_method="magic"), ["auth method", "`magic`", "private_key_jwt"]),
        (dict(client_id="c", timeout=0), ["timeout"]),
        (dict(client_id="c", timeout=-1), ["timeout"]),
        (dict(client_id="c", timeout=float("nan")), ["timeout"]),
        (dict(client_id="c", trust="nobody"), ["trust"]),
        (dict(client_id="c", ca_file="/no/such/ca.pem"), ["/no/such/ca.pem"]),
        (dict(client_id="c", scope="bad\"scope"), ["scope"]),
        (dict(client_id="c\0x"), ["NUL"]),
        (dict(client_id="c", client_secret="s\0cret"), ["NUL"]),
        (dict(client_id="c", redirect_uri="not a url"), ["redirect"]),
    ],
)
def test_bad_values_raise_config_error(kw, words):
    with pytest.raises(tokenward.ConfigError) as e:
        tokenward.Client.keycloak("https://kc.example", "r", **kw)
    msg = str(e.value).lower()
    for w in words:
        assert w.lower() in msg, msg
    assert isinstance(e.value, ValueError)
    assert "s\0cret" not in str(e.value)


def test_a_secret_in_a_type_error_is_not_echoed():
    with pytest.raises(TypeError) as e:
        tokenward.Client.keycloak("https://kc.example", "r", client_id="c", client_secret=12345678)
    assert "12345678" not in str(e.value)


# Bad templates: tests/vectors/templates.json, run by test_vectors.py.


def test_template_value_given_twice():
    with pytest.raises(tokenward.ConfigError):
        tokenward.Client.from_template("https://kc.example/realms/{t}", {"t": "a"}, client_id="c", t="b")


def test_insecure_urls_are_refused():
    with pytest.raises(tokenward.InsecureUrlError) as e:
        tokenward.Client.from_token_url("http://sso.example.com/token", client_id="c", client_secret="s")
    assert "https" in str(e.value)
    assert isinstance(e.value, tokenward.ConfigError) and e.value.code == "insecure_url"
    with pytest.raises(tokenward.InsecureUrlError):
        tokenward.Client.keycloak("http://auth.example.com", "vion", client_id="c")


def test_missing_secret_for_client_credentials(server):
    with make(server, client_secret=None) as c:
        with pytest.raises(tokenward.TokenwardError) as e:
            c.token()
    assert "secret" in str(e.value) or "login" in str(e.value).lower()
    assert server.count == 0


def test_unreachable_issuer_and_token_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nobody listens here once closed
    with pytest.raises(tokenward.TransportError) as e:
        tokenward.Client.from_issuer(f"http://127.0.0.1:{port}/realms/x", client_id="c", timeout=5)
    assert isinstance(e.value, ConnectionError) and isinstance(e.value, tokenward.NetworkError)
    c = tokenward.Client.from_token_url(f"http://127.0.0.1:{port}/token", client_id="c", client_secret="s")
    with pytest.raises(tokenward.TransportError):
        c.token()
    c.close()


def test_discovery_issuer_mismatch_and_success(server):
    with tokenward.Client.from_issuer(server.url, client_id="c1", client_secret="s1") as c:
        assert c.token()
    with pytest.raises(tokenward.IssuerMismatchError):
        tokenward.Client.from_issuer(server.url + "/wrong-issuer", client_id="c1", client_secret="s1")


def test_timeout(server):
    c = tokenward.Client.from_token_url(
        server.fault_url("never-answers"), client_id="c1", client_secret="s1", timeout=0.5
    )
    t0 = time.monotonic()
    with pytest.raises(tokenward.RequestTimeoutError) as e:
        c.token()
    assert time.monotonic() - t0 < 5
    assert isinstance(e.value, TimeoutError) and e.value.code == "timeout"
    c.close()


def test_html_error_page_and_garbage(server):
    with tokenward.Client.from_token_url(server.fault_url("html-500"), client_id="c1", client_secret="s1") as c:
        with pytest.raises(tokenward.HttpError) as e:
            c.token()
        assert e.value.status == 500
    with tokenward.Client.from_token_url(server.fault_url("not-json"), client_id="c1", client_secret="s1") as c:
        with pytest.raises(tokenward.InvalidResponseError):
            c.token()


def test_wrong_secret_offline(server):
    with make(server, client_secret="wrong") as c:
        with pytest.raises(tokenward.OAuthError) as e:
            c.token()
    assert e.value.error == "invalid_client" and e.value.status == 401


def test_exceptions_pickle():
    e = tokenward.OAuthError("m", error="invalid_client", error_description="d", status=401)
    e2 = pickle.loads(pickle.dumps(e))
    assert type(e2) is tokenward.OAuthError and e2.error == "invalid_client" and e2.status == 401


# --- environment configuration errors ------------------------------------------------------


@pytest.mark.parametrize(
    "env, words",
    [
        ({}, ["TOKENWARD_ISSUER"]),
        ({"TOKENWARD_ISSUER": "https://a", "TOKENWARD_TOKEN_URL": "https://b", "TOKENWARD_CLIENT_ID": "c"}, ["2 ways"]),
        ({"TOKENWARD_KEYCLOAK": "https://a", "TOKENWARD_CLIENT_ID": "c"}, ["TOKENWARD_REALM"]),
        ({"TOKENWARD_TOKEN_URL": "https://a/token"}, ["TOKENWARD_CLIENT_ID"]),
        ({"TOKENWARD_TOKEN_URL": "https://a/token", "TOKENWARD_CLIENT_ID": "c", "TOKENWARD_TIMEOUT": "soon"}, ["TOKENWARD_TIMEOUT"]),
        ({"TOKENWARD_TOKEN_URL": "https://a/token", "TOKENWARD_CLIENT_ID": "c", "TOKENWARD_CLIENT_SECRET": "x", "TOKENWARD_CLIENT_SECRET_FILE": "/f"}, ["both"]),
        ({"TOKENWARD_TOKEN_URL": "https://a/token", "TOKENWARD_CLIENT_ID": "c", "TOKENWARD_CLIENT_SECRET_FILE": "/no/such/file"}, ["/no/such/file"]),
        ({"TOKENWARD_TEMPLATE": "https://a/realms/{t}", "TOKENWARD_CLIENT_ID": "c", "TOKENWARD_SET": "t"}, ["key=value"]),
        ({"TOKENWARD_TEMPLATE": "https://a/realms/{t}", "TOKENWARD_CLIENT_ID": "c", "TOKENWARD_SET": "t=a", "TOKENWARD_SET_T": "b"}, ["both"]),
        ({"TOKENWARD_TOKEN_URL": "https://a/token", "TOKENWARD_CLIENT_ID": "c", "TOKENWARD_REALM": "r"}, ["TOKENWARD_KEYCLOAK"]),
        ({"TOKENWARD_TOKEN_URL": "https://a/token", "TOKENWARD_CLIENT_ID": "c", "TOKENWARD_AUTH_METHOD": "magic"}, ["magic"]),
    ],
)
def test_from_env_errors(env, words):
    with pytest.raises(tokenward.ConfigError) as e:
        tokenward.Client.from_env(env)
    for w in words:
        assert w in str(e.value), str(e.value)


def test_from_env_offline(server, tmp_path):
    f = tmp_path / "s"
    f.write_text("s1\r\n")
    env = {"TOKENWARD_TOKEN_URL": server.token_url, "TOKENWARD_CLIENT_ID": "c1", "TOKENWARD_CLIENT_SECRET_FILE": str(f), "TOKENWARD_SCOPE": " "}
    with tokenward.Client.from_env(env) as c:
        assert c.token()
    f.write_text("\n")
    with pytest.raises(tokenward.ConfigError) as e:
        tokenward.Client.from_env(env)
    assert "empty" in str(e.value)


def test_from_env_reads_a_profile_through_the_library(server, tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[profile.p]\ntoken_url = "{server.token_url}"\nclient_id = "c1"\nclient_secret = "s1"\n')
    cfg.chmod(0o644)
    env = {"TOKENWARD_CONFIG": str(cfg)}
    with pytest.raises(tokenward.ConfigError) as e:
        tokenward.Client.from_env("p", environ=env)
    assert "config.toml:4: key `client_secret`" in str(e.value) and f"chmod 600 {cfg}" in str(e.value)
    cfg.chmod(0o600)
    with tokenward.Client.from_env("p", environ=env, timeout=5) as c:
        assert c.client_id == "c1" and c.token()
    with tokenward.Client.from_env(environ={**env, "TOKENWARD_PROFILE": "p", "TOKENWARD_CLIENT_ID": "c9"}, client_id="c1") as c:
        assert c.client_id == "c1"
    cfg.write_text('[profile.p]\nrelam = "x"\n')
    with pytest.raises(tokenward.ConfigError) as e:
        tokenward.Client.from_env("p", environ=env)
    assert "config.toml:2: unknown key `relam`" in str(e.value)


# --- the lifecycle -------------------------------------------------------------------------


def test_token_is_cached_and_the_same_object(server, token_log):
    with make(server, on_token=token_log) as c:
        t = c.token()
        for _ in range(1000):
            assert c.token() is t
        assert server.count == 1 and len(token_log) == 1
        assert c.authorization_header() == "Bearer " + t
        info = c.token_info()
        assert info.access_token == t and info.expires_in == 3600
        assert info.roles == {"user"} and info.scopes == {"profile", "email"}
        assert info.claims["azp"] == "c1" and info.extra["not-before-policy"] == 0
        with pytest.raises(TypeError):
            info.claims["azp"] = "x"  # read-only
        assert info.to_dict()["has_refresh_token"] is False
        assert "access_token" not in info.to_dict()
        assert info.to_dict(include_tokens=True)["access_token"] == t


def test_refresh_forces_a_new_token(server, token_log):
    with make(server, on_token=token_log) as c:
        t1 = c.token()
        info = c.refresh()
        assert info.access_token != t1 and c.token() == info.access_token
        assert server.count == 2 and len(token_log) == 2


def test_long_tokens_grow_the_buffer(server):
    server = server.as_mode("kc-huge")  # the access token 20,000 characters longer
    with make(server) as c:
        t = c.token()
        assert len(t) > 20000 and c.token() == t


def test_close_and_context_manager(server):
    c = make(server)
    assert not c.closed and "open" in repr(c)
    with c:
        c.token()
    assert c.closed and "closed" in repr(c)
    with pytest.raises(tokenward.ClientClosedError):
        c.token()
    with pytest.raises(tokenward.ClientClosedError):
        c.token_info()
    c.close()  # idempotent


def test_close_while_other_threads_call_token(server):
    # The library must not free a client in use; close() defers the free to the last user.
    for _ in range(20):
        c = make(server)
        c.token()
        stop = threading.Event()
        errors = []

        def worker():
            while not stop.is_set():
                try:
                    c.token()
                except tokenward.ClientClosedError:
                    return
                except BaseException as e:  # pragma: no cover
                    errors.append(e)
                    return

        ts = [threading.Thread(target=worker) for _ in range(4)]
        for t in ts:
            t.start()
        time.sleep(0.005)
        c.close()
        stop.set()
        for t in ts:
            t.join()
        assert not errors
    gc.collect()


def test_hook_exceptions_are_contained(server, caplog):
    def bad(info):
        raise RuntimeError("hook failed with " + info.access_token)

    with make(server, on_token=bad) as c:
        with caplog.at_level("DEBUG", logger="tokenward"):
            t = c.token()
    assert t
    assert any("on_token hook raised RuntimeError" in r.getMessage() for r in caplog.records)


def test_refresh_margin_and_timeouts_are_accepted(server):
    with make(server, refresh_margin=timedelta(seconds=5), timeout=2.5, connect_timeout=1, proxy_from_env=False, trust="platform", audience="api") as c:
        assert c.token()


def test_clients_and_logins_are_not_picklable(server):
    with make(server) as c:
        with pytest.raises(TypeError):
            pickle.dumps(c)
        with pytest.raises(TypeError):
            pickle.dumps(c.token_info())


def test_login_needs_a_redirect_uri_and_a_login_endpoint(server):
    with make(server) as c:
        with pytest.raises(tokenward.ConfigError):
            c.authorization_url()
        with pytest.raises(tokenward.ConfigError):
            c.exchange_code("http://127.0.0.1/callback?code=x&state=y")
    with tokenward.Client.keycloak("https://kc.example", "vion", client_id="vion-spa") as c:
        login = c.authorization_url("http://127.0.0.1:8765/callback", scope=["openid"], login_hint="me")
        assert login.url.startswith("https://kc.example/realms/vion/protocol/openid-connect/auth?")
        assert "login_hint=me" in login.url
        with pytest.raises(tokenward.ConfigError):
            c.authorization_url("http://127.0.0.1:8765/callback", state="mine")  # reserved
        with pytest.raises(tokenward.ConfigError):
            tokenward.Login.from_json("{}")
        j = login.to_json()
        assert tokenward.Login.from_json(j).url is None
        with pytest.raises(TypeError):
            c.exchange_code("http://127.0.0.1:8765/callback?code=x", login="nope")
        with pytest.raises(tokenward.StateMismatchError):
            c.exchange_code("http://127.0.0.1:8765/callback?code=x&state=forged", login)


def test_version():
    assert tokenward.__version__ == tokenward.library_version
    assert tokenward.__version__.count(".") == 2


def test_the_package_does_not_need_requests_or_httpx():
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['requests'] = None; sys.modules['httpx'] = None\n"
        "import tokenward\n"
        "print('ok')\n"
        "try:\n"
        "    tokenward.TokenwardAuth\n"
        "except ImportError:\n"
        "    print('requests adapter needs requests')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split("\n")[:2] == ["ok", "requests adapter needs requests"]


def test_a_client_dropped_inside_its_hook_is_freed_without_deadlock(scripted):
    # The hook drops the last reference to its client while the library's renewal thread is
    # calling it; tw_client_free must then run on another thread (it waits for the hook).
    server = scripted.endpoint("kc-2s")
    done = threading.Event()
    holder = {}
    calls = []

    def hook(info):
        calls.append(threading.current_thread().name)
        if len(calls) == 2:
            time.sleep(0.1)  # let the caller's token() return first
            holder.pop("c", None)  # the last reference: the client is freed from here
            gc.collect()
            done.set()

    holder["c"] = tokenward.Client.from_token_url(
        server.token_url, client_id="c1", client_secret="s1", on_token=hook, refresh_margin=0.6
    )
    holder["c"].token()
    deadline = time.monotonic() + 5
    while len(calls) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
        if "c" in holder:
            holder["c"].token()  # in the early-refresh window: a background renewal
    assert done.wait(5), "the hook did not finish: deadlock?"
    assert calls[1] != threading.current_thread().name  # it ran on the renewal thread
    for t in threading.enumerate():
        if t.name == "tokenward-free":
            t.join(5)
            assert not t.is_alive()


def test_the_copy_kept_between_calls_ends_at_the_librarys_refresh_point(server, token_log):
    # 2 s JWTs are usable for 1 s (whole-second exp) and renewed 0.1 s before that: token()
    # may answer from its own copy in between, but must pick up each renewal and never
    # return a token past its exp.
    import base64
    import json

    def exp(token):
        payload = token.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["exp"]

    server = server.as_mode("kc-2s")
    with make(server, on_token=token_log) as c:
        deadline = time.monotonic() + 2.5
        seen = []
        while time.monotonic() < deadline:
            t = c.token()
            assert time.time() < exp(t), "a token past its exp was handed out"
            if not seen or seen[-1] != t:
                seen.append(t)
        assert len(seen) == server.count == len(token_log) >= 3
