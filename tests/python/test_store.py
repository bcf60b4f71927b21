"""The shared token store from Python: `store="file:///dir"` shares one client's token with
another client (another worker), so the second makes no request; files are 0600 in 0700.
(vion-service's 300 s tokens: a cold Keycloak's first answer can take a second, longer than
the short clients' tokens stay fresh.)"""

from __future__ import annotations

import os
import stat

import tokenward


def _client(kc, store, seen):
    return tokenward.Client.keycloak(
        kc.env["KC_URL"],
        "vion",
        client_id="vion-service",
        client_secret=kc.env["TW_VION_SERVICE_SECRET"],
        store=store,
        on_token=lambda info: seen.append(info.access_token),
    )


def test_two_workers_share_one_token_through_the_file_store(kc, tmp_path):
    store = f"file://{tmp_path}/store"
    first_seen, second_seen = [], []
    with _client(kc, store, first_seen) as first, _client(kc, store, second_seen) as second:
        token = first.token()
        assert second.token() == token
    assert len(first_seen) == 1 and second_seen == []
    d = tmp_path / "store"
    assert stat.S_IMODE(os.stat(d).st_mode) == 0o700
    records = list(d.glob("*.json"))
    assert len(records) == 1 and stat.S_IMODE(records[0].stat().st_mode) == 0o600
    assert "vion" not in records[0].name  # the key is a hash


def test_an_unknown_store_kind_is_a_config_error(kc):
    try:
        _client(kc, "ftp://nowhere", [])
    except tokenward.ConfigError as e:
        assert "unknown kind" in str(e)
    else:
        raise AssertionError("no ConfigError")
