"""Task results over the worker's WebSocket, with real processes: while the socket is open
they go on it, and no ``POST /_worker/tasks/result`` is made.

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
