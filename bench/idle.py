"""Idle-worker scale: one orchestrator process, many parked long-polls, no jobs.

    python3 dev.py bench --mode idle                        # 10,000 polls, own redis-server
    python3 dev.py bench --mode idle --idle-workers 2000 --poll-timeout 10

The workers are raw aiohttp long-poll clients in this process (not SDK processes): each is
registered, then parks one ``GET .../tasks/next?timeout=T`` at the same time as all the others.
Prints, for the orchestrator process alone:

- Redis commands a second while it has nothing to do: before any worker comes, and while the
  polls are parked (Redis's ``INFO commandstats`` delta over ``--idle-seconds``, by command).
  It needs a Redis nobody else uses: by default a redis-server of its own.
- the Redis connections it holds (Redis's ``CLIENT LIST``, the benchmark's own left out), the
  most seen while the polls arrive and wait, and its RSS (``idle_watch.py``, on a thread);
- how each poll was answered: on time (at most ``--late-after`` past its timeout) or late, and
  how late, counted from when the client began the request (as a worker sees it) and from when
  its headers left the client (the time before that is this client's: a new connection, its
  event loop busy with the other polls); and that split by the answer's ``Server-Timing``:
  the orchestrator's time from reading the request to answering it, and the rest (before it
  was read: the kernel's queues, the orchestrator's event loop; after: this client);
- whose time it is: when the requests left the client, and when the orchestrator had them
  parked and let them go (its ``parked_polls``, sampled every 0.1 s), each from the moment the
  burst began (``idle_times.py``); and the Redis commands the burst cost until all were parked.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import time
from pathlib import Path
from types import SimpleNamespace

import aiohttp
import redis.asyncio as aioredis

from bench.cpu import CpuSplit
from bench.idle_times import PollTimes, report, spread
from bench.idle_watch import OWN, Watch

WORKER = "bench-worker"
IGNORED = {"info", "client|list", "client", "client|setname"}
"""The benchmark's own commands, left out of the counts."""


async def commands_by_name(r: aioredis.Redis) -> dict[str, int]:
    stats = await r.info("commandstats")
    return {
        name.removeprefix("cmdstat_"): int(v["calls"])
        for name, v in stats.items()
        if name.removeprefix("cmdstat_") not in IGNORED
    }


