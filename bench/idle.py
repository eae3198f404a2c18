"""Idle-worker scale: one orchestrator process, many parked long-polls, no jobs.

    python3 dev.py bench --mode idle                        # 10,000 polls, own redis-server
    python3 dev.py bench --mode idle --idle-workers 2000 --poll-timeout 10

The workers are raw aiohttp long-poll clients in this process (not SDK processes): each is
registered, then parks one ``GET .../tasks/next?timeout=T`` at the same time as all the others.
Prints, for the orchestrator process alone:

- Redis commands a second while it has nothing to do: before any worker comes, and while the
  polls are parked (Redis's ``INFO commandstats`` delta over ``--idle-seconds``, by command).
  It needs a Redis nobody else uses: by default a redis-server of its own.
- the Redis connections it holds (its own TCP sockets to the Redis port, read from ``/proc``),
  the most seen while the polls arrive and wait, and its RSS;
- how each poll was answered: on time (at most ``--late-after`` past its timeout) or late, and
  how late.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from pathlib import Path
from types import SimpleNamespace

import aiohttp
import redis.asyncio as aioredis

WORKER = "bench-worker"
IGNORED = {"info", "client|list", "client"}
"""The benchmark's own commands, left out of the counts."""


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def redis_connections(pid: int, redis_port: int) -> int:
    """TCP connections of process ``pid`` to ``redis_port`` (IPv4 and IPv6)."""
    inodes = set()
    fd_dir = Path(f"/proc/{pid}/fd")
    for fd in fd_dir.iterdir():
        try:
            target = os.readlink(fd)
        except OSError:  # closed meanwhile
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    count = 0
    for table in ("tcp", "tcp6"):
        try:
            rows = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            cols = row.split()
            # remote address "hex ip:hex port", state 01 = ESTABLISHED, inode in column 9
            if cols[3] == "01" and int(cols[2].rsplit(":", 1)[1], 16) == redis_port:
                count += cols[9] in inodes
    return count


async def commands_by_name(r: aioredis.Redis) -> dict[str, int]:
    stats = await r.info("commandstats")
    return {
        name.removeprefix("cmdstat_"): int(v["calls"])
        for name, v in stats.items()
        if name.removeprefix("cmdstat_") not in IGNORED
    }


async def command_rate(r: aioredis.Redis, seconds: float) -> tuple[float, dict[str, int]]:
    """Commands a second over ``seconds``, and the count of each command in that time."""
    before = await commands_by_name(r)
    await asyncio.sleep(seconds)
    after = await commands_by_name(r)
    delta = {k: v - before.get(k, 0) for k, v in after.items() if v > before.get(k, 0)}
    return sum(delta.values()) / seconds, delta


def breakdown(delta: dict[str, int]) -> str:
    top = sorted(delta.items(), key=lambda kv: -kv[1])
    return ", ".join(f"{name} {n}" for name, n in top) or "none"


class Sampler:
    """Samples the orchestrator's Redis connections and RSS every 0.1 s, keeping the most."""

    def __init__(self, pid: int, redis_port: int) -> None:
        self.pid, self.redis_port = pid, redis_port
        self.max_conns = 0
        self.max_rss = 0.0

    async def run(self) -> None:
        while True:
            self.max_conns = max(self.max_conns, redis_connections(self.pid, self.redis_port))
            self.max_rss = max(self.max_rss, rss_mib(self.pid))
            await asyncio.sleep(0.1)


