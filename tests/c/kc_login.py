#!/usr/bin/env python3
"""Plays the user's browser for a Keycloak login, for the C tests.

    kc_login.py AUTHORIZATION_URL USERNAME PASSWORD

Opens the authorization URL, submits the login form, and prints the URL Keycloak redirects to
(the callback with `code`, `state` and `iss`), without following it. Keycloak's login cookies
are `Secure` even on http://127.0.0.1, so they are carried by hand. Exit 1 with a message on
anything unexpected.
"""

import html
import http.client
import re
import sys
import urllib.parse


def request(method, url, cookies, body=None):
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=30)
    path = u.path + ("?" + u.query if u.query else "")
    headers = {}
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        body = urllib.parse.urlencode(body)
    conn.request(method, path, body=body, headers=headers)
    resp = conn.getresponse()
    data = resp.read().decode("utf-8", "replace")
    for k, v in resp.getheaders():
        if k.lower() == "set-cookie":
            name, _, rest = v.partition("=")
            cookies[name.strip()] = rest.split(";", 1)[0]
    conn.close()
    return resp.status, resp.getheader("Location"), data


def main():
    auth_url, username, password = sys.argv[1:4]
    cookies = {}
    status, location, page = request("GET", auth_url, cookies)
    if status != 200:
        sys.exit(f"kc_login: GET authorization URL: HTTP {status} {location or page[:200]}")
    m = re.search(r'<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"', page) or re.search(
        r'<form[^>]*action="([^"]+)"[^>]*id="kc-form-login"', page
    )
    if not m:
        sys.exit("kc_login: no login form on the page")
    action = urllib.parse.urljoin(auth_url, html.unescape(m.group(1)))
    status, location, page = request(
        "POST", action, cookies, {"username": username, "password": password, "credentialId": ""}
    )
    if status not in (302, 303) or not location:
        sys.exit(f"kc_login: login POST: HTTP {status}, no redirect: {page[:300]}")
    print(location)


if __name__ == "__main__":
    main()