def since(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {k: v - before.get(k, 0) for k, v in after.items() if v > before.get(k, 0)}


async def command_rate(r: aioredis.Redis, seconds: float) -> tuple[float, dict[str, int]]:
    """Commands a second over ``seconds``, and the count of each command in that time."""
    before = await commands_by_name(r)
    await asyncio.sleep(seconds)
    delta = since(before, await commands_by_name(r))
    return sum(delta.values()) / seconds, delta


def listen_overflows() -> int | None:
    """The kernel's count of connections dropped for a full listen queue (every process's: a
    machine others use adds theirs), None where ``/proc`` does not have it."""
    try:
        lines = Path("/proc/net/netstat").read_text().splitlines()
    except OSError:
        return None
    for names, values in zip(lines[::2], lines[1::2], strict=False):
        if names.startswith("TcpExt:"):
            found = dict(zip(names.split(), values.split(), strict=False))
            return int(found["ListenOverflows"]) if "ListenOverflows" in found else None
    return None


def somaxconn() -> str:
    try:
        return Path("/proc/sys/net/core/somaxconn").read_text().strip()
    except OSError:
        return "?"


def breakdown(delta: dict[str, int]) -> str:
    top = sorted(delta.items(), key=lambda kv: -kv[1])
    return ", ".join(f"{name} {n}" for name, n in top) or "none"


class Polls:
    """``k`` workers, registered, then one long-poll each, all at once."""

    def __init__(self, base: str, k: int, wait_s: float) -> None:
        self.base, self.k, self.wait_s = base, k, wait_s
        self.connects: dict[int, float] = {}
        """poll → seconds its connection took to be accepted (the kernel's listen queue)."""
        self.answers: list[tuple[int, float]] = []
        """(status, seconds from the request to the answer) of each poll."""
        self.times = PollTimes(k, wait_s)

    def session(self) -> aiohttp.ClientSession:
        trace = aiohttp.TraceConfig()

        async def connecting(_s: object, ctx: SimpleNamespace, _p: object) -> None:
            ctx.connect_at = time.perf_counter()

        async def connected(_s: object, ctx: SimpleNamespace, _p: object) -> None:
            if ctx.trace_request_ctx is not None:
                self.connects[ctx.trace_request_ctx] = time.perf_counter() - ctx.connect_at

        async def sent(_s: object, ctx: SimpleNamespace, _p: object) -> None:
            if ctx.trace_request_ctx is not None:
                self.times.sent[ctx.trace_request_ctx] = time.perf_counter()

        trace.on_connection_create_start.append(connecting)
        trace.on_connection_create_end.append(connected)
        trace.on_request_headers_sent.append(sent)
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
        started = self.times.started[i] = time.perf_counter()
        status = 0  # printed as status 0: no answer
        try:
            async with s.get(url, trace_request_ctx=i) as resp:
                await resp.read()
                status = resp.status
                self.times.server_timing(i, resp.headers.get("Server-Timing", ""))
        except (aiohttp.ClientError, TimeoutError):
            pass
        answered = self.times.answered[i] = time.perf_counter()
        self.answers.append((status, answered - started))

    async def parked(self, watch: Watch) -> tuple[int, float | None]:
        """Most polls seen parked at once, and when all were (None: not before the timeout)."""
        t0 = self.times.began
        while time.perf_counter() - t0 < self.wait_s:
            most = max((n for _, n in watch.server), default=0)
            if most >= self.k:
                return most, next(at for at, n in watch.server if n >= self.k) - t0
            await asyncio.sleep(0.1)
        return max((n for _, n in watch.server), default=0), None

    def report(self, late_after: float) -> None:
        statuses: dict[int, int] = {}
        for status, _ in self.answers:
            statuses[status] = statuses.get(status, 0) + 1
        print(f"  answers                  {dict(sorted(statuses.items()))}")
        lateness = sorted(took - self.wait_s for _, took in self.answers)
        late = sum(x > late_after for x in lateness)
        print(
            f"  on time (≤ {late_after:g} s past)     {self.k - late:5d}; late {late}"
            f"; past the timeout s p50/p99/max {spread(lateness)}"
        )
        connects = list(self.connects.values())
        if connects:
            slow = sum(c > 0.9 for c in connects)
            print(
                f"  new connections          {len(connects):8d}, {slow} accepted after > 0.9 s "
                f"(a full listen queue, or this busy client); slowest {max(connects):.1f} s"
            )


CLIENT_GC_YOUNG_THRESHOLD = 10_000
"""As the orchestrator's (``orchestrator/server.py``): here 10,000 clients share one heap, which
no fleet of workers does, and at CPython's default (700) its full collections were a third of
this process's CPU while it sent the polls."""


async def run_idle(
    args: argparse.Namespace, base: str, pid: int, redis_url: str, redis_pid: int | None = None
) -> None:
    k, wait_s, window = args.idle_workers, args.poll_timeout, args.idle_seconds
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(CLIENT_GC_YOUNG_THRESHOLD, middle, oldest)
    r = aioredis.Redis.from_url(redis_url, client_name=OWN)
    watch = Watch(base, pid, redis_url)
    redis_pids = [redis_pid] if redis_pid is not None else []
    watch.start()
    try:
        await asyncio.sleep(2)  # start-up work (script loads, first sweeps) out of the count
        conns0, rss0 = watch.conns, watch.rss
        rate0, delta0 = await command_rate(r, window)
        print(f"idle process, no workers ({window:g} s)")
        print(f"  Redis commands/s         {rate0:8.2f}  ({breakdown(delta0)})")
        print(f"  Redis connections        {conns0:8d}")
        print(f"  RSS MiB                  {rss0:8.1f}")

        polls = Polls(base, k, wait_s)
        async with polls.session() as s:
            watch.reset()
            registered_s = await polls.register(s)
            registering = (watch.most_conns, watch.most_rss)
            watch.reset()  # from here: the polls alone
            before_burst = await commands_by_name(r)
            cpu = CpuSplit({"orchestrator": [pid], "client": [os.getpid()], "Redis": redis_pids})
            watch.follow(True)
            cpu.start()
            overflows0 = listen_overflows()
            polls.times.began = time.perf_counter()
            parking = [asyncio.create_task(polls.park(s, i)) for i in range(k)]
            parked, all_parked_s = await polls.parked(watch)
            cpu_to_park = cpu.line(k)
            overflows1 = listen_overflows()
            watch.follow(False)
            burst = since(before_burst, await commands_by_name(r))
            left = wait_s - (time.perf_counter() - polls.times.began)
            parked_rate = None
            if all_parked_s is not None and left > 1.5:
                # while every poll waits, before any times out
                parked_rate, parked_delta = await command_rate(r, min(window, left - 1))
            conns_parked, rss_parked = watch.conns, watch.rss
            watch.follow(True)  # until all are answered: when the orchestrator let them go
            cpu.start()
            await asyncio.gather(*parking)
            cpu_to_answer = cpu.line(k)
            watch.follow(False)
            again = await poll_again(polls, s, r, cpu) if args.poll_again else None
        watch.stop()
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
            f"  Redis connections        {watch.most_conns:8d} most while the polls came, waited "
            f"({conns_parked} while parked, {watch.conns} after)"
        )
        print(f"  RSS MiB                  {watch.most_rss:8.1f} most ({rss_parked:.1f} parked)")
        polls.report(args.late_after)
        if overflows0 is not None and overflows1 is not None:
            print(
                f"  listen queue overflows   {overflows1 - overflows0:8d} while the polls came "
                f"(net.core.somaxconn {somaxconn()}, which caps the orchestrator's backlog)"
            )
        print(
            f"  Redis commands to park   {sum(burst.values()):8d}  ({breakdown(burst)}; "
            "the pings are the parked_polls samples)"
        )
        print(f"  CPU to park, per poll    {cpu_to_park}")
        print(f"  CPU to answer, per poll  {cpu_to_answer}")
        report(polls.times, watch.server, args.late_after, watch.slowest_status_s)
        if again is not None:
            again.report(args.late_after)
    finally:
        if watch.is_alive():
            watch.stop()
        await r.aclose()


