#!/usr/bin/env python3
"""Plays the user on another device for a Keycloak device login (RFC 8628), for every suite:

    from kc_device import approve                        # Python tests
    kc_device.py KC_URL REALM USER_CODE USERNAME PASSWORD [deny]   # C tests; exit 1 on failure

Opens Keycloak's device page, types the user code into its form (`device_user_code`), logs in
on the login form, and grants the device access on the consent page Keycloak always shows for
a device (or refuses it with `deny`: the device then gets `access_denied`). Keycloak tells its
device page's form from a device authorization request by `Accept: text/html`, and its login
cookies are `Secure` even on http://127.0.0.1, so both are sent by hand.
"""

from __future__ import annotations

import re
import sys
from typing import Dict

from kc_login import browser_request


def approve(kc_url: str, realm: str, user_code: str, username: str, password: str,
            accept: bool = True) -> str:
    """Approves (or refuses) the device login; returns the last page's HTML."""
    cookies: Dict[str, str] = {}
    absolute = lambda u: kc_url + u if u.startswith("/") else u  # noqa: E731
    status, location, page = browser_request("POST", f"{kc_url}/realms/{realm}/device", cookies,
                                      {"device_user_code": user_code})
    for _ in range(10):
        if status in (302, 303):
            status, location, page = browser_request("GET", absolute(location or ""), cookies)
            continue
        consent = re.search(r'action="([^"]*/login-actions/consent[^"]*)"', page)
        if consent:
            code = re.search(r'name="code" value="([^"]+)"', page)
            if code is None:
                raise AssertionError("Keycloak's consent page has no code")
            body = {"code": code.group(1), ("accept" if accept else "cancel"): ""}
            status, location, page = browser_request("POST", absolute(consent.group(1).replace("&amp;", "&")), cookies, body)
            continue
        login = re.search(r'<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"', page)
        if login:
            body = {"username": username, "password": password, "credentialId": ""}
            status, location, page = browser_request("POST", absolute(login.group(1).replace("&amp;", "&")), cookies, body)
            continue
        if status != 200:
            raise AssertionError(f"device approval: HTTP {status}: {page[:200]}")
        return page
    raise AssertionError("the device approval did not settle")


if __name__ == "__main__":
    if len(sys.argv) not in (6, 7):
        sys.exit(__doc__)
    try:
        approve(*sys.argv[1:6], accept=len(sys.argv) == 6)
    except Exception as e:  # noqa: BLE001 - a C test reads the exit status
        print(f"kc_device.py: {e}", file=sys.stderr)
        sys.exit(1)
