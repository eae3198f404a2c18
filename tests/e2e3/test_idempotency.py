"""An idempotent start racing with itself across two processes creates one job."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from tests.e2e3.conftest import Client, E3Cluster, of_type

RACERS = 20


async def test_twenty_concurrent_starts_with_one_key_make_one_job(
    e3: E3Cluster, http: aiohttp.ClientSession
) -> None:
    first, second = await asyncio.gather(e3.orchestrator(), e3.orchestrator())
    apis = [Client(http, first), Client(http, second)]
    body = {"initial_data": {"order": 7}}
    headers = {"Idempotency-Key": "order-7"}

    async def start(n: int) -> tuple[int, dict[str, Any]]:
        return await apis[n % 2].post("/api/v1/approval", body, headers)

    answers = await asyncio.gather(*(start(n) for n in range(RACERS)))

    job_ids = {answer["job_id"] for _, answer in answers}
    assert len(job_ids) == 1, answers
    (job_id,) = job_ids
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] * (RACERS - 1) + [202], answers
    accepted = [answer for status, answer in answers if status == 202]
    assert accepted == [{"status": "accepted", "job_id": job_id}]

    status, listed = await apis[0].get("/api/v1/jobs")
    assert status == 200
    assert [j["job_id"] for j in listed["jobs"]] == [job_id]
    history = await apis[1].history(job_id)
    assert len(of_type(history, "job_created")) == 1
    assert (await apis[0].job(job_id))["status"] == "waiting_for_human"

    status, again = await apis[1].post("/api/v1/approval", body, headers)
    assert (status, again["job_id"]) == (200, job_id)

    status, reused = await apis[0].post("/api/v1/approval", {"initial_data": {"order": 8}}, headers)
    assert (status, reused["error"]["code"]) == (409, "IDEMPOTENCY_KEY_REUSED")
    assert reused["error"]["details"]["job_id"] == job_id
