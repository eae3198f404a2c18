"""Scaling out, same machine, same run: jobs/s and Redis commands per job.

    python3 bench/cluster.py                  # 3000 one-task jobs on each setup
    python3 bench/cluster.py --jobs 1000 --workers 4 --in-flight 64
    python3 bench/cluster.py --no-cluster     # only 1 and 2 processes on one Redis

1. one orchestrator process on one ``redis-server``;
2. two orchestrator processes on that one ``redis-server``, the client and the workers
   spread over both;
3. two orchestrator processes on a 3-primary, 3-replica cluster (six ``redis-server``
   processes, ``tests/cluster/live.py``), spread likewise.

Commands per job: the ``INFO commandstats`` delta summed over the primaries (commands inside
scripts included, the client's waiting status reads too), divided by the jobs. Prints figures;
asserts nothing. Everything shares the machine's cores, so the cluster's figure says what
routing and the extra processes cost here, not what separate machines would give.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import redis.asyncio as aioredis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.cpu import CpuSplit  # noqa: E402
from bench.e2e import CLIENT, CONFIG, WORKER, command_count  # noqa: E402
from tests.cluster.live import LiveCluster  # noqa: E402
from tests.helpers import RedisProcess, child_env, free_port  # noqa: E402


async def up(url: str) -> None:
    async with aiohttp.ClientSession() as s:
        for _ in range(400):
            try:
                async with s.get(f"{url}/_public/status") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise SystemExit(f"orchestrator at {url} did not start")


async def start(
    args: argparse.Namespace, redis_url: str, orchs: int, tmp: Path
) -> tuple[list[str], list[subprocess.Popen[bytes]]]:
    """``orchs`` orchestrator processes and the workers, spread over them."""
    config = tmp / "bench.yaml"
    config.write_text(CONFIG)
    procs: list[subprocess.Popen[bytes]] = []

    def spawn(argv: list[str], name: str) -> None:
        log = (tmp / f"{name}-{orchs}.log").open("ab")
        env = child_env()
        procs.append(subprocess.Popen([sys.executable, *argv], stdout=log, stderr=log, env=env))

    urls = [f"http://127.0.0.1:{free_port()}" for _ in range(orchs)]
    for i, url in enumerate(urls):
        serve = ["-m", "orchestrator", "serve", "--port", url.rsplit(":", 1)[1]]
        serve += ["--redis-url", redis_url, "--prefix", f"bench{orchs}"]
        spawn(serve + ["--config", str(config), "--blueprints", "bench.blueprint"], f"orch-{i}")
    for url in urls:
        await up(url)
    for i in range(args.workers):
        worker = ["-m", "worker_sdk", "run", "orchestrator.examples.echo_worker:worker"]
        worker += ["--url", urls[i % orchs], "--token", WORKER, "--worker-id", f"bench-{i}"]
        spawn(worker + ["--capacity", str(args.capacity), "--log-level", "WARNING"], f"w-{i}")
    return urls, procs


async def measure(
    args: argparse.Namespace, urls: list[str], nodes: list[int], split: CpuSplit
) -> tuple[float, float, str]:
    """(jobs/s, Redis commands per job, CPU per job by process), the client's jobs spread
    over ``urls``."""
    conn = aiohttp.TCPConnector(limit=args.in_flight + 10)
    headers = {"X-Client-Token": CLIENT}
    counters = [aioredis.Redis(port=p) for p in nodes]
    async with aiohttp.ClientSession(headers=headers, connector=conn) as s:

        async def job(n: int) -> None:
            base = urls[n % len(urls)]
            async with s.post(f"{base}/api/v1/one_task", json={"initial_data": {"n": n}}) as r:
                job_id = (await r.json())["job_id"]
            while True:
                async with s.get(f"{base}/api/v1/jobs/{job_id}?wait=30") as r:
                    status = (await r.json())["status"]
                if status == "finished":
                    return
                if status in ("failed", "cancelled", "quarantined", "error"):
                    raise SystemExit(f"job {job_id} ended {status}")

        async def client(numbers: list[int]) -> None:
            while numbers:
                await job(numbers.pop())

        await asyncio.gather(*(client([i]) for i in range(100)))  # warm-up
        todo = list(range(args.jobs))
        before = sum([await command_count(r) for r in counters])
        split.start()
        t0 = time.perf_counter()
        await asyncio.gather(*(client(todo) for _ in range(args.in_flight)))
        wall = time.perf_counter() - t0
        after = sum([await command_count(r) for r in counters])
        by_process = split.line(args.jobs)
    for r in counters:
        await r.aclose()
    commands = (after - before - len(counters)) / args.jobs  # less the INFOs
    return args.jobs / wall, commands, by_process


async def run(
    args: argparse.Namespace, redis: RedisProcess | LiveCluster, orchs: int, tmp: Path
) -> tuple[float, float, str]:
    if isinstance(redis, LiveCluster):
        nodes, servers = redis.primaries(), [p.pid for p in redis.procs.values()]
    else:
        nodes, servers = [redis.port], [redis.proc.pid] if redis.proc else []
    urls, procs = await start(args, redis.url, orchs, tmp)
    split = CpuSplit(
        {
            f"{orchs} orchestrators": [p.pid for p in procs[:orchs]],
            f"{args.workers} workers": [p.pid for p in procs[orchs:]],
            "Redis": servers,
            "client": [os.getpid()],
        }
    )
    try:
        return await measure(args, urls, nodes, split)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()


async def main(args: argparse.Namespace) -> None:
    rows: list[tuple[str, tuple[float, float, str]]] = []
    with tempfile.TemporaryDirectory(prefix="orch-bench-cluster-") as tmp:
        single = RedisProcess().start()
        try:
            rows.append(("1 orchestrator, single Redis", await run(args, single, 1, Path(tmp))))
            rows.append(("2 orchestrators, single Redis", await run(args, single, 2, Path(tmp))))
        finally:
            single.stop()
        if args.cluster:
            live = LiveCluster(Path(tmp)).start()
            try:
                two = await run(args, live, 2, Path(tmp))
            finally:
                live.stop()
            rows.append(("2 orchestrators, 3-primary cluster", two))
    print(f"{args.jobs} one-task jobs, {args.in_flight} in flight, {args.workers} workers")
    for name, (jobs_s, commands, by_process) in rows:
        print(f"  {name:<36} {jobs_s:6.0f} jobs/s  {commands:6.1f} commands/job")
        print(f"    CPU per job: {by_process}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=3000)
    parser.add_argument("--in-flight", type=int, default=50)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--capacity", type=int, default=16)
    parser.add_argument(
        "--no-cluster", dest="cluster", action="store_false", help="skip the Redis Cluster run"
    )
    asyncio.run(main(parser.parse_args()))
