"""Live: the inbox's changes as Server-Sent Events, resumed with Last-Event-ID; the job's own
stream carries the human events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson

from tests.human.conftest import Desk, Humans, other_client


async def sse(response: aiohttp.ClientResponse) -> AsyncIterator[dict[str, Any]]:
    fields: dict[str, str] = {}
    async for raw in response.content:
        line = raw.decode().rstrip("\r\n")
        if not line:
            if fields:
                yield {
                    "id": fields.get("id"),
                    "event": fields["event"],
                    "data": orjson.loads(fields["data"]),
                }
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")


async def take(events: AsyncIterator[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    async def read() -> list[dict[str, Any]]:
        return [await anext(events) for _ in range(n)]

    return await asyncio.wait_for(read(), 20)


async def test_inbox_stream_is_live_and_resumes_after_last_event_id(
    humans: Humans, http: aiohttp.ClientSession
) -> None:
    writer, streamer = await asyncio.gather(humans.orchestrator(), humans.orchestrator())
    desk, watcher = Desk(http, writer), Desk(http, streamer)
    url = f"{streamer.url}/api/v1/human-tasks/events?role=fraud"
    # a job of another client, and one of another role: neither is on this stream
    await other_client(http, writer).start("alerts", {"alert_id": "x", "role": "fraud"})
    await desk.start("alerts", {"alert_id": "c", "role": "compliance"})

    async with http.get(url, headers=watcher.headers) as r:
        assert r.status == 200 and r.headers["Content-Type"] == "text/event-stream"
        events = sse(r)
        one = await desk.start("alerts", {"alert_id": "1", "role": "fraud"})
        (added,) = await take(events, 1)
        assert (added["event"], added["data"]["job_id"]) == ("added", one)
        assert added["data"]["role"] == "fraud" and added["data"]["title"] == "Alert 1"
        status, body = await desk.post(
            f"/api/v1/jobs/{one}/assignment", {"role": "compliance", "actor": "lead"}
        )
        assert status == 200, body
        (moved,) = await take(events, 1)  # it leaves the fraud inbox: still told, once
        assert (moved["event"], moved["data"]["previous_role"]) == ("updated", "fraud")
        assert moved["data"]["role"] == "compliance"
        last_seen = moved["id"]

    # while nobody listens: a new step, and one decided
    two = await desk.start("alerts", {"alert_id": "2", "role": "fraud"})
    status, body = await desk.decide(two, "acknowledge", actor="ana")
    assert status == 200, body
    await desk.wait_status(two, "finished")

    async with http.get(url, headers={**watcher.headers, "Last-Event-ID": last_seen}) as r:
        assert r.status == 200
        events = sse(r)
        missed = await take(events, 2)
        assert [(e["event"], e["data"]["job_id"]) for e in missed] == [
            ("added", two),
            ("removed", two),
        ]
        assert missed[1]["data"]["job_status"] == "finished"
        three = await desk.start("alerts", {"alert_id": "3", "role": "fraud"})
        (live,) = await take(events, 1)
        assert (live["event"], live["data"]["job_id"]) == ("added", three)
        assert live["id"] > missed[-1]["id"]

    async with http.get(
        f"{streamer.url}/api/v1/human-tasks/events",
        headers={**watcher.headers, "Last-Event-ID": "nonsense"},
    ) as r:
        assert r.status == 400 and (await r.json())["error"]["details"]["field"] == "Last-Event-ID"


async def test_the_job_stream_carries_the_human_events(
    humans: Humans, http: aiohttp.ClientSession
) -> None:
    orch = await humans.orchestrator()
    desk = Desk(http, orch)
    job_id = await desk.start("alerts", {"alert_id": "s", "escalations": [{"after": 600}]})
    await desk.wait_status(job_id, "waiting_for_human")
    async with http.get(f"{orch.url}/api/v1/jobs/{job_id}/events", headers=desk.headers) as r:
        events = sse(r)
        status, _ = await desk.post(f"/api/v1/jobs/{job_id}/assignment", {"assignee": "bo"})
        assert status == 200
        status, _ = await desk.post(f"/api/v1/jobs/{job_id}/escalation", {"actor": "bo"})
        assert status == 200
        status, _ = await desk.decide(job_id, "acknowledge", actor="bo")
        assert status == 200
        seen: list[str] = []
        async for event in events:
            seen.append(event["event"])
            if event["event"] == "job_finished":
                break
    human = [e for e in seen if e.startswith("human_") or e in ("reassigned", "escalated")]
    assert human == ["human_waiting", "reassigned", "escalated", "human_decided"]
