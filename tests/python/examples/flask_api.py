"""An API in front of Keycloak, with Flask: every request must carry a valid access token with a
`tenant` claim. tokenward verifies it (signature against the realm's keys, issuer, expiry, that
it is an access token, the claim); the view only sees verified claims.

    KEYCLOAK_URL=https://sso.example.com flask --app flask_api run
"""

import functools
import os

from flask import Flask, g, jsonify, request

import tokenward

# One verifier per process: it caches the realm's keys (refetched at most once per 10 s).
verifier = tokenward.Client.keycloak(os.environ["KEYCLOAK_URL"], "acme", client_id="vault-api")
app = Flask(__name__)


def require_token(*claims, audience=None):
    """Rejects a request without a valid bearer token carrying `claims` (401 / 403)."""

    def decorate(view):
        @functools.wraps(view)
        def checked(*args, **kwargs):
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not token:
                return refuse(401, "invalid_request", "send Authorization: Bearer <token>")
            try:
                g.claims = verifier.verify_access_token(token, audience=audience, required_claims=claims)
            except tokenward.InvalidTokenError as e:
                return refuse(401, "invalid_token", str(e))
            except tokenward.MissingClaimError as e:
                return refuse(403, "insufficient_scope", str(e))
            return view(*args, **kwargs)

        return checked

    return decorate


def refuse(status, error, description):
    answer = jsonify(error=error, error_description=description)
    answer.headers["WWW-Authenticate"] = f'Bearer error="{error}"'
    return answer, status


@app.get("/documents")
@require_token("tenant")
def documents():
    return jsonify(tenant=g.claims["tenant"], user=g.claims.get("preferred_username"))
