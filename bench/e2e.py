"""End-to-end benchmark: real orchestrator, real SDK worker processes, real Redis.

    python3 dev.py bench                      # N=5000, 4 workers, 50 in flight, own redis-server
    python3 dev.py bench --jobs 2000 --idle-workers 1000

Prints figures; asserts nothing. Phases:
1. throughput: N one-task jobs, a client keeping C jobs in flight; jobs/s, create→finished
   latency percentiles (from the jobs' own timestamps), orchestrator CPU per job, Redis
   commands per job (INFO commandstats delta / N, commands inside scripts included).
2. latency at a fixed rate (default 200 jobs/s, open loop).
3. idle workers: K long-polling workers parked at once; Redis connections before/while.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import aiohttp
import redis.asyncio as aioredis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers import RedisProcess, child_env, free_port  # noqa: E402

CLIENT, WORKER = "bench-client", "bench-worker"
CONFIG = f"""
clients: [{{name: bench, token: {CLIENT}}}]
workers: {{token: {WORKER}}}
log_level: WARNING
"""


def ts(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def command_count(r: aioredis.Redis) -> int:
    stats = await r.info("commandstats")
    return sum(int(v["calls"]) for v in stats.values())


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


class Bench:
    def __init__(self, args: argparse.Namespace, redis_url: str, tmp: Path) -> None:
        self.args = args
        self.redis_url = redis_url
        self.tmp = tmp
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.procs: list[subprocess.Popen[bytes]] = []

    def spawn(self, args: list[str], name: str) -> subprocess.Popen[bytes]:
        log = (self.tmp / f"{name}.log").open("ab")
        proc = subprocess.Popen([sys.executable, *args], stdout=log, stderr=log, env=child_env())
        self.procs.append(proc)
        return proc

    async def start(self) -> subprocess.Popen[bytes]:
        config = self.tmp / "bench.yaml"
        config.write_text(CONFIG)
        orch = self.spawn(
            [
                "-m",
                "orchestrator",
                "serve",
                "--port",
                str(self.port),
                "--redis-url",
                self.redis_url,
                "--prefix",
                "bench",
                "--config",
                str(config),
                "--blueprints",
                "bench.blueprint",
            ],
            "orchestrator",
        )
        async with aiohttp.ClientSession() as s:
            for _ in range(400):
                try:
                    async with s.get(f"{self.base}/_public/status") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)
            else:
                raise SystemExit("orchestrator did not start; see " + str(self.tmp))
        for i in range(self.args.workers):
            self.spawn(
                [
                    "-m",
                    "worker_sdk",
                    "run",
                    "orchestrator.examples.echo_worker:worker",
                    "--url",
                    self.base,
                    "--token",
                    WORKER,
                    "--worker-id",
                    f"bench-{i}",
                    "--capacity",
                    str(self.args.capacity),
                    "--log-level",
                    "WARNING",
                ],
                f"worker-{i}",
            )
        return orch

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()

    async def run_job(self, s: aiohttp.ClientSession, n: int, polls: list[int]) -> str:
        async with s.post(f"{self.base}/api/v1/one_task", json={"initial_data": {"n": n}}) as r:
            job_id = str((await r.json())["job_id"])
        while True:
            polls[0] += 1
            async with s.get(f"{self.base}/api/v1/jobs/{job_id}?wait=30") as r:
                job = await r.json()
            if job["status"] == "finished":
                return job_id
            if job["status"] in ("failed", "cancelled", "quarantined", "error"):
                raise SystemExit(f"job {job_id} ended {job['status']}: {job['error']}")

    async def latencies(self, s: aiohttp.ClientSession, job_ids: list[str]) -> list[float]:
        out = []
        for job_id in job_ids:
            async with s.get(f"{self.base}/api/v1/jobs/{job_id}") as r:
                job = await r.json()
            out.append((ts(job["finished_at"]) - ts(job["created_at"])) * 1000)
        return out

    async def throughput(self, orch_pid: int, r: aioredis.Redis) -> None:
        n, conc = self.args.jobs, self.args.in_flight
        headers = {"X-Client-Token": CLIENT}
        conn = aiohttp.TCPConnector(limit=conc + 10)
        async with aiohttp.ClientSession(headers=headers, connector=conn) as s:
            warm = [0]
            await asyncio.gather(*(self.run_job(s, i, warm) for i in range(100)))
            polls = [0]
            next_n = iter(range(n))
            done: list[str] = []

            async def client() -> None:
                for i in next_n:
                    done.append(await self.run_job(s, i, polls))

            cmd0, cpu0, t0 = await command_count(r), cpu_seconds(orch_pid), time.perf_counter()
            await asyncio.gather(*(client() for _ in range(conc)))
            wall = time.perf_counter() - t0
            cmd1, cpu1 = await command_count(r), cpu_seconds(orch_pid)
            lat = await self.latencies(s, done)
        total = cmd1 - cmd0 - 1  # the INFO call itself
        client_reads = 2 * polls[0]  # each waiting status GET reads the job twice
        print(f"throughput: {n} jobs, {conc} in flight, {self.args.workers} workers")
        print(f"  jobs/s end to end        {n / wall:8.0f}")
        print(
            f"  latency ms p50/p95/p99   {pct(lat, 0.5):6.1f} / {pct(lat, 0.95):6.1f} / "
            f"{pct(lat, 0.99):6.1f}  (created_at → finished_at)"
        )
        print(
            f"  orchestrator CPU per job {1e6 * (cpu1 - cpu0) / n:8.0f} µs "
            f"(incl. serving {polls[0] / n:.1f} waiting status GETs per job)"
        )
        print(
            f"  Redis commands per job   {(total - client_reads) / n:8.2f} "
            f"(engine; {total / n:.2f} with the client's status reads)"
        )

    async def paced(self) -> None:
        rate, n = self.args.rate, self.args.paced_jobs
        headers = {"X-Client-Token": CLIENT}
        async with aiohttp.ClientSession(headers=headers) as s:
            polls = [0]
            tasks = []
            start = time.perf_counter()
            for i in range(n):
                wait = start + i / rate - time.perf_counter()
                if wait > 0:
                    await asyncio.sleep(wait)
                tasks.append(asyncio.create_task(self.run_job(s, i, polls)))
            done = await asyncio.gather(*tasks)
            lat = await self.latencies(s, list(done))
        print(f"latency at {rate:.0f} jobs/s ({n} jobs, open loop)")
        print(
            f"  latency ms p50/p95/p99   {pct(lat, 0.5):6.1f} / {pct(lat, 0.95):6.1f} / "
            f"{pct(lat, 0.99):6.1f}   mean {statistics.mean(lat):.1f}"
        )

    async def idle(self, r: aioredis.Redis) -> None:
        k = self.args.idle_workers
        headers = {"X-Worker-Token": WORKER}
        before = (await r.info("clients"))["connected_clients"]
        conn = aiohttp.TCPConnector(limit=0)
        timeout = aiohttp.ClientTimeout(total=120)
        async with aiohttp.ClientSession(headers=headers, connector=conn, timeout=timeout) as s:
            for i in range(k):
                async with s.post(
                    f"{self.base}/_worker/workers/register",
                    json={"worker_id": f"idle-{i}", "supported_skills": ["idle"]},
                ):
                    pass

            async def park(i: int) -> int:
                url = f"{self.base}/_worker/workers/idle-{i}/tasks/next?timeout=8"
                async with s.get(url) as resp:
                    return resp.status

            polls = [asyncio.create_task(park(i)) for i in range(k)]
            parked = 0
            for _ in range(200):
                async with s.get(f"{self.base}/_public/status") as resp:
                    parked = (await resp.json())["parked_polls"]
                if parked >= k:
                    break
                await asyncio.sleep(0.05)
            during = (await r.info("clients"))["connected_clients"]
            statuses = await asyncio.gather(*polls)
        print(f"idle workers: {parked} long-polls parked at once")
        print(
            f"  Redis connections        {before} before, {during} while parked "
            f"(all answered {sorted(set(statuses))})"
        )


async def main(args: argparse.Namespace) -> None:
    server = None
    url = args.redis_url
    if url is None:
        server = RedisProcess().start()
        url = server.url
    with tempfile.TemporaryDirectory() as tmp:
        bench = Bench(args, url, Path(tmp))
        r = aioredis.Redis.from_url(url)
        try:
            orch = await bench.start()
            await bench.throughput(orch.pid, r)
            if args.paced_jobs:
                await bench.paced()
            if args.idle_workers:
                await bench.idle(r)
        finally:
            bench.stop()
            await r.aclose()
            if server is not None:
                server.stop()


if __name__ == "__main__":
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--jobs", type=int, default=5000)
    p.add_argument("--in-flight", type=int, default=50)
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--capacity", type=int, default=16, help="concurrent tasks per worker")
    p.add_argument("--rate", type=float, default=200.0)
    p.add_argument("--paced-jobs", type=int, default=2000)
    p.add_argument("--idle-workers", type=int, default=1000)
    p.add_argument(
        "--redis-url",
        help="use this Redis instead of starting one (it must be idle "
        "for the command counts to mean anything)",
    )
    asyncio.run(main(p.parse_args()))
