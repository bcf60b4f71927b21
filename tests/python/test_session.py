"""The session rules the core decides, seen through the Python package, against the real
Keycloak harness:

- one cache, the core's: the package's copy is a view keyed by the core's generation, so calls
  that change the session (refresh, revoke, a refusal) overlapping token() from 8 threads never
  let a revoked or superseded token out again;
- a pending login is spent by its first callback, whatever the outcome;
- a session renews the way it began: a user's session of a confidential client that also has
  service accounts answers login_required once its refresh token is refused, and never turns
  into the service account's token (client credentials).
"""

from __future__ import annotations

import itertools
import sys
import threading
import time
import urllib.parse
from typing import Dict, List, Tuple

import pytest

import tokenward
from kc_client import REDIRECT, web_client_with_service_account
from kc_login import login as kc_login


# --- one cache: the view never outlives a change of the session ---------------------------


def test_overlapping_refresh_revoke_and_rejection_never_bring_back_an_old_token(kc, token_log, monkeypatch):
    """8 threads for a few seconds: four call token() as fast as they can, one refresh(), one
    revoke(), one token_after_rejection(), one token() with claims(). Every call is stamped
    with a global sequence number when it starts and when it returns. Then:

    - after revoke(t) returned, no token() that started later returned t;
    - after refresh() returned T2, no token() that started later returned a token first seen
      before that refresh() started (T2 superseded them all: refresh always renews);
    - after token_after_rejection(t) returned, no token() that started later returned t.

    To make the dangerous interleaving common rather than rare, a reader is sometimes paused
    (2 ms, the GIL released) between the library's answer and keeping its view, as a thread
    preempted there would be: a session change then completes in between, and a package that
    kept that answer as its view would hand out the old token from then on.
    """
    from tokenward import _client

    real = _client._access_token
    calls = itertools.count()

    def paused_after_the_answer(*args):
        rc = real(*args)
        if next(calls) % 3 == 0:
            time.sleep(0.002)
        return rc

    monkeypatch.setattr(_client, "_access_token", paused_after_the_answer)
    client = kc.client("vion-service", on_token=token_log)
    first = client.token()
    seq = itertools.count()
    stop = threading.Event()
    # Per thread, per token: when a token() call first returned it (its end) and when the last
    # call that returned it started. (Aggregates: the readers make millions of calls.)
    first_end: List[Dict[str, int]] = [{} for _ in range(8)]
    last_start: List[Dict[str, int]] = [{} for _ in range(8)]
    # (start, end, kind, token): kind "refresh" (token = T2), "revoke" / "rejected" (token = t)
    changes: List[Tuple[int, int, str, str]] = []
    changes_lock = threading.Lock()
    errors: List[BaseException] = []

    def guarded(fn):
        def run():
            try:
                fn()
            except BaseException as e:  # reported below, with the thread's work
                errors.append(e)
                stop.set()

        return run

    def read(i: int) -> str:
        s = next(seq)
        t = client.token()
        e = next(seq)
        first_end[i].setdefault(t, e)
        last_start[i][t] = s
        return t

    def reader(i: int):
        firsts, lasts, token = first_end[i], last_start[i], client.token
        while not stop.is_set():
            s = next(seq)
            t = token()
            e = next(seq)
            if t not in firsts:
                firsts[t] = e
            lasts[t] = s

    def note(kind: str, start: int, token: str) -> None:
        with changes_lock:
            changes.append((start, next(seq), kind, token))

    def refresher():
        while not stop.is_set():
            s = next(seq)
            t2 = client.refresh().access_token
            note("refresh", s, t2)
            time.sleep(0.01)

    def revoker():
        while not stop.is_set():
            time.sleep(0.03)
            t = read(5)
            s = next(seq)
            client.revoke(t, kind="access")
            note("revoke", s, t)

    def rejecter():
        while not stop.is_set():
            time.sleep(0.02)
            t = read(6)
            s = next(seq)
            fresh = client.token_after_rejection(t)
            note("rejected", s, t)
            with changes_lock:
                changes.append((s, next(seq), "seen", fresh))

    def claims_reader():
        while not stop.is_set():
            read(7)
            assert client.claims()["azp"] == "vion-service"

    workers = [guarded(lambda i=i: reader(i)) for i in range(4)]
    workers += [guarded(refresher), guarded(revoker), guarded(rejecter), guarded(claims_reader)]
    assert len(workers) == 8
    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads often: many more interleavings
    try:
        threads = [threading.Thread(target=w, name=f"overlap-{i}") for i, w in enumerate(workers)]
        for t in threads:
            t.start()
        time.sleep(4.0)
        stop.set()
        for t in threads:
            t.join(60)
    finally:
        sys.setswitchinterval(old_interval)
    assert not errors, errors

    kinds = [c[2] for c in changes]
    assert kinds.count("refresh") >= 10 and kinds.count("revoke") >= 10 and kinds.count("rejected") >= 10, (
        "too few overlapping session changes to mean anything",
        {k: kinds.count(k) for k in set(kinds)},
    )
    assert next(calls) > 100, "the readers barely reached the library"

    # When each token was first seen returned (by any call).
    first_seen: Dict[str, int] = {first: -1}
    for firsts in first_end:
        for t, e in firsts.items():
            first_seen[t] = min(first_seen.get(t, e), e)
    for s, e, kind, t in changes:
        if kind in ("refresh", "seen"):
            first_seen[t] = min(first_seen.get(t, e), e)

    # From when on each token must never come back: the end of the change that retired it.
    retired: Dict[str, Tuple[int, str]] = {}

    def retire(t: str, at: int, why: str) -> None:
        if t not in retired or at < retired[t][0]:
            retired[t] = (at, why)

    refreshes = sorted((s, e, t) for s, e, k, t in changes if k == "refresh")
    for s, e, kind, t in changes:
        if kind in ("revoke", "rejected"):
            retire(t, e, kind)
    by_first_seen = sorted((f, t) for t, f in first_seen.items())
    for s, e, t2 in refreshes:
        for f, t in by_first_seen:
            if f >= s:
                break
            if t != t2:
                retire(t, e, "superseded by a refresh")

    late = sorted(
        (s, retired[t]) for lasts in last_start for t, s in lasts.items() if t in retired and s > retired[t][0]
    )
    assert not late, (
        f"{len(late)} tokens were returned by a token() call that started after they were "
        f"revoked or superseded; e.g. a call started at #{late[0][0]}, {late[0][1][1]} at #{late[0][1][0]}"
    )
    assert len(token_log) >= len(refreshes)


