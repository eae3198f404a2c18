"""The chaos soak's processes: its own Redis (append-only, fsync always), orchestrators and
SDK workers, and how each is killed (SIGKILL) and started again."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from tests.e2e.chaos_plan import Kill, Plan
from tests.e2e.conftest import Cluster, Orchestrator
from tests.helpers import RedisProcess, wait_for

FLOWS = "tests.e2e.chaos_flows"
UP_TIMEOUT_S = 30.0


@dataclass
class WorkerSlot:
    worker_id: str
    orchestrator: int
    proc: subprocess.Popen[bytes]
    lives: int = 1


@dataclass
class Fleet:
    plan: Plan
    tmp: Path
    redis: RedisProcess
    cluster: Cluster
    orchestrators: list[Orchestrator] = field(default_factory=list)
    workers: list[WorkerSlot] = field(default_factory=list)
    kills: list[tuple[float, Kill]] = field(default_factory=list)
    """Each kill done, with how long it took until the process answered again."""

    @classmethod
    async def start(cls, plan: Plan, tmp: Path) -> Fleet:
        data = tmp / "redis"
        data.mkdir(parents=True, exist_ok=True)
        redis = RedisProcess(appendonly=True, dir=data).start()
        marks = tmp / "marks"
        marks.mkdir(parents=True, exist_ok=True)
        fleet = cls(plan, tmp, redis, Cluster(redis.url, "chaos", tmp, marks))
        fleet.orchestrators = list(
            await asyncio.gather(
                *(fleet.cluster.orchestrator(blueprints=FLOWS) for _ in range(plan.orchestrators))
            )
        )
        for i in range(plan.workers):
            at = i % plan.orchestrators
            fleet.workers.append(WorkerSlot(f"w{i}", at, fleet._worker(at, f"w{i}")))
        return fleet

    @property
    def urls(self) -> list[str]:
        return [o.url for o in self.orchestrators]

    def _worker(self, at: int, worker_id: str) -> subprocess.Popen[bytes]:
        return self.cluster.worker(
            self.orchestrators[at],
            worker_id,
            self.plan.capacity,
            target=f"{FLOWS}:worker",
        )

    async def kill(self, kill: Kill) -> None:
        """SIGKILL the target, leave it dead ``down_s``, start it again, wait until it serves."""
        started = time.monotonic()
        if kill.target == "worker":
            await self._kill_worker(kill)
        elif kill.target == "orchestrator":
            await self._kill_orchestrator(kill)
        else:
            await self._kill_redis(kill)
        self.kills.append((time.monotonic() - started, kill))

    async def _kill_worker(self, kill: Kill) -> None:
        slot = self.workers[kill.index]
        await _sigkill(slot.proc)
        await asyncio.sleep(kill.down_s)  # the dead time is the chaos, not a wait for an event
        if kill.new_id:
            slot.lives += 1
            slot.worker_id = f"w{kill.index}-{slot.lives}"
        slot.proc = self._worker(slot.orchestrator, slot.worker_id)

    async def _kill_orchestrator(self, kill: Kill) -> None:
        orch = self.orchestrators[kill.index]
        await _sigkill(orch.proc)
        await asyncio.sleep(kill.down_s)
        port = int(orch.url.rsplit(":", 1)[1])
        self.orchestrators[kill.index] = await self.cluster.orchestrator(
            blueprints=FLOWS, port=port
        )

    async def _kill_redis(self, kill: Kill) -> None:
        await asyncio.to_thread(self.redis.kill)
        await asyncio.sleep(kill.down_s)
        await asyncio.to_thread(self.redis.start)
        async with aiohttp.ClientSession() as http:
            for url in self.urls:
                await wait_for(lambda u=url: _serves(http, u), UP_TIMEOUT_S, f"{url} back on Redis")

    def stop(self) -> None:
        self.cluster.stop_all()
        self.redis.stop()


async def _sigkill(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGKILL)
    await asyncio.to_thread(proc.wait)


async def _serves(http: aiohttp.ClientSession, url: str) -> bool:
    try:
        async with http.get(f"{url}/_public/status") as r:
            return r.status == 200
    except aiohttp.ClientError:
        return False
