"""The chaos soak: jobs created at a steady pace while processes die, then every job read back.

``soak(plan, tmp)`` runs it and returns the audit's ``Report``; ``bench/chaos.py`` prints it,
``test_chaos.py`` asserts on it. A create is sent with an ``Idempotency-Key`` and again, to any
orchestrator, until one answers: a create whose answer a kill lost is still one job.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

from tests.e2e.chaos_audit import Collected, Report, audit, read_marks
from tests.e2e.chaos_fleet import Fleet
from tests.e2e.chaos_plan import Plan, kinds, schedule
from tests.e2e.conftest import CLIENT_TOKEN

HEADERS = {"X-Client-Token": CLIENT_TOKEN}
RETRY_S = 0.05
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=5)
IN_FLIGHT = 32
"""Reads of jobs at once, while waiting for their ends and when collecting them."""


class Client:
    """Requests that go to the orchestrators in turn until one answers (they die, too)."""

    def __init__(self, http: aiohttp.ClientSession, urls: Callable[[], list[str]]):
        self.http = http
        self.urls = urls
        self.turn = 0
        self.gate = asyncio.Semaphore(IN_FLIGHT)

    async def call(
        self, method: str, path: str, deadline: float, key: str | None = None, **kw: Any
    ) -> tuple[int, Any] | None:
        """The first answer other than a 5xx or 429; ``None`` at the deadline."""
        headers = {**HEADERS, "Idempotency-Key": key} if key else HEADERS
        while time.monotonic() < deadline:
            urls = self.urls()
            self.turn += 1
            url = urls[self.turn % len(urls)] + path
            try:
                async with self.http.request(method, url, headers=headers, **kw) as r:
                    if r.status < 500 and r.status != 429:
                        return r.status, await r.json()
            except (TimeoutError, aiohttp.ClientError, ValueError):
                pass
            await asyncio.sleep(RETRY_S)
        return None

    async def create(self, n: int, kind: str, plan: Plan, deadline: float) -> str | None:
        body = {"initial_data": {"n": n, "run_s": plan.run_s}}
        key = f"chaos-{plan.seed}-{n}"
        answer = await self.call("POST", f"/api/v1/{kind}", deadline, key, json=body)
        if answer is None or answer[0] not in (200, 202):
            return None
        return str(answer[1]["job_id"])

    async def view(self, job_id: str, deadline: float) -> dict[str, Any] | None:
        async with self.gate:
            answer = await self.call("GET", f"/api/v1/jobs/{job_id}", deadline)
        return answer[1] if answer and answer[0] == 200 else None

    async def history(self, job_id: str, deadline: float) -> list[dict[str, Any]]:
        async with self.gate:
            answer = await self.call("GET", f"/api/v1/jobs/{job_id}/history", deadline)
        return list(answer[1]) if answer and answer[0] == 200 else []

    async def listed(self, deadline: float) -> set[str]:
        ids: set[str] = set()
        offset: int | None = 0
        while offset is not None:
            answer = await self.call("GET", f"/api/v1/jobs?limit=500&offset={offset}", deadline)
            if answer is None or answer[0] != 200:
                break
            ids.update(j["job_id"] for j in answer[1]["jobs"])
            offset = answer[1]["next_offset"]
        return ids


async def _create_all(client: Client, plan: Plan, t0: float) -> tuple[dict[str, str], int]:
    async def one(n: int, kind: str) -> tuple[str | None, str]:
        await asyncio.sleep(max(0.0, t0 + n / plan.rate - time.monotonic()))  # the pace
        deadline = time.monotonic() + plan.drain_s
        return await client.create(n, kind, plan, deadline), kind

    made = await asyncio.gather(*(one(n, k) for n, k in enumerate(kinds(plan))))
    created = {job_id: kind for job_id, kind in made if job_id is not None}
    return created, len(made) - len(created)


async def _chaos(fleet: Fleet, t0: float) -> None:
    for kill in schedule(fleet.plan):
        await asyncio.sleep(max(0.0, t0 + kill.at - time.monotonic()))  # its planned time
        await fleet.kill(kill)


async def _until_ended(client: Client, ids: list[str], deadline: float) -> None:
    """Re-read the jobs not ended yet until none is left or the deadline passes."""
    waiting = list(ids)
    while waiting and time.monotonic() < deadline:
        views = await asyncio.gather(*(client.view(j, deadline) for j in waiting))
        waiting = [j for j, v in zip(waiting, views, strict=True) if not _ended(v)]
        if waiting:
            await asyncio.sleep(0.2)


def _ended(view: dict[str, Any] | None) -> bool:
    return view is not None and view["status"] in {
        "finished",
        "failed",
        "cancelled",
        "quarantined",
    }


async def _collect(client: Client, fleet: Fleet, created: dict[str, str]) -> Collected:
    deadline = time.monotonic() + fleet.plan.drain_s
    ids = list(created)
    histories = dict(
        zip(ids, await asyncio.gather(*(client.history(j, deadline) for j in ids)), strict=True)
    )
    children = [
        e["child_id"] for h in histories.values() for e in h if e["type"] == "child_started"
    ]
    await _until_ended(client, children, deadline)
    kids = await asyncio.gather(*(client.history(j, deadline) for j in children))
    histories.update(zip(children, kids, strict=True))
    everyone = ids + children
    views = await asyncio.gather(*(client.view(j, deadline) for j in everyone))
    return Collected(
        created=created,
        unaccepted=0,
        views=dict(zip(everyone, views, strict=True)),
        histories=histories,
        listed=await client.listed(deadline),
        marks=read_marks(fleet.cluster.marks),
    )


async def soak(plan: Plan, tmp: Path, say: Callable[[str], None] = print) -> tuple[Report, Fleet]:
    """Run the plan and audit it; the fleet is returned stopped, for its kills and logs."""
    fleet = await Fleet.start(plan, tmp)
    try:
        async with aiohttp.ClientSession(timeout=REQUEST_TIMEOUT) as http:
            client = Client(http, lambda: fleet.urls)
            t0 = time.monotonic()
            say(f"fleet up; creating {plan.jobs} jobs over {plan.window_s:.1f}s")
            chaos = asyncio.create_task(_chaos(fleet, t0))
            created, unaccepted = await _create_all(client, plan, t0)
            await chaos
            say(f"created {len(created)} ({unaccepted} never accepted); waiting for their ends")
            await _until_ended(client, list(created), time.monotonic() + plan.drain_s)
            collected = await _collect(client, fleet, created)
            collected.unaccepted = unaccepted
    finally:
        fleet.stop()
    return audit(collected), fleet
