"""A webhook receiver: checks each delivery's signature, ignores repeats, prints the event.

Run it next to an orchestrator started with ``--dev`` (its webhook secret is
``dev-webhook-secret``), then give jobs ``"webhook_url": "http://127.0.0.1:9000/hooks"``::

    python -m orchestrator.examples.webhooks.receiver
    orchestrator serve --dev --blueprints orchestrator.examples.greeting

``verify`` comes from ``orchestrator/webhooks/signing.py``, which uses the standard library
only: a receiver without the orchestrator installed can copy that file.
"""

from __future__ import annotations

import json
import os

from aiohttp import web

from orchestrator.webhooks.signing import verify

SECRET = web.AppKey("secret", str)
SEEN = web.AppKey("seen", set[str])


async def receive(request: web.Request) -> web.Response:
    raw = await request.read()  # the raw bytes: the signature covers them, not parsed JSON
    ok = verify(
        request.app[SECRET],
        request.headers.get("X-Webhook-Timestamp", ""),
        request.headers.get("X-Webhook-Signature", ""),
        raw,
    )
    if not ok:
        return web.Response(status=401, text="bad signature")
    webhook_id = request.headers["X-Webhook-Id"]
    if webhook_id in request.app[SEEN]:
        return web.Response(status=200, text="seen")  # at-least-once: a repeat is normal
    request.app[SEEN].add(webhook_id)
    event = json.loads(raw)
    print(event["event"], event["job_id"], event.get("result") or event.get("error"), flush=True)
    # Answer 2xx quickly; do slow work elsewhere. Anything else is retried with backoff.
    return web.Response(status=204)


def create_receiver(secret: str) -> web.Application:
    app = web.Application()
    app[SECRET] = secret
    app[SEEN] = set()  # keep these in a database in real use, for as long as retries last
    app.router.add_post("/hooks", receive)
    return app


if __name__ == "__main__":
    secret = os.environ.get("WEBHOOK_SECRET", "dev-webhook-secret")
    web.run_app(create_receiver(secret), host="127.0.0.1", port=9000)
