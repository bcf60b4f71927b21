"""16 threads calling token() through expiries of 2 s tokens: one request per renewal."""

from __future__ import annotations

import threading
import time

import jwt

from conftest import assert_lifespan


def test_sixteen_threads_through_expiry_make_one_request_per_renewal(kc, token_log):
    client = kc.client("ecoinvent-short", on_token=token_log)
    first = client.token_info()
    assert_lifespan(first, 2)
    usable = first.lifetime.total_seconds()  # the library's figure (exp - iat less 1 s, ...)
    assert 0 < usable <= 2

    duration = 6.0
    stop = time.monotonic() + duration
    errors = []
    seen = [dict() for _ in range(16)]  # per thread: token -> wall time first returned
    calls = [0] * 16
    start = threading.Barrier(16)

    def worker(i):
        try:
            start.wait()
            last = None
            while time.monotonic() < stop:
                t = client.token()
                calls[i] += 1
                if t is not last:
                    if t not in seen[i]:
                        seen[i][t] = time.time()
                    last = t
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors

    obtained = token_log.access_tokens()
    print(
        f"\nherd: 16 threads, {sum(calls)} token() calls over {duration:.0f} s, usable lifetime "
        f"{usable:.2f} s: {len(obtained)} token requests"
    )
    # One request per renewal: every token obtained is distinct, and there are no more of them
    # than the run needs (the first, then one per usable lifetime, plus slack for the edges).
    assert len(obtained) == len(set(obtained))
    needed = 1 + duration / (usable * 0.9)
    assert len(obtained) <= needed + 2, (len(obtained), needed)
    assert len(obtained) >= 3  # it did renew through the expiries
    # The threads saw only tokens the client obtained, and all of them but the last ones.
    returned = set().union(*(s.keys() for s in seen))
    assert returned <= set(obtained)
    assert len(set(obtained) - returned) <= 1
    # No token was handed out past its exp (whole seconds on the server's clock).
    for per_thread in seen:
        for t, when in per_thread.items():
            exp = jwt.decode(t, options={"verify_signature": False})["exp"]
            assert when <= exp + 0.05, (when, exp)
    assert sum(calls) > 1000
