"""The end-to-end suite on a live 3-primary Redis Cluster: fan-out, a human step, a child job, a
webhook and a Server-Sent Events stream, each through the public HTTP API of two orchestrator
processes, with a worker on each (jobs and a cancel over the WebSocket: ``test_cluster.py``).

Each test crosses the processes: what one orchestrator writes, the other reads, decides or
streams. Job ids differ in hash tag, so a job, its child and the queues sit on different
primaries. The processes are started once for the module, as starting them costs more than
the runs.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from tests.cluster.live import LiveCluster
from tests.cluster.test_cluster import processes_on
from tests.e2e3.conftest import Client, of_type, states
from tests.e2e3.test_events import sse
from tests.webhooks.conftest import SECRET, Receiver

pytestmark = pytest.mark.asyncio(loop_scope="module")

BLUEPRINTS = ",".join(
    [
        "tests.e2e.blueprints:echo",
        "tests.e2e3.blueprints:approval",
        "tests.e2e3.blueprints:child",
        "tests.cluster.e2e_blueprints",
    ]
)
WORKERS = "tests.e2e3.workers:worker"  # echo and double
SERVER_ERROR = re.compile(r"orchestrator\.access .* 5\d\d [\d.]+ms")
STREAM_S = 20.0
"""The longest an SSE read may take before the test fails rather than hangs."""


@dataclass
class Two:
    """The module's processes: a client of each orchestrator, their logs, the webhook receiver."""

    first: Client
    second: Client
    receiver: Receiver
    logs: list[Path]

    def troubles(self) -> list[str]:
        """The orchestrators' log lines of errors and of requests answered 5xx."""
        return [
            line
            for log in self.logs
            for line in log.read_text().splitlines()
            if " ERROR " in line or "Traceback" in line or SERVER_ERROR.search(line)
        ]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def two(
    redis_cluster: LiveCluster, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Two]:
    tmp = tmp_path_factory.mktemp("cluster_e2e")
    receiver = await Receiver().start()
    try:
        async with processes_on(redis_cluster, tmp) as procs, aiohttp.ClientSession() as http:
            config = f"webhook_secret: {SECRET}\n"
            first, second = await asyncio.gather(
                procs.orchestrator(blueprints=BLUEPRINTS, extra_config=config),
                procs.orchestrator(blueprints=BLUEPRINTS, extra_config=config),
            )
            procs.worker(first, "w-first", 4, target=WORKERS)
            procs.worker(second, "w-second", 4, target=WORKERS)
            two = Two(Client(http, first), Client(http, second), receiver, [first.log, second.log])
            yield two
            assert not two.troubles(), "\n".join(two.troubles())
    finally:
        await receiver.stop()


async def finished(api: Client, job_id: str) -> dict[str, Any]:
    job = await api.wait_ended(job_id, timeout=30)
    assert job["status"] == "finished", (job, await api.history(job_id))
    return job


async def test_a_fan_out_runs_its_branches_and_joins_once(two: Two) -> None:
    job_id = await two.first.start("spread", {"n": 8})
    job = await finished(two.second, job_id)

    result = job["result"]
    assert result["values"] == list(range(8)), "every branch, in dispatch order"
    assert result["statuses"] == ["success"]
    assert set(result["workers"]) <= {"w-first", "w-second"}
    history = await two.first.history(job_id)
    assert [e["branches"] for e in of_type(history, "parallel_joined")] == [8], "one join"
    reported = of_type(history, "task_result")
    assert len(reported) == 8, "one result per branch, none applied twice"
    assert {e["task_id"] for e in reported} == {
        e["task_id"] for e in of_type(history, "task_queued")
    }
    assert states(history) == ["scatter", "gathered"]
    assert [e["id"] for e in history] == list(range(1, len(history) + 1))


async def test_a_human_step_is_decided_on_the_other_process(two: Two) -> None:
    job_id = await two.first.start("approval", {})
    await two.second.wait_status(job_id, "waiting_for_human")

    status, body = await two.second.post(
        f"/api/v1/jobs/{job_id}/decision", {"decision": "approve", "actor": "user-7"}
    )
    assert (status, body) == (
        200,
        {"status": "decision_recorded", "job_id": job_id, "decision": "approve"},
    )
    job = await finished(two.first, job_id)
    assert job["result"] == {"decision": "approve"}
    (decided,) = of_type(await two.first.history(job_id), "human_decided")
    assert (decided["actor"], decided["via"]) == ("user-7", "api")

    status, body = await two.first.post(f"/api/v1/jobs/{job_id}/decision", {"decision": "reject"})
    assert (status, body["error"]["code"]) == (409, "NOT_WAITING_FOR_HUMAN"), body


async def test_parents_resume_once_on_their_childs_end(two: Two) -> None:
    parents = await asyncio.gather(*(two.first.start("elder", {"x": x}) for x in range(4)))
    for x, job_id in enumerate(parents):
        job = await finished(two.second, job_id)
        assert job["result"] == {
            "doubled": 2 * x,
            "child": {"status": "finished", "result": {"doubled": 2 * x}, "error": None},
        }
        history = await two.first.history(job_id)
        (started,) = of_type(history, "child_started")
        child_id = started["child_id"]
        ended = [(e["child_id"], e["status"]) for e in of_type(history, "child_ended")]
        assert ended == [(child_id, "finished")], "the parent resumed once"
        assert states(history) == ["beget", "raised"]
        child = await two.second.job(child_id)
        assert (child["status"], child["parent_job_id"]) == ("finished", job_id)
        assert states(await two.first.history(child_id)) == ["begin", "computed"]


async def test_a_webhook_reaches_a_real_receiver_signed(two: Two) -> None:
    job_id = await two.first.start("echo", {"n": 1}, webhook_url=two.receiver.url)
    job = await finished(two.second, job_id)

    await two.receiver.wait_delivered(1)
    (delivery,) = [d for d in two.receiver.delivered if d.body["job_id"] == job_id]
    assert delivery.verified, delivery.headers
    (event,) = of_type(await two.second.history(job_id), "job_finished")
    assert delivery.body == {
        "event": "job.finished",
        "webhook_id": f"{job_id}:{event['id']}",
        "job_id": job_id,
        "blueprint": "echo",
        "status": "finished",
        "timestamp": event["timestamp"],
        "result": job["result"],
    }


async def test_a_stream_on_one_process_sees_a_job_moved_by_the_other(two: Two) -> None:
    job_id = await two.first.start("approval", {})
    await two.first.wait_status(job_id, "waiting_for_human")
    url = f"{two.second.base}/api/v1/jobs/{job_id}/events"

    received: list[dict[str, Any]] = []
    async with (
        asyncio.timeout(STREAM_S),
        two.second.session.get(url, headers=two.second.headers) as r,
    ):
        assert r.status == 200 and r.headers["Content-Type"] == "text/event-stream"
        events = sse(r)
        async for event in events:
            received.append(event)
            if event["event"] == "human_waiting":
                break
        live_from = len(received)  # the job waits: what follows can only come live
        status, body = await two.first.post(
            f"/api/v1/jobs/{job_id}/decision", {"decision": "reject"}
        )
        assert status == 200, body
        async for event in events:
            received.append(event)
        assert r.content.at_eof(), "the stream ends after the terminal event"

    types = [e["event"] for e in received]
    assert "human_decided" in types[live_from:] and types[-1] == "job_finished", types
    history = await two.first.history(job_id)
    assert [(e["id"], e["event"], e["data"]) for e in received] == [
        (h["id"], h["type"], h) for h in history
    ]
    assert (await two.second.job(job_id))["result"] == {"decision": "reject"}
