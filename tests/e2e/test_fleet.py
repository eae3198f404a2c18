"""Routing by requirements and per-type limits, with real orchestrator and worker processes."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from tests.e2e.conftest import Api, Cluster, Orchestrator
from tests.helpers import wait_for

BLUEPRINTS = "tests.e2e.fleet_blueprints"
WORKER = "tests.e2e.fleet_workers:worker"
KINDS: dict[str, dict[str, Any] | None] = {
    "gpu-eu": {"tags": ["gpu"], "region": "eu"},
    "us": {"region": "us"},
    "any": None,
}
ALLOWED = {
    "gpu-eu": {"gpu-eu"},
    "us": {"cpu-us"},
    "any": {"gpu-eu", "cpu-us", "plain-1", "plain-2"},
}


def marks(cluster: Cluster) -> list[dict[str, Any]]:
    """The marks the workers have written so far: complete lines only, as a worker may be in
    the middle of writing one."""
    files = sorted(Path(cluster.marks).glob("*.jsonl")) if cluster.marks.exists() else []
    return [orjson.loads(line) for f in files for line in _complete_lines(f.read_bytes())]


def _complete_lines(raw: bytes) -> list[bytes]:
    return [line for line in raw.split(b"\n")[:-1] if line]


async def create_many(api: Api, endpoint: str, items: list[dict[str, Any]]) -> list[str]:
    gate = asyncio.Semaphore(32)

    async def one(data: dict[str, Any]) -> str:
        async with gate:
            return await api.create(endpoint, data)

    return await asyncio.gather(*(one(d) for d in items))


async def unroutable(api: Api) -> list[dict[str, Any]]:
    async with api.session.get(f"{api.base}/api/v1/dashboard", headers=api.headers) as r:
        assert r.status == 200, await r.text()
        found: list[dict[str, Any]] = (await r.json())["unroutable"]
        return found


async def test_routing_and_a_limit_across_two_orchestrators(
    cluster: Cluster, http: aiohttp.ClientSession
) -> None:
    limits = "task_types:\n  held: {max_in_flight: 2}\n"
    orchs: list[Orchestrator] = list(
        await asyncio.gather(
            # long leases: a lease lost on a loaded machine would deliver a task again, and
            # free its max_in_flight slot while the first attempt still runs
            *(
                cluster.orchestrator(blueprints=BLUEPRINTS, extra_config=limits, ORCH_LEASE_S="10")
                for _ in "ab"
            )
        )
    )
    apis = [Api(http, o) for o in orchs]
    lonely = await apis[0].create("routed", {"kind": "tpu", "requires": {"tags": ["tpu"]}})
    tpu_waits = [{"task_type": "where", "requires": {"tags": ["tpu"]}, "queued": 1}]
    await wait_for(lambda: _equal(unroutable(apis[1]), tpu_waits), 10, "the tpu task unroutable")
    # four workers, 16 slots: without the limit up to 16 "held" tasks would run at once
    labels = {"gpu-eu": ("gpu,ssd", "region=eu"), "cpu-us": ("", "region=us,zone=b")}
    for i, worker_id in enumerate(["gpu-eu", "cpu-us", "plain-1", "plain-2"]):
        tags, labelled = labels.get(worker_id, ("", ""))
        env = {"WORKER_TAGS": tags, "WORKER_LABELS": labelled}
        cluster.worker(orchs[i % 2], worker_id, 4, target=WORKER, **env)
    kinds = list(KINDS)
    items = [{"kind": kinds[i % 3], "requires": KINDS[kinds[i % 3]]} for i in range(1000)]

    await asyncio.gather(
        create_many(apis[0], "routed", items[:500]),
        create_many(apis[1], "routed", items[500:]),
        *(create_many(apis[i], "held", [{"run_s": 0.05}] * 10) for i in (0, 1)),
    )
    await wait_for(lambda: len({m["task"] for m in marks(cluster)}) >= 1020, 60, "1,020 tasks")

    ran = marks(cluster)
    routed = [m for m in ran if "kind" in m]
    assert len({m["task"] for m in routed}) == 1000
    assert [m for m in routed if m["worker"] not in ALLOWED[m["kind"]]] == []  # none misrouted
    held = [m for m in ran if "start" in m]
    # ends sort before starts at the same instant: touching intervals do not overlap
    edges = sorted([(m["start"], 1) for m in held] + [(m["end"], -1) for m in held])
    running, most = 0, 0
    for _, step in edges:
        running += step
        most = max(most, running)
    assert most == 2, f"{most} held tasks ran at once"
    # the tpu task waited all along, shown as unroutable, and did not fail
    assert (await apis[0].job(lonely))["status"] == "waiting_for_worker"
    assert await unroutable(apis[0]) == tpu_waits
    scraped = [await _metrics(http, o) for o in orchs]
    limit = 'orchestrator_task_type_limit{limit="max_in_flight",task_type="held"}'
    assert [_sample(s, limit) for s in scraped] == [2, 2]
    throttled = 'orchestrator_task_throttled_total{limit="max_in_flight",task_type="held"}'
    assert sum(_sample(s, throttled) for s in scraped) > 0
    unroutable_tpu = 'orchestrator_tasks_unroutable{requires="+tpu",task_type="where"}'
    assert _sample(scraped[1], unroutable_tpu) == 1

    cluster.worker(orchs[1], "tpu", target=WORKER, WORKER_TAGS="tpu")

    job = await apis[0].wait_status(lonely, "finished")
    assert job["result"]["worker"] == "tpu"
    assert await unroutable(apis[1]) == []


async def _equal(read: Any, expected: Any) -> bool:
    return bool(await read == expected)


async def _metrics(http: aiohttp.ClientSession, orch: Orchestrator) -> str:
    async with http.get(f"{orch.url}/_public/metrics") as r:
        assert r.status == 200
        return await r.text()


def _sample(text: str, series: str) -> float:
    found = re.search(rf"^{re.escape(series)} (\S+)$", text, re.M)
    assert found is not None, f"{series} not in the metrics"
    return float(found.group(1))
