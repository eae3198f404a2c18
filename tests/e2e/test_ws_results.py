"""Task results over the worker's WebSocket, with real processes: while the socket is open
they go on it, and no ``POST /_worker/tasks/result`` is made; a busy worker's next task comes
with each result's answer, not by a poll.

The refusals (``test_late_results.py``) and a crash with results in flight
(``test_crashes.py``) are tested where those stories are; the fallbacks to HTTP against an
orchestrator that misbehaves on purpose are in ``tests/sdk/test_results_over_ws.py``.
"""

from __future__ import annotations

import aiohttp

from tests.e2e.conftest import Api, Cluster, result_posts, takes_results, task_results
from tests.helpers import wait_for


async def test_results_go_over_the_websocket_while_it_is_open(
    cluster: Cluster, http: aiohttp.ClientSession
) -> None:
    orch = await cluster.orchestrator()
    cluster.worker(orch, "w-ws", capacity=4)
    await takes_results(cluster, "w-ws")
    api = Api(http, orch)

    jobs = [await api.create("echo", {"n": n}) for n in range(10)]
    for n, job_id in enumerate(jobs):
        assert (await api.wait_status(job_id, "finished"))["result"]["echo"] == {"n": n}

    async def all_counted() -> dict[str, float] | None:
        # counted right after the result is applied: a client may see the job end first
        counts = await task_results(http, orch)
        return counts if counts["websocket accepted"] >= 10 else None

    counts = await wait_for(all_counted, 10, "the results to be counted")
    assert counts == {
        "http accepted": 0,
        "http refused": 0,
        "websocket accepted": 10,
        "websocket refused": 0,
    }
    assert result_posts(orch) == []
    # the access log does show worker requests: the silence above is not a quiet log
    assert "GET /_worker/workers/w-ws/tasks/next " in orch.log.read_text()


async def test_a_busy_worker_gets_its_next_task_with_each_result_not_by_a_poll(
    cluster: Cluster, http: aiohttp.ClientSession
) -> None:
    orch = await cluster.orchestrator()
    api = Api(http, orch)
    cluster.worker(orch, "w-next", capacity=1)
    await takes_results(cluster, "w-next")
    held = await api.create("hold", {"hold_on": ["w-next"]})
    await wait_for(lambda: list(cluster.marks.glob("held-*-w-next")), 20, "the held task")
    # queued while its one slot is busy: no poll of it is parked
    jobs = [await api.create("echo", {"n": n}) for n in range(10)]
    poll = "GET /_worker/workers/w-next/tasks/next "
    before = orch.log.read_text().count(poll)
    (mark,) = cluster.marks.glob("held-*-w-next")
    (cluster.marks / f"go-{mark.name.removeprefix('held-').removesuffix('-w-next')}").touch()
    await api.wait_status(held, "finished")
    for n, job_id in enumerate(jobs):
        assert (await api.wait_status(job_id, "finished"))["result"]["echo"] == {"n": n}
    # Each result's answer brought the next task: no poll in between (the one parked after
    # the last result may have been answered and logged by now).
    assert orch.log.read_text().count(poll) - before <= 1
