"""The README's Python quickstart (run by tests/python/test_examples.py).

A service token for the ecoinvent API, and the API called with requests.
"""

import os

import requests

import tokenward

client = tokenward.Client.keycloak(
    os.environ.get("KEYCLOAK_URL", "https://sso.ecoinvent.org"),
    "ecoinvent",
    client_id=os.environ["ECOINVENT_CLIENT_ID"],
    client_secret=os.environ["ECOINVENT_CLIENT_SECRET"],
)
with client:
    token = client.token()  # cached; renewed before it expires, once for all threads
    info = client.token_info()
    print(f"token expires in {info.expires_in} s, at {info.expires_at:%H:%M:%S} UTC")

    api = requests.Session()
    api.auth = client.requests_auth()  # Bearer header; on a 401: one renewal, one retry
    r = api.get(os.environ.get("ECOINVENT_API", "https://api.ecoinvent.org") + "/v0/versions")
    r.raise_for_status()
    print("versions:", r.json()["versions"])
