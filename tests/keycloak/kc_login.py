#!/usr/bin/env python3
"""Plays the user's browser for a Keycloak login, for every suite that needs a user session.

    from kc_login import login                          # Python tests (conftest puts this folder on sys.path)
    kc_login.py AUTHORIZATION_URL USERNAME PASSWORD     # C tests: prints the callback URL, exit 1 on failure

Opens the authorization URL, submits the login form and returns the URL Keycloak redirects to
(the callback with `code`, `state` and `iss`), without following it. Keycloak's login cookies
are `Secure` even on http://127.0.0.1, so they are carried by hand in a Cookie header.
"""

from __future__ import annotations

import html
import http.client
import re
import sys
import urllib.parse
from typing import Dict, Optional, Tuple


def browser_request(method: str, url: str, cookies: Dict[str, str],
                    body: Optional[dict] = None) -> Tuple[int, Optional[str], str]:
    """One request as a browser sends it (kc_device.py uses it too): `Accept: text/html`, the
    cookies Keycloak set so far (updated from its answer), a form body. Redirects are not
    followed; returns the status, the Location header and the page."""
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=30)
    headers = {"Accept": "text/html"}
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    data = None
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        data = urllib.parse.urlencode(body)
    conn.request(method, u.path + ("?" + u.query if u.query else ""), body=data, headers=headers)
    resp = conn.getresponse()
    text = resp.read().decode("utf-8", "replace")
    for k, v in resp.getheaders():
        if k.lower() == "set-cookie":
            name, _, rest = v.partition("=")
            cookies[name.strip()] = rest.split(";", 1)[0]
    conn.close()
    return resp.status, resp.getheader("Location"), text


def login(auth_url: str, username: str, password: str) -> str:
    """The callback URL Keycloak redirects to after a successful login."""
    cookies: Dict[str, str] = {}
    status, location, page = browser_request("GET", auth_url, cookies)
    if status != 200:
        raise AssertionError(f"GET authorization URL: HTTP {status} {location or page[:200]}")
    m = re.search(r'<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"', page) or re.search(
        r'<form[^>]*action="([^"]+)"[^>]*id="kc-form-login"', page
    )
    if not m:
        raise AssertionError("no login form on Keycloak's page")
    action = urllib.parse.urljoin(auth_url, html.unescape(m.group(1)))
    status, location, page = browser_request(
        "POST", action, cookies, {"username": username, "password": password, "credentialId": ""}
    )
    if status not in (302, 303) or not location:
        raise AssertionError(f"login POST: HTTP {status}, no redirect: {page[:300]}")
    return location


if __name__ == "__main__":
    try:
        print(login(*sys.argv[1:4]))
    except (AssertionError, OSError, TypeError) as e:
        sys.exit(f"kc_login: {e}")
