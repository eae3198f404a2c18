"""``GET /api/v1/jobs/{id}?wait=``: a waiter woken by an end this process committed answers
with the job the commit wrote (no read back); one woken by another process's end answers with
the job that end carries (no read either). A wait for a job this process created, with no end
heard since, starts without a read."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson
import pytest
from aiohttp import web

from orchestrator.api.job_wait import wait_ended
from orchestrator.appkeys import JOB_WAITERS, RUNNER
from orchestrator.dispatch import job_waiters
from orchestrator.dispatch.job_waiters import JobWaiters
from orchestrator.engine.model import Job, JobStatus
from orchestrator.storage import codec
from tests.api.conftest import OTHER_CLIENT_TOKEN, Api, MakeApi, client_headers
from tests.builders import new_job
from tests.helpers import wait_for


def count_job_reads(api: Api, job_id: str) -> list[int]:
    """A one-item list: how many times ``api``'s store has read ``job_id``'s hash."""
    reads = [0]
    load = api.store.load

    async def counted(read_id: str) -> Any:
        if read_id == job_id:
            reads[0] += 1
        return await load(read_id)

    api.store.load = counted  # type: ignore[method-assign]
    return reads


async def raw_job(api: Api, job_id: str, query: str = "") -> tuple[int, bytes]:
    resp = await api.client.get(f"/api/v1/jobs/{job_id}{query}", headers=client_headers())
    return resp.status, await resp.read()


async def parked(api: Api, job_id: str) -> asyncio.Task[tuple[int, bytes]]:
    """A ``?wait=10`` request for ``job_id``, once it waits on ``api``'s job waiters."""
    waiter = asyncio.create_task(raw_job(api, job_id, "?wait=10"))
    await wait_for(lambda: len(api.app[JOB_WAITERS]) == 1, 5.0, what="the wait to park")
    return waiter


async def finish(api: Api, job_id: str, worker: str) -> None:
    task = await api.take(worker)
    assert task["job_id"] == job_id
    resp = await api.result(task, worker, data={"greeting": "Hello, Ada"})
    assert resp.status == 200, await resp.text()


async def ended_there(make_api: MakeApi) -> tuple[Api, Api, str]:
    """Two processes: a job created ``here`` and finished ``there``, its end heard here."""
    here, there = await make_api(), await make_api()
    job_id = await here.create()
    await there.register("w-there")
    await finish(there, job_id, "w-there")
    waiters = here.app[JOB_WAITERS]
    await wait_for(lambda: not waiters.fresh(job_id, "alice"), 5.0, what="here to hear the end")
    return here, there, job_id


async def test_a_local_end_hands_the_job_to_its_waiter_without_a_read(api: Api) -> None:
    await api.register("w-local")
    # The reads an end costs without a waiter parked: what the result itself needs.
    alone = await api.create()
    alone_reads = count_job_reads(api, alone)
    await finish(api, alone, "w-local")

    job_id = await api.create()
    waiter = await parked(api, job_id)
    reads = count_job_reads(api, job_id)
    await finish(api, job_id, "w-local")
    status, body = await asyncio.wait_for(waiter, 10)

    assert status == 200, body
    assert reads[0] == alone_reads[0], "the waiter read back the job its process just ended"
    # the same bytes a read of the stored job answers
    assert (status, body) == await raw_job(api, job_id)
    assert orjson.loads(body)["status"] == "finished"


async def test_a_waiter_woken_from_another_process_answers_with_the_job_its_end_carries(
    make_api: MakeApi,
) -> None:
    here, there = await make_api(), await make_api()  # two processes on one Redis
    job_id = await here.create()
    waiter = await parked(here, job_id)
    reads = count_job_reads(here, job_id)
    await there.register("w-there")
    await finish(there, job_id, "w-there")
    status, body = await asyncio.wait_for(waiter, 10)

    assert status == 200, body
    assert reads[0] == 0, "woken by another process's end, the waiter read the job"
    assert (status, body) == await raw_job(there, job_id)  # as stored
    assert orjson.loads(body)["status"] == "finished"


async def test_a_job_another_process_finished_is_answered_without_a_read(
    make_api: MakeApi,
) -> None:
    here, there, job_id = await ended_there(make_api)
    reads = count_job_reads(here, job_id)

    answers = [await raw_job(here, job_id, "?wait=30"), await raw_job(here, job_id)]

    assert reads[0] == 0, "a job whose end came with the job was read"
    stored = await raw_job(there, job_id)
    assert answers == [stored, stored] and stored[0] == 200
    resp = await here.client.get(
        f"/api/v1/jobs/{job_id}", headers=client_headers(OTHER_CLIENT_TOKEN)
    )
    assert resp.status == 404  # another client's job it is not


