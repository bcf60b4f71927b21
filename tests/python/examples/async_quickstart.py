"""The README's asyncio quickstart (run by tests/python/test_examples.py).

A service token for the ecoinvent API from an event loop, and the API called with httpx.
"""

import asyncio
import os

import httpx

import tokenward


async def main() -> None:
    async with tokenward.AsyncClient.keycloak(
        os.environ.get("KEYCLOAK_URL", "https://sso.ecoinvent.org"),
        "ecoinvent",
        client_id=os.environ["ECOINVENT_CLIENT_ID"],
        client_secret=os.environ["ECOINVENT_CLIENT_SECRET"],
    ) as client:
        token = await client.token()  # a cache hit never leaves the loop; a renewal is one
        info = await client.token_info()  # request for every coroutine waiting on it
        print(f"token expires in {info.expires_in} s")

        base = os.environ.get("ECOINVENT_API", "https://api.ecoinvent.org")
        async with httpx.AsyncClient(auth=client.httpx_auth()) as api:  # on a 401: one retry
            answers = await asyncio.gather(*(api.get(base + "/v0/versions") for _ in range(10)))
        print("versions:", answers[0].raise_for_status().json()["versions"], "x", len(answers))


asyncio.run(main())
