"""Where a lone job's milliseconds go in webhook mode, from its history's timestamps.

Each job of the one-at-a-time phase is cut at the events the one-task blueprint records, read
from the job's hash (full precision; the API rounds times to the millisecond), plus the
client's own two marks, on one wall clock:

    POST sent → job_created → task_queued → task_leased → task_result → job_finished
    → webhook received

``task_queued → task_leased`` is the dispatch (a parked long-poll woken, the claim);
``task_leased → task_result`` the worker's round trip (the task's answer to the poll, the
handler, the result back over the WebSocket, up to the step that records it);
``job_finished → webhook`` the job's end commit and the delivery.
"""

from __future__ import annotations

from typing import Any

import orjson
import redis.asyncio as aioredis

from orchestrator.storage.keys import Keys

MARKS = ("job_created", "task_queued", "task_leased", "task_result", "job_finished")
SEGMENTS = (
    ("POST → created", "sent", "job_created"),
    ("created → queued", "job_created", "task_queued"),
    ("queued → leased", "task_queued", "task_leased"),
    ("leased → result", "task_leased", "task_result"),
    ("result → finished", "task_result", "job_finished"),
    ("finished → webhook", "job_finished", "received"),
)


async def marks(r: aioredis.Redis, prefix: str, job_id: str) -> dict[str, float]:
    """The first time of each event of ``MARKS`` in the job's stored history."""
    raw = await r.hget(Keys(prefix).job(job_id), "history")
    found: dict[str, float] = {}
    for event in orjson.loads(raw or b"[]"):
        if event["type"] in MARKS:
            found.setdefault(event["type"], float(event["at"]))
    return found


def line(rows: list[dict[str, float]], pct: Any) -> str:
    """p50 / p95 of each segment, ms, over the jobs that have both of its marks."""
    parts = []
    for label, start, end in SEGMENTS:
        spans = [1000 * (row[end] - row[start]) for row in rows if start in row and end in row]
        if spans:
            parts.append(f"{label} {pct(spans, 0.5):.2f} / {pct(spans, 0.95):.2f}")
    return " · ".join(parts)