async def test_a_wait_for_a_job_created_here_parks_without_a_read(api: Api) -> None:
    await api.register("w-local")
    job_id = await api.create()
    reads = count_job_reads(api, job_id)
    waiter = await parked(api, job_id)

    assert reads[0] == 0, "the wait read a job its own process created a moment ago"
    await finish(api, job_id, "w-local")
    status, body = await asyncio.wait_for(waiter, 10)
    assert status == 200, body
    assert orjson.loads(body)["status"] == "finished"


async def test_an_end_heard_from_another_process_before_the_wait_is_not_missed(
    make_api: MakeApi,
) -> None:
    here, there, job_id = await ended_there(make_api)

    # Parked, it would be answered only after the whole wait: it must read and answer now.
    status, body = await asyncio.wait_for(raw_job(here, job_id, "?wait=30"), 5)

    assert status == 200, body
    assert orjson.loads(body)["status"] == "finished"


async def test_a_wait_that_started_unread_answers_the_stored_job_at_its_end(api: Api) -> None:
    job_id = await api.create()

    status, body = await raw_job(api, job_id, "?wait=0.2")

    assert status == 200, body
    assert (status, body) == await raw_job(api, job_id)
    assert orjson.loads(body)["status"] != "finished"


async def test_another_clients_wait_for_a_job_created_here_is_refused(api: Api) -> None:
    job_id = await api.create()

    resp = await api.client.get(
        f"/api/v1/jobs/{job_id}?wait=5", headers=client_headers(OTHER_CLIENT_TOKEN)
    )

    assert resp.status == 404, await resp.text()


def test_jobs_created_here_are_fresh_until_an_end_a_change_or_a_reconnect() -> None:
    waiters = JobWaiters()
    jobs = [new_job(f"j{i}", client="alice") for i in range(4)]
    for job in jobs:
        waiters.created(job)
    waiters.created(new_job("done", client="alice").evolve(status=JobStatus.FINISHED))

    assert [waiters.fresh(job.id, "alice") for job in jobs] == [True] * 4
    assert not waiters.fresh("j0", "bob") and not waiters.fresh("done", "alice")
    waiters.ended(b"j0")
    waiters.ended_job(jobs[1].evolve(status=JobStatus.FINISHED))
    assert [waiters.fresh(job.id, "alice") for job in jobs] == [False, False, True, True]
    waiters.wake_all()
    assert not waiters.fresh("j2", "alice") and not waiters.fresh("j3", "alice")


def test_a_job_whose_end_was_heard_before_its_creation_returned_is_not_fresh() -> None:
    # Another process claimed, ran and ended it while the commit that created it was still
    # on its way back here: a wait must read it, or it waits for an end already heard.
    waiters = JobWaiters()
    job, other = new_job("j1", client="alice"), new_job("j2", client="alice")
    waiters.ended(b"j1")
    waiters.ended_job(other.evolve(status=JobStatus.FINISHED))

    waiters.created(job)
    waiters.created(other)

    assert not waiters.fresh("j1", "alice") and not waiters.fresh("j2", "alice")


def test_the_oldest_fresh_jobs_are_forgotten_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(job_waiters, "FRESH_MAX", 2)
    waiters = JobWaiters()
    for job_id in ("a", "b", "c"):
        waiters.created(new_job(job_id, client="alice"))

    assert [waiters.fresh(job_id, "alice") for job_id in "abc"] == [False, True, True]


async def test_a_job_finished_here_is_answered_without_a_read(make_api: MakeApi) -> None:
    here, there = await make_api(), await make_api()
    await here.register("w-local")
    job_id = await here.create()
    await finish(here, job_id, "w-local")
    reads = count_job_reads(here, job_id)

    answers = [await raw_job(here, job_id), await raw_job(here, job_id, "?wait=30")]

    assert reads[0] == 0, "a job this process finished was read back"
    stored = await raw_job(there, job_id)  # read from Redis by another process
    assert answers == [stored, stored] and stored[0] == 200
    assert orjson.loads(stored[1])["status"] == "finished"
    # another client's job it is not
    resp = await here.client.get(
        f"/api/v1/jobs/{job_id}", headers=client_headers(OTHER_CLIENT_TOKEN)
    )
    assert resp.status == 404


async def test_a_failed_job_is_read_as_it_can_be_retried(api: Api) -> None:
    await api.register("w-flaky", ["flaky"])
    job_id = await api.create(endpoint="v1/flaky")
    task = await api.take("w-flaky")
    resp = await api.result(task, "w-flaky", status="failure")
    assert resp.status == 200, await resp.text()
    reads = count_job_reads(api, job_id)

    status, body = await raw_job(api, job_id)

    assert status == 200 and orjson.loads(body)["status"] == "failed", body
    assert reads[0] == 1


def test_an_ended_job_kept_answers_no_longer_than_it_is_stored() -> None:
    waiters = JobWaiters(retention_s=60)
    now = time.time()
    recent = new_job("recent", client="alice").evolve(status=JobStatus.FINISHED, updated_at=now)
    expired = new_job("old", client="alice").evolve(status=JobStatus.FINISHED, updated_at=now - 61)
    waiters.ended_job(recent, 10)
    waiters.ended_job(expired, 10)

    assert waiters.final("recent", "alice") is recent
    assert waiters.final("old", "alice") is None