class Again:
    """A second round: every worker polls again at once, on the connection it kept."""

    def __init__(self, times: PollTimes, commands: dict[str, int], cpu: str) -> None:
        self.times, self.commands, self.cpu = times, commands, cpu

    def report(self, late_after: float) -> None:
        k = self.times.k
        print(f"again: the {k} workers poll once more at once, on the connections they kept")
        print(
            f"  Redis commands           {sum(self.commands.values()):8d}  "
            f"({breakdown(self.commands)}), until all were answered"
        )
        print(f"  CPU, per poll            {self.cpu}")
        report(self.times, [], late_after, 0.0, timeline=False)


async def poll_again(
    polls: Polls, s: aiohttp.ClientSession, r: aioredis.Redis, cpu: CpuSplit
) -> Again:
    first = polls.times, polls.answers, polls.connects
    times = polls.times = PollTimes(polls.k, polls.wait_s)
    polls.answers, polls.connects = [], {}
    before = await commands_by_name(r)
    cpu.start()
    times.began = time.perf_counter()
    await asyncio.gather(*(polls.park(s, i) for i in range(polls.k)))
    cpu_line = cpu.line(polls.k)
    polls.times, polls.answers, polls.connects = first  # the first round's, for its report
    return Again(times, since(before, await commands_by_name(r)), cpu_line)


def add_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--poll-again",
        action="store_true",
        help="idle mode: once all are answered, every worker polls once more (kept connections)",
    )
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
