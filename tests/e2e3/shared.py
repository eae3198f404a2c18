"""What the e2e3 blueprints and workers share with the tests: Redis keys under the test prefix.

The orchestrator and worker processes learn the test's Redis and prefix from ``E2E3_REDIS_URL``
and ``E2E3_PREFIX``; counting there is durable and seen by every process.
"""

from __future__ import annotations

import os

import redis

BRANCHES_KEY = "branches-started"


def key(prefix: str, name: str, job_id: str) -> str:
    return f"{prefix}:e2e3:{name}:{job_id}"


_client: redis.Redis | None = None


def count(name: str, job_id: str) -> int:
    """Add one to the counter ``name`` of ``job_id``; returns the new count."""
    global _client
    if _client is None:
        _client = redis.Redis.from_url(os.environ["E2E3_REDIS_URL"])
    return int(_client.incr(key(os.environ["E2E3_PREFIX"], name, job_id)))