def test_the_ended_jobs_kept_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(job_waiters, "FINAL_MAX_JOBS", 2)
    monkeypatch.setattr(job_waiters, "FINAL_MAX_BYTES", 100)
    waiters = JobWaiters()
    ended = {i: new_job(i, client="alice").evolve(status=JobStatus.FINISHED) for i in "abcde"}
    for job_id in "abc":
        waiters.ended_job(ended[job_id], 10)
    assert [waiters.final(i, "alice") is not None for i in "abc"] == [False, True, True]
    waiters.ended_job(ended["d"], 95)  # over the bytes with c: c leaves
    assert [waiters.final(i, "alice") is not None for i in "bcd"] == [False, False, True]
    waiters.ended_job(ended["e"], 101)  # larger than all the room: not kept
    assert waiters.final("e", "alice") is None and waiters.final("d", "alice") is not None
    waiters.forget_jobs()
    assert waiters.final("d", "alice") is None


class Reads:
    """A runner whose ``get`` answers the stored jobs in turn, counting the reads."""

    def __init__(self, *stored: Job) -> None:
        self.stored, self.reads = list(stored), 0

    async def get(self, job_id: str, client: str) -> Job:
        self.reads += 1
        return self.stored.pop(0) if len(self.stored) > 1 else self.stored[0]


async def wait_handed(runner: Reads, handed: Job) -> tuple[Job, JobWaiters]:
    app = web.Application()
    waiters = JobWaiters()
    app[RUNNER] = runner  # type: ignore[assignment]
    app[JOB_WAITERS] = waiters
    wait = asyncio.create_task(wait_ended(app, handed.id, handed.client, 5.0))
    await wait_for(lambda: len(waiters) == 1, 5.0, what="the wait to park")
    waiters.ended_job(handed)
    return await asyncio.wait_for(wait, 5.0), waiters


async def test_a_handed_job_older_than_the_one_read_is_read_again() -> None:
    """A retry can overtake the hand-over: the wait read the retried job (rev 3), then its
    process hands it the end it committed before (rev 2). That is no longer the job's state."""
    running = new_job("j1", client="alice").evolve(rev=3, status=JobStatus.WAITING_FOR_WORKER)
    ended = running.evolve(rev=2, status=JobStatus.FINISHED)
    later = running.evolve(rev=4, status=JobStatus.FINISHED)
    runner = Reads(running, later)
    answer, _ = await wait_handed(runner, ended)
    assert answer is later and runner.reads == 2


async def test_a_handed_job_newer_than_the_one_read_is_the_answer() -> None:
    running = new_job("j1", client="alice").evolve(rev=1, status=JobStatus.WAITING_FOR_WORKER)
    ended = running.evolve(rev=2, status=JobStatus.FINISHED)
    runner = Reads(running)
    answer, _ = await wait_handed(runner, ended)
    assert answer is ended and runner.reads == 1


def end_message_of(job: Job) -> bytes:
    """What ``apply.lua`` publishes when ``job``'s terminal write wins."""
    parts = [
        v.encode() if isinstance(v, str) else v for kv in codec.encode(job).items() for v in kv
    ]
    return b"\x00".join([job.id.encode(), *parts])


def test_ends_heard_with_the_job_answer_later_reads_only_when_final() -> None:
    waiters = JobWaiters()
    finished = new_job("f", client="alice").evolve(status=JobStatus.FINISHED)
    failed = new_job("x", client="alice").evolve(status=JobStatus.FAILED)  # may be retried
    for job in (finished, failed):
        waiters.ended(end_message_of(job))

    assert waiters.final("f", "alice") == finished
    assert waiters.final("f", "bob") is None
    assert waiters.final("x", "alice") is None
    # a job ended here is not replaced by its own end heard back
    own = new_job("own", client="alice").evolve(status=JobStatus.FINISHED)
    waiters.ended_job(own, 10)
    waiters.ended(end_message_of(own))
    assert waiters.final("own", "alice") is own


async def test_a_waiter_is_handed_the_job_an_end_heard_carries() -> None:
    running = new_job("j1", client="alice").evolve(rev=1, status=JobStatus.WAITING_FOR_WORKER)
    ended = running.evolve(rev=2, status=JobStatus.FINISHED)
    runner = Reads(running)
    app = web.Application()
    waiters = JobWaiters()
    app[RUNNER] = runner  # type: ignore[assignment]
    app[JOB_WAITERS] = waiters
    wait = asyncio.create_task(wait_ended(app, ended.id, ended.client, 5.0))
    await wait_for(lambda: len(waiters) == 1, 5.0, what="the wait to park")
    waiters.ended(end_message_of(ended))

    assert await asyncio.wait_for(wait, 5.0) == ended and runner.reads == 1
