"""Webhooks: signed notices of a job's status, POSTed to the job's ``webhook_url``.

- ``outbox``: which transitions owe a delivery, and the durable Redis outbox they wait in;
- ``sender``: the background loop that delivers them, with retries;
- ``payload``: the JSON body;
- ``signing``: the HMAC-SHA256 signature, and ``verify`` for receivers (stdlib only).

``docs/webhooks.md`` is the user's side of it.
"""
