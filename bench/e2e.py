"""End-to-end benchmark: real orchestrator, real SDK worker processes, real Redis.

    python3 dev.py bench                      # N=5000, 4 workers, 50 in flight, own redis-server
    python3 dev.py bench --jobs 2000 --idle-workers 1000

Prints figures; asserts nothing. Phases:
1. throughput: N one-task jobs, a client keeping C jobs in flight; jobs/s, create→finished
   latency percentiles (from the jobs' own timestamps), orchestrator CPU per job, Redis
   commands per job (INFO commandstats delta / N, commands inside scripts included) and the
   top commands per job (bench/commands.py).
2. latency at a fixed rate (default 200 jobs/s, open loop).
3. idle workers: K long-polling workers parked at once; Redis connections before/while.

Modes (--mode), how the client learns that a job is done:
  poll     GET /api/v1/jobs/{id}?wait=30 until it is finished (the default);
  webhook  each job has a webhook_url naming a receiver in this process, and the job is done
           when its job.finished webhook arrives. Latencies are create → webhook received, as
           the client sees them (from just before the POST). Adds a phase between 1 and 2:
           --single-jobs jobs one at a time (create → webhook of a job alone).
  idle     no jobs: --idle-workers (default 10,000) long-polls parked at once on one
           process, and its Redis commands/s, connections and RSS (bench/idle.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import aiohttp
import orjson
import redis.asyncio as aioredis
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import hook_split  # noqa: E402
from bench.commands import by_command, command_counts  # noqa: E402
from bench.cpu import CpuSplit, cpu_seconds  # noqa: E402
from bench.idle import add_options, run_idle  # noqa: E402
from bench.idle_watch import rss_mib  # noqa: E402
from tests.helpers import RedisProcess, child_env, free_port  # noqa: E402

CLIENT, WORKER = "bench-client", "bench-worker"
CONFIG = f"""
clients: [{{name: bench, token: {CLIENT}}}]
workers: {{token: {WORKER}}}
log_level: WARNING
webhook_secret: bench-webhook-secret
"""


def ts(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


async def command_count(r: aioredis.Redis) -> int:
    return sum((await command_counts(r)).values())


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


class Bench:
    def __init__(self, args: argparse.Namespace, redis_url: str, tmp: Path) -> None:
        self.args = args
        self.redis_url = redis_url
        self.redis_pid: int | None = None
        """The benchmark's own redis-server, whose CPU it reports."""
        self.tmp = tmp
        self.bases = [f"http://127.0.0.1:{free_port()}" for _ in range(args.orchestrators)]
        self.base = self.bases[0]
        """The first orchestrator: the one the idle and webhook modes use."""
        self.orch_pids: list[int] = []
        self.procs: list[subprocess.Popen[bytes]] = []
        self.spy: list[subprocess.Popen[bytes]] = []
        self.hook_port = free_port()
        self.hook_url = f"http://127.0.0.1:{self.hook_port}/hook"
        self.arrived: dict[str, tuple[float, str]] = {}
        """job id → (perf_counter at arrival, event) of webhooks nobody waits for yet."""
        self.waiting: dict[str, asyncio.Future[tuple[float, str]]] = {}
        self.refused = 0
        """Creates answered 429 (rate limited) and sent again."""
        self.lags: list[float] = []
        """ms from each job's end (its event's timestamp) to its webhook's arrival."""

    async def receive(self, request: web.Request) -> web.Response:
        # The signature is not checked: it would add the receiver's CPU to a machine the
        # orchestrator shares; the webhook tests check signatures.
        at, wall = time.perf_counter(), time.time()
        doc = orjson.loads(await request.read())
        self.lags.append((wall - ts(doc["timestamp"])) * 1000)
        job_id, event = str(doc["job_id"]), str(doc["event"])
        waiter = self.waiting.pop(job_id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result((at, event))
        else:  # the webhook can come before the POST that created the job has its answer
            self.arrived[job_id] = (at, event)
        return web.Response()

    async def start_receiver(self) -> web.AppRunner:
        app = web.Application()
        app.router.add_post("/hook", self.receive)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", self.hook_port).start()
        return runner

    async def run_job_hooked(
        self, s: aiohttp.ClientSession, n: int, sent: dict[str, dict[str, float]] | None = None
    ) -> float:
        """One job, done when its webhook arrives; returns create → webhook in ms. With
        ``sent``, its ``sent`` and ``received`` wall-clock times go there under its id."""
        body = {"initial_data": {"n": n}, "webhook_url": self.hook_url}
        wall0, t0 = time.time(), time.perf_counter()
        while True:
            async with s.post(f"{self.base}/api/v1/one_task", json=body) as r:
                if r.status == 429:  # counted and printed; the wait is in the latency
                    self.refused += 1
                    await asyncio.sleep(float(r.headers.get("Retry-After", "1")))
                    continue
                if r.status != 202:
                    raise SystemExit(f"create answered {r.status}: {await r.text()}")
                job_id = str((await r.json())["job_id"])
                break
        got = self.arrived.pop(job_id, None)
        if got is None:
            waiter: asyncio.Future[tuple[float, str]] = asyncio.get_running_loop().create_future()
            self.waiting[job_id] = waiter
            try:
                # long: a paced phase far above what the machine sustains queues jobs minutes
                got = await asyncio.wait_for(waiter, 600)
            except TimeoutError:
                raise SystemExit(f"no webhook for job {job_id} in 600 s") from None
        at, event = got
        if event != "job.finished":
            raise SystemExit(f"job {job_id}: webhook {event}")
        if sent is not None:
            sent[job_id] = {"sent": wall0, "received": wall0 + at - t0}
        return (at - t0) * 1000

    def spawn(self, args: list[str], name: str) -> subprocess.Popen[bytes]:
        log = (self.tmp / f"{name}.log").open("ab")
        proc = subprocess.Popen([sys.executable, *args], stdout=log, stderr=log, env=child_env())
        self.procs.append(proc)
        return proc

    async def start(self) -> subprocess.Popen[bytes]:
        """Starts the orchestrators and the workers; returns the first orchestrator."""
        config = self.tmp / "bench.yaml"
        config.write_text(CONFIG)
        orchs = [self._start_orchestrator(config, i, base) for i, base in enumerate(self.bases)]
        self.orch_pids = [o.pid for o in orchs]
        for base in self.bases:
            await self._wait_up(base)
        for i in range(self.args.workers):
            self.spawn(
                [
                    "-m",
                    "worker_sdk",
                    "run",
                    "orchestrator.examples.echo_worker:worker",
                    "--url",
                    self.bases[i % len(self.bases)],
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
        return orchs[0]

    def _start_orchestrator(self, config: Path, i: int, base: str) -> subprocess.Popen[bytes]:
        return self.spawn(
            [
                "-m",
                "orchestrator",
                "serve",
                "--port",
                base.rsplit(":", 1)[1],
                "--redis-url",
                self.redis_url,
                "--prefix",
                "bench",
                "--config",
                str(config),
                "--blueprints",
                "bench.blueprint",
            ],
            "orchestrator" if i == 0 else f"orchestrator-{i}",
        )

    async def _wait_up(self, base: str) -> None:
        async with aiohttp.ClientSession() as s:
            for _ in range(400):
                try:
                    async with s.get(f"{base}/_public/status") as r:
                        if r.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)
        raise SystemExit("orchestrator did not start; see " + str(self.tmp))

    async def start_profile(self, pids: list[int]) -> None:
        """With ``--profile``, py-spy samples the orchestrators from here until
        ``stop_profile``: the measured window only, not the warm-up or the latency reads."""
        if not self.args.profile or self.spy:
            return
        found = shutil.which("py-spy", path=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
        if found is None:
            raise SystemExit("--profile needs py-spy: .venv/bin/pip install py-spy")
        for i, pid in enumerate(pids):
            out = self.args.profile if i == 0 else f"{self.args.profile}.{i}"
            log = self.tmp / f"py-spy-{i}.log"
            spy = [found, "record", "--pid", str(pid), "--format", "raw", "--rate", "200"]
            self.spy.append(_spawn([*spy, "-o", out], log))
            for _ in range(200):  # it says so once it has attached
                if b"Sampling process" in log.read_bytes():
                    break
                await asyncio.sleep(0.05)

    def stop_profile(self) -> None:
        for spy in self.spy:  # SIGINT: py-spy writes out what it sampled
            spy.send_signal(signal.SIGINT)
            spy.wait(30)
        self.spy.clear()

    def stop(self) -> None:
        self.stop_profile()  # first, so that py-spy writes out what it sampled
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()

    def cpu_split(self, orch_pid: int) -> CpuSplit:
        orchs = self.orch_pids or [orch_pid]
        workers = [p.pid for p in self.procs if p.pid not in orchs]
        return CpuSplit(
            {
                "orchestrator" if len(orchs) == 1 else f"{len(orchs)} orchestrators": orchs,
                f"{len(workers)} workers": workers,
                "Redis": [self.redis_pid] if self.redis_pid else [],
                "client": [os.getpid()],
            }
        )

    async def run_job(self, s: aiohttp.ClientSession, n: int, polls: list[int]) -> str:
        # With several orchestrators a job is created on one, in turn, and waited for there
        # (its end may be committed by another: pub/sub tells this one).
        base = self.bases[n % len(self.bases)]
        async with s.post(f"{base}/api/v1/one_task", json={"initial_data": {"n": n}}) as r:
            job_id = str((await r.json())["job_id"])
        while True:
            polls[0] += 1
            async with s.get(f"{base}/api/v1/jobs/{job_id}?wait=30") as r:
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

            rss = [rss_mib(orch_pid)]

            async def client() -> None:
                for i in next_n:
                    done.append(await self.run_job(s, i, polls))
                    if len(done) % max(1, n // 10) == 0:
                        rss.append(rss_mib(orch_pid))

            split = self.cpu_split(orch_pid)
            split.start()
            pids = self.orch_pids or [orch_pid]
            await self.start_profile(pids)
            cmd0, t0 = await command_counts(r), time.perf_counter()
            cpu0 = sum(cpu_seconds(pid) for pid in pids)
            await asyncio.gather(*(client() for _ in range(conc)))
            wall = time.perf_counter() - t0
            self.stop_profile()
            cmd1, cpu1 = await command_counts(r), sum(cpu_seconds(pid) for pid in pids)
            by_process = split.line(n)
            lat = await self.latencies(s, done)
        total = sum(cmd1.values()) - sum(cmd0.values()) - 1  # the INFO call itself
        print(f"throughput: {n} jobs, {conc} in flight, {self.args.workers} workers")
        print(f"  jobs/s end to end        {n / wall:8.0f}")
        print(
            f"  latency ms p50/p95/p99   {pct(lat, 0.5):6.1f} / {pct(lat, 0.95):6.1f} / "
            f"{pct(lat, 0.99):6.1f}  (created_at → finished_at)"
        )
        print(
            f"  orchestrator CPU per job {1e6 * (cpu1 - cpu0) / n:8.0f} µs "
            f"{'' if len(pids) == 1 else f'(the {len(pids)} processes together) '}"
            f"(incl. serving {polls[0] / n:.1f} waiting status GETs per job)"
        )
        print(f"  CPU per job by process   {by_process}")
        print(
            f"  Redis commands per job   {total / n:8.2f} "
            "(all: the engine's and the waiting status GETs'; a GET reads the job only if it"
            " ended before the GET came, or in another process)"
        )
        print(f"  by command, per job      {by_command(cmd0, cmd1, n)}")
        print(f"  orchestrator RSS MiB     {self.rss_line(rss)}")

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

    async def throughput_hooked(self, orch_pid: int, r: aioredis.Redis) -> None:
        n, conc = self.args.jobs, self.args.in_flight
        headers = {"X-Client-Token": CLIENT}
        conn = aiohttp.TCPConnector(limit=conc + 10)
        async with aiohttp.ClientSession(headers=headers, connector=conn) as s:
            await asyncio.gather(*(self.run_job_hooked(s, i) for i in range(100)))
            next_n = iter(range(n))
            lat: list[float] = []

            rss = [rss_mib(orch_pid)]

            async def client() -> None:
                for i in next_n:
                    lat.append(await self.run_job_hooked(s, i))
                    if len(lat) % max(1, n // 10) == 0:
                        rss.append(rss_mib(orch_pid))

            self.lags.clear()
            split = self.cpu_split(orch_pid)
            split.start()
            await self.start_profile([orch_pid])
            cmd0, cpu0, t0 = await command_counts(r), cpu_seconds(orch_pid), time.perf_counter()
            await asyncio.gather(*(client() for _ in range(conc)))
            wall = time.perf_counter() - t0
            self.stop_profile()
            cmd1, cpu1 = await command_counts(r), cpu_seconds(orch_pid)
            by_process = split.line(n)
        print(f"webhook throughput: {n} jobs, {conc} in flight, {self.args.workers} workers")
        print(f"  jobs/s, done by webhook  {n / wall:8.0f}")
        print(
            f"  latency ms p50/p95/p99   {pct(lat, 0.5):6.1f} / {pct(lat, 0.95):6.1f} / "
            f"{pct(lat, 0.99):6.1f}  (create → webhook received)"
        )
        print(f"  of which end → webhook   {self.lag()}")
        print(f"  orchestrator CPU per job {1e6 * (cpu1 - cpu0) / n:8.0f} µs")
        print(f"  CPU per job by process   {by_process}")
        print(
            f"  Redis commands per job   {(sum(cmd1.values()) - sum(cmd0.values()) - 1) / n:8.2f}"
        )
        print(f"  by command, per job      {by_command(cmd0, cmd1, n)}")
        print(f"  orchestrator RSS MiB     {self.rss_line(rss)}")

    async def single_hooked(self, r: aioredis.Redis) -> None:
        n = self.args.single_jobs
        headers = {"X-Client-Token": CLIENT}
        times: dict[str, dict[str, float]] = {}
        async with aiohttp.ClientSession(headers=headers) as s:
            self.lags.clear()
            lat = [await self.run_job_hooked(s, i, times) for i in range(n)]
        for job_id, row in times.items():  # read after the phase: no reads while it runs
            row.update(await hook_split.marks(r, "bench", job_id))
        print(f"one job at a time ({n} jobs)")
        print(
            f"  create → webhook ms p50/p95/p99  {pct(lat, 0.5):6.1f} / {pct(lat, 0.95):6.1f} / "
            f"{pct(lat, 0.99):6.1f}"
        )
        print(f"  of which end → webhook          {self.lag()}")
        print(f"  where it goes, ms p50 / p95     {hook_split.line(list(times.values()), pct)}")

    async def paced_hooked(self) -> None:
        rate, n = self.args.rate, self.args.paced_jobs
        headers = {"X-Client-Token": CLIENT}
        async with aiohttp.ClientSession(headers=headers) as s:
            tasks = []
            self.lags.clear()
            start = time.perf_counter()
            for i in range(n):
                wait = start + i / rate - time.perf_counter()
                if wait > 0:
                    await asyncio.sleep(wait)
                tasks.append(asyncio.create_task(self.run_job_hooked(s, i)))
            lat = list(await asyncio.gather(*tasks))
        print(f"webhook latency at {rate:.0f} jobs/s ({n} jobs, open loop)")
        print(
            f"  create → webhook ms p50/p95/p99  {pct(lat, 0.5):6.1f} / {pct(lat, 0.95):6.1f} / "
            f"{pct(lat, 0.99):6.1f}   mean {statistics.mean(lat):.1f}"
        )
        print(f"  of which end → webhook          {self.lag()}")

    @staticmethod
    def rss_line(rss: list[float]) -> str:
        return (
            f"{rss[0]:8.1f} after the warm-up; every tenth of the jobs: "
            + " ".join(f"{x:.0f}" for x in rss[1:])
            + f" ({100 * (rss[-1] - rss[0]) / rss[0]:+.1f} %)"
        )

    def lag(self) -> str:
        lags, refused = self.lags, self.refused
        self.refused = 0
        return (
            f"{pct(lags, 0.5):6.1f} / {pct(lags, 0.95):6.1f} / {pct(lags, 0.99):6.1f} ms "
            "(the job's end event → webhook received; ms clock)"
            + (f"\n  creates refused 429 and sent again: {refused}" if refused else "")
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


def route(requires: str) -> None:
    """Give the one-task blueprint's task these requirements and every worker what meets
    them; the child processes inherit the environment (``bench/blueprint.py``)."""
    wanted = json.loads(requires)
    os.environ["BENCH_REQUIRES"] = requires
    os.environ["WORKER_TAGS"] = ",".join(wanted.get("tags", []))
    os.environ["WORKER_LABELS"] = ",".join(f"{k}={v}" for k, v in wanted.items() if k != "tags")


def _spawn(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as sink:
        return subprocess.Popen(args, stdout=sink, stderr=sink)


def _pid(server: RedisProcess | None) -> int | None:
    return server.proc.pid if server is not None and server.proc is not None else None


async def main(args: argparse.Namespace) -> None:
    server = None
    url = args.redis_url
    if url is None:
        server = RedisProcess().start()
        url = server.url
    with tempfile.TemporaryDirectory() as tmp:
        if args.logs:
            os.makedirs(args.logs, exist_ok=True)
        bench = Bench(args, url, Path(args.logs or tmp))
        bench.redis_pid = _pid(server)
        r = aioredis.Redis.from_url(url)
        try:
            orch = await bench.start()
            if args.mode == "idle":
                await bench.start_profile([orch.pid])  # the whole idle run
                await run_idle(args, bench.base, orch.pid, url, bench.redis_pid)
            elif args.mode == "webhook":
                receiver = await bench.start_receiver()
                try:
                    await bench.throughput_hooked(orch.pid, r)
                    if args.single_jobs:
                        await bench.single_hooked(r)
                    if args.paced_jobs:
                        await bench.paced_hooked()
                finally:
                    await receiver.cleanup()
            else:
                await bench.throughput(orch.pid, r)
                if args.paced_jobs:
                    await bench.paced()
            if args.idle_workers and args.mode != "idle":
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
    p.add_argument(
        "--mode",
        choices=["poll", "webhook", "idle"],
        default="poll",
        help="how the client learns a job is done (see above)",
    )
    p.add_argument(
        "--orchestrators",
        type=int,
        default=1,
        help="poll mode: orchestrator processes on the one Redis; jobs and workers spread "
        "over them in turn",
    )
    p.add_argument("--jobs", type=int, default=5000)
    p.add_argument("--in-flight", type=int, default=50)
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--capacity", type=int, default=16, help="concurrent tasks per worker")
    p.add_argument("--rate", type=float, default=200.0)
    p.add_argument("--paced-jobs", type=int, default=2000)
    p.add_argument(
        "--single-jobs", type=int, default=200, help="webhook mode: jobs run one at a time"
    )
    p.add_argument(
        "--idle-workers", type=int, help="parked long-polls (default 1000; idle mode 10000)"
    )
    p.add_argument(
        "--redis-url",
        help="use this Redis instead of starting one (it must be idle "
        "for the command counts to mean anything)",
    )
    p.add_argument("--logs", help="keep the processes' logs in this directory")
    p.add_argument(
        "--requires",
        help='task requirements as JSON, e.g. \'{"tags": ["gpu"], "region": "eu"}\', which '
        "every worker meets: measures routing",
    )
    p.add_argument(
        "--profile",
        help="py-spy the orchestrator into this file, over the throughput window only (FILE.1 "
        "for a second orchestrator); collapsed stacks: summarise with python3 -m bench.stacks "
        "FILE",
    )
    add_options(p)
    parsed = p.parse_args()
    if parsed.orchestrators < 1 or (parsed.orchestrators > 1 and parsed.mode != "poll"):
        p.error("--orchestrators: 1 or more, and more than 1 only in poll mode")
    if parsed.idle_workers is None:
        parsed.idle_workers = 10_000 if parsed.mode == "idle" else 1000
    if parsed.mode == "idle":
        parsed.workers = 0
    if parsed.requires:
        route(parsed.requires)
    if parsed.mode == "idle":
        # its 10,000 clients stand in for SDK workers, which run on uvloop when it is there
        # (worker_sdk/cli.py); on asyncio's own loop, this one process took 2.5 s to send them
        try:
            import uvloop
        except ImportError:
            asyncio.run(main(parsed))
        else:
            uvloop.run(main(parsed))
    else:
        asyncio.run(main(parsed))
