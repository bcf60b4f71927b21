"""No secret or token in any repr, str, exception message or log record."""

from __future__ import annotations

import json
import logging
import re
import traceback
import urllib.parse

import httpx
import pytest
import requests

from kc_login import login as kc_login
import tokenward
from resource_server import ResourceServer

JWT = re.compile(r"eyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]{5,}")


class Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []

    def emit(self, record):
        self.lines.append(self.format(record))


def test_no_secret_in_repr_str_errors_or_logs(kc):
    handler = Collect()
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    texts = []
    secrets = list(kc.secrets())
    tokens = []

    def seen(*objs):
        for o in objs:
            texts.append(repr(o))
            texts.append(str(o))

    def failed(e):
        seen(e)
        texts.append("".join(traceback.format_exception_only(type(e), e)))
        texts.extend(str(getattr(e, k)) for k in ("error", "error_description", "message"))

    api = ResourceServer(kc.url)
    try:
        hook_infos = []
        for cid in ("ecoinvent-client", "iopole-admin", "vault-service", "vion-service"):
            c = kc.client(cid, on_token=hook_infos.append)
            info = c.token_info()
            tokens.append(info.access_token)
            seen(c, info, info.claims, info.to_dict(), c.requests_auth(), c.httpx_auth())
        seen(*hook_infos)

        for bad in (
            lambda: kc.client("ecoinvent-client", client_secret="wrong-" + kc.secret("ecoinvent-client")).token(),
            lambda: kc.client("iopole-user", scope="nope").token(),
            lambda: kc.client("vault-notenant", required_claims=["tenant"]).token(),
            lambda: kc.client("ecoinvent-client", client_secret=kc.secret("ecoinvent-client") + "\0"),
            lambda: kc.client("ecoinvent-client", client_secret=kc.secret("ecoinvent-client"), auth_method="bogus"),
        ):
            with pytest.raises(tokenward.TokenwardError) as e:
                bad()
            failed(e.value)
        secrets.append("wrong-" + kc.secret("ecoinvent-client"))

        # the adapters' failure path, with logs at DEBUG
        vault = kc.client("vault-notenant")
        tokens.append(vault.token())
        with pytest.raises(tokenward.ApiError) as e:
            requests.get(api.url + "/vault/api/v1/documents", auth=vault.requests_auth())
        failed(e.value)
        with pytest.raises(tokenward.ApiError) as e:
            httpx.get(api.url + "/vault/api/v1/documents", auth=vault.httpx_auth())
        failed(e.value)
        tokens.append(vault.token())

        # a login: the verifier, state and tokens stay out too
        spa = tokenward.Client.keycloak(
            kc.url, "vion", client_id="vion-spa", redirect_uri="http://127.0.0.1:8765/callback", scope="openid"
        )
        login = spa.authorization_url()
        state = json.loads(login.to_json())
        secrets += [v for v in state.values() if isinstance(v, str) and len(v) >= 16 and not v.startswith("http")]
        seen(login, spa)
        callback = kc_login(login.url, "vion-user", kc.env["TW_VION_USER_PASSWORD"])
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(callback).query))
        saved = login.to_json()
        with pytest.raises(tokenward.StateMismatchError) as e:
            spa.exchange_code(callback.replace(q["state"], "x" + q["state"]), login)
        failed(e.value)
        with pytest.raises(tokenward.LoginRequiredError) as e:
            spa.exchange_code(callback, login)  # spent by the forged callback
        failed(e.value)
        login = tokenward.Login.from_json(saved)
        info = spa.exchange_code(callback, login)
        tokens += [info.access_token, info.refresh_token, info.id_token]
        seen(info, login, spa)
        seen(spa.refresh())
        tokens.append(spa.token())
        spa.revoke()
        with pytest.raises(tokenward.TokenwardError) as e:
            spa.refresh()
        failed(e.value)
        spa.close()
        seen(spa)
    finally:
        api.close()
        root.removeHandler(handler)
        root.setLevel(old_level)

    everything = "\n".join(texts + handler.lines)
    assert handler.lines, "expected some log records (the adapters log their retry at DEBUG)"
    assert any("retrying once" in line for line in handler.lines)
    for s in secrets + [t for t in tokens if t]:
        assert s not in everything, f"a secret or token ({len(s)} chars) leaked"
    assert not JWT.search(everything), JWT.search(everything).group(0)[:20]
    # the checked texts are not empty shells
    assert "invalid_client" in everything and "tenant" in everything
