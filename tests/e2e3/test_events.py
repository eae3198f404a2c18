"""Server-Sent Events read by a real HTTP client while the job runs, and resumed by id."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson

from tests.e2e3.conftest import Client, E3Cluster


async def sse(response: aiohttp.ClientResponse) -> AsyncIterator[dict[str, Any]]:
    """Parse ``id:``/``event:``/``data:`` fields; one dict per event, comments skipped."""
    fields: dict[str, str] = {}
    async for raw in response.content:
        line = raw.decode().rstrip("\r\n")
        if not line:
            if fields:
                yield {
                    "id": int(fields["id"]),
                    "event": fields["event"],
                    "data": orjson.loads(fields["data"]),
                }
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")


async def test_events_stream_live_and_resume_after_last_event_id(
    e3: E3Cluster, http: aiohttp.ClientSession
) -> None:
    first, second = await asyncio.gather(e3.orchestrator(), e3.orchestrator())
    e3.worker(first, "w-gate")  # the worker reports to one process, the stream comes from the other
    api, watcher = Client(http, first), Client(http, second)
    job_id = await api.start("gated", {"n": 7})
    url = f"{second.url}/api/v1/jobs/{job_id}/events"

    received: list[dict[str, Any]] = []
    async with http.get(url, headers=watcher.headers) as r:
        assert r.status == 200
        assert r.headers["Content-Type"] == "text/event-stream"
        events = sse(r)
        async for event in events:
            received.append(event)
            if event["event"] == "task_leased":
                break
        # the job is still at the gate: what follows can only come live
        assert (await api.job(job_id))["status"] == "waiting_for_worker"
        live_from = len(received)
        await e3.push("open", job_id)
        async for event in events:
            received.append(event)
        assert r.content.at_eof()  # the server ended the stream after the terminal event

    types = [e["event"] for e in received]
    assert types[-1] == "job_finished"
    assert "state_entered" in types[live_from:]  # events that happened while connected
    assert [e["id"] for e in received] == list(range(1, len(received) + 1))
    history = await api.history(job_id)
    assert [{**e["data"]} for e in received] == history
    assert [(e["id"], e["event"]) for e in received] == [(h["id"], h["type"]) for h in history]

    resume_after = received[live_from]["id"]
    async with http.get(url, headers={**watcher.headers, "Last-Event-ID": str(resume_after)}) as r:
        assert r.status == 200
        again = [e async for e in sse(r)]
    assert [e["id"] for e in again] == [e["id"] for e in received if e["id"] > resume_after]
    assert again[-1]["event"] == "job_finished"
