"""Webhooks: signed notices of a job's status, POSTed to the job's ``webhook_url``.

- ``outbox``: which transitions owe a delivery, and the durable Redis outbox they wait in;
- ``sender``: delivers them, at once after their commit and by a sweep that retries
  (``loops/webhooks.py`` runs that sweep);
- ``payload``: the JSON body;
- ``signing``: the HMAC-SHA256 signature, and ``verify`` for receivers (stdlib only).

``docs/webhooks.md`` is the user's side of it.
"""