def test_a_closed_client_keeps_no_view(kc):
    client = kc.client("vion-service")
    client.token()
    client.close()
    with pytest.raises(tokenward.ClientClosedError):
        client.token()


# --- a pending login is spent by its first callback ---------------------------------------


def test_a_forged_callback_spends_the_login(kc):
    with kc.vion_spa() as client:
        login = client.authorization_url()
        callback = kc_login(login.url, "vion-user", kc.env["TW_VION_USER_PASSWORD"])
        parts = urllib.parse.urlsplit(callback)
        q = dict(urllib.parse.parse_qsl(parts.query))
        q["state"] = "forged-" + q["state"]
        forged = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(q)))
        with pytest.raises(tokenward.StateMismatchError):
            client.exchange_code(forged, login)
        # The real callback now finds the login spent: no request, a clear error.
        with pytest.raises(tokenward.LoginRequiredError) as e:
            client.exchange_code(callback, login)
        assert "start a new login" in str(e.value)
        with pytest.raises(tokenward.LoginRequiredError):
            login.to_json()  # nor can it be carried elsewhere and finished there
        with pytest.raises(tokenward.ConfigError):
            client.exchange_code(callback)  # and it is no longer the client's default login
        with pytest.raises(tokenward.LoginRequiredError):
            client.token()  # nothing was cached
        # A new login works.
        again = client.authorization_url()
        info = client.exchange_code(kc_login(again.url, "vion-user", kc.env["TW_VION_USER_PASSWORD"]))
        assert info.claims["preferred_username"] == "vion-user"
        client.revoke()


def test_a_login_the_user_denied_is_access_denied_and_spent(kc):
    with kc.vion_spa() as client:
        login = client.authorization_url()
        state = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(login.url).query))["state"]
        denied = f"{REDIRECT}?error=access_denied&error_description=denied&state={state}"
        with pytest.raises(tokenward.OAuthError) as e:
            client.exchange_code(denied, login)
        assert e.value.error == "access_denied"
        with pytest.raises(tokenward.LoginRequiredError):
            client.exchange_code(f"{REDIRECT}?code=x&state={state}", login)


# --- a session renews the way it began ----------------------------------------------------


def test_a_users_session_never_turns_into_the_service_account(kc, token_log):
    with web_client_with_service_account(kc.env) as (client_id, secret):
        with tokenward.Client.keycloak(
            kc.url, "vion", client_id=client_id, client_secret=secret, redirect_uri=REDIRECT,
            scope="openid", on_token=token_log,
        ) as web:
            login = web.authorization_url()
            info = web.exchange_code(kc_login(login.url, "vion-user", kc.env["TW_VION_USER_PASSWORD"]))
            assert info.claims["preferred_username"] == "vion-user" and info.refresh_token
            assert web.token() == info.access_token
            # The session's refresh token is revoked elsewhere (another instance of the app):
            # this client still holds it.
            with tokenward.Client.keycloak(kc.url, "vion", client_id=client_id, client_secret=secret) as other:
                other.revoke(info.refresh_token, kind="refresh")
            with pytest.raises(tokenward.LoginRequiredError):
                web.refresh()
            with pytest.raises(tokenward.LoginRequiredError):
                web.token()
            with pytest.raises(tokenward.LoginRequiredError):
                web.token_after_rejection(info.access_token)
            # Only the login's token was ever obtained: no client-credentials token (whose
            # subject would be the service account) slipped in.
            assert token_log.access_tokens() == [info.access_token]
            # The client itself can run client credentials: it was a choice, not an accident.
            with tokenward.Client.keycloak(kc.url, "vion", client_id=client_id, client_secret=secret) as service:
                assert service.claims()["preferred_username"].startswith("service-account-")
