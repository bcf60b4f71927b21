"""The README's multi-worker example: every gunicorn worker is a process, and the store makes
the fleet renew a token once. tests/python/test_store_example.py runs it as several processes."""

# app.py, run with: gunicorn -w 8 app:app
import hashlib
import os

import tokenward

client = tokenward.Client.keycloak(
    os.environ.get("KEYCLOAK_URL", "https://sso.ecoinvent.org"),
    "ecoinvent",
    client_id=os.environ["ECOINVENT_CLIENT_ID"],
    client_secret=os.environ["ECOINVENT_CLIENT_SECRET"],
    store=os.environ["TOKENWARD_STORE"],  # redis://:PASSWORD@redis:6379/0, or file:///var/lib/app
)


def app(environ, start_response):
    token = client.token()  # one token request per lifetime for all 8 workers
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [hashlib.sha256(token.encode()).hexdigest()[:16].encode()]  # never the token itself