class Polls:
    """``k`` workers, registered, then one long-poll each, all at once."""

    def __init__(self, base: str, k: int, wait_s: float) -> None:
        self.base, self.k, self.wait_s = base, k, wait_s
        self.connects: dict[int, float] = {}
        """poll → seconds its connection took to be accepted (the kernel's listen queue)."""
        self.answers: list[tuple[int, float]] = []
        """(status, seconds from the request to the answer) of each poll."""

    def session(self) -> aiohttp.ClientSession:
        trace = aiohttp.TraceConfig()

        async def connecting(_s: object, ctx: SimpleNamespace, _p: object) -> None:
            ctx.connect_at = time.perf_counter()

        async def connected(_s: object, ctx: SimpleNamespace, _p: object) -> None:
            if ctx.trace_request_ctx is not None:
                self.connects[ctx.trace_request_ctx] = time.perf_counter() - ctx.connect_at

        trace.on_connection_create_start.append(connecting)
        trace.on_connection_create_end.append(connected)
        return aiohttp.ClientSession(
            headers={"X-Worker-Token": WORKER},
            connector=aiohttp.TCPConnector(limit=0),
            timeout=aiohttp.ClientTimeout(total=self.wait_s + 600),
            trace_configs=[trace],
        )

    async def register(self, s: aiohttp.ClientSession) -> float:
        gate = asyncio.Semaphore(100)

        async def one(i: int) -> None:
            body = {"worker_id": f"idle-{i}", "supported_skills": ["idle"]}
            async with gate, s.post(f"{self.base}/_worker/workers/register", json=body) as resp:
                if resp.status != 200:
                    raise SystemExit(f"register answered {resp.status}: {await resp.text()}")

        t0 = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(self.k)))
        return time.perf_counter() - t0

    async def park(self, s: aiohttp.ClientSession, i: int) -> None:
        url = f"{self.base}/_worker/workers/idle-{i}/tasks/next?timeout={self.wait_s:g}"
        started = time.perf_counter()
        try:
            async with s.get(url, trace_request_ctx=i) as resp:
                await resp.read()
                self.answers.append((resp.status, time.perf_counter() - started))
        except (aiohttp.ClientError, TimeoutError):
            self.answers.append((0, time.perf_counter() - started))  # printed as status 0

    async def parked(self, s: aiohttp.ClientSession) -> tuple[int, float | None]:
        """Most polls seen parked at once, and when all were (None: not before the timeout)."""
        t0, most = time.perf_counter(), 0
        while time.perf_counter() - t0 < self.wait_s:
            async with s.get(f"{self.base}/_public/status") as resp:
                # a 503 (Redis not answering in time) has no count
                most = max(most, (await resp.json()).get("parked_polls", 0))
            if most >= self.k:
                return most, time.perf_counter() - t0
            await asyncio.sleep(0.1)
        return most, None

    def report(self, late_after: float) -> None:
        statuses: dict[int, int] = {}
        for status, _ in self.answers:
            statuses[status] = statuses.get(status, 0) + 1
        print(f"  answers                  {dict(sorted(statuses.items()))}")
        lateness = sorted(took - self.wait_s for _, took in self.answers)
        late = sum(x > late_after for x in lateness)
        print(
            f"  on time (≤ {late_after:g} s past)     {self.k - late:5d}; late {late}"
            f"; past the timeout s p50/p99/max {pct(lateness, 0.5):.2f} / "
            f"{pct(lateness, 0.99):.2f} / {lateness[-1]:.2f}"
        )
        connects = list(self.connects.values())
        if connects:
            slow = sum(c > 0.9 for c in connects)
            print(
                f"  new connections          {len(connects):8d}, {slow} accepted after > 0.9 s "
                f"(a full listen queue, or this busy client); slowest {max(connects):.1f} s"
            )


def pct(ordered: list[float], p: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


async def run_idle(args: argparse.Namespace, base: str, pid: int, redis_url: str) -> None:
    k, wait_s, window = args.idle_workers, args.poll_timeout, args.idle_seconds
    port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
    r = aioredis.Redis.from_url(redis_url)
    try:
        await asyncio.sleep(2)  # start-up work (script loads, first sweeps) out of the count
        conns0, rss0 = redis_connections(pid, port), rss_mib(pid)
        rate0, delta0 = await command_rate(r, window)
        print(f"idle process, no workers ({window:g} s)")
        print(f"  Redis commands/s         {rate0:8.2f}  ({breakdown(delta0)})")
        print(f"  Redis connections        {conns0:8d}")
        print(f"  RSS MiB                  {rss0:8.1f}")

        sampler = Sampler(pid, port)
        sampling = asyncio.create_task(sampler.run())
        polls = Polls(base, k, wait_s)
        async with polls.session() as s:
            registered_s = await polls.register(s)
            registering = (sampler.max_conns, sampler.max_rss)
            sampler.max_conns, sampler.max_rss = 0, 0.0  # from here: the polls alone
            t0 = time.perf_counter()
            parking = [asyncio.create_task(polls.park(s, i)) for i in range(k)]
            parked, all_parked_s = await polls.parked(s)
            left = wait_s - (time.perf_counter() - t0)
            parked_rate = None
            if all_parked_s is not None and left > 1.5:
                # while every poll waits, before any times out
                parked_rate, parked_delta = await command_rate(r, min(window, left - 1))
            conns_parked, rss_parked = redis_connections(pid, port), rss_mib(pid)
            await asyncio.gather(*parking)
        sampling.cancel()
        print(f"idle workers: {k} long-polls, timeout {wait_s:g} s")
        print(
            f"  registered in            {registered_s:8.1f} s, 100 at a time "
            f"({registering[0]} Redis connections most, RSS {registering[1]:.1f} MiB)"
        )
        print(
            f"  parked at once           {parked:8d}"
            + (f"  (all within {all_parked_s:.1f} s)" if all_parked_s is not None else "")
        )
        if parked_rate is not None:
            print(f"  Redis commands/s parked  {parked_rate:8.2f}  ({breakdown(parked_delta)})")
        print(
            f"  Redis connections        {sampler.max_conns:8d} most while the polls came, waited "
            f"({conns_parked} while parked, {redis_connections(pid, port)} after)"
        )
        print(f"  RSS MiB                  {sampler.max_rss:8.1f} most ({rss_parked:.1f} parked)")
        polls.report(args.late_after)
    finally:
        await r.aclose()


def add_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--poll-timeout", type=float, default=20.0, help="idle mode: each long-poll's timeout"
    )
    p.add_argument(
        "--idle-seconds",
        type=float,
        default=10.0,
        help="idle mode: how long the Redis commands are counted",
    )
    p.add_argument(
        "--late-after",
        type=float,
        default=1.0,
        help="idle mode: a poll answered more than this past its timeout is late",
    )
