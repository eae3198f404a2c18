"""Crash-and-chaos soak: jobs at a steady pace while workers, orchestrators and Redis die.

    python bench/chaos.py --jobs 2000 --seed 7
    python bench/chaos.py --jobs 300 --worker-kills 6 --redis-kills 2 --keep

Runs its own redis-server (appendonly yes, appendfsync always), --orchestrators processes on
it and --workers SDK workers (--capacity tasks each, so their polls claim batches), and a
client creating a seeded mix of jobs (one task; a chain of three; a fan-out of three joined by
an aggregator; a parent with a child job; tests/e2e/chaos_flows.py) at --rate jobs/s. On a
schedule drawn from --seed it SIGKILLs and restarts random workers (under their own id or a new
one), orchestrators (on the same port) and Redis (the same data directory). Then it waits
(--drain-s) for every job to end and checks each one's view and history, the client's job list
and the lines each task run appended to its worker's marks file (tests/e2e/chaos_audit.py):

  lost        a create answered, a job the API does not know
  duplicated  a terminal event, a state, a task result or a child recorded twice; the same
              attempt run twice with no release between; a listed job nobody created
  stuck       not ended by the drain deadline
  wrong       ended other than finished, a result not of the attempt leased last or run by no
              worker, an event after the end, a result naming another attempt than applied
  late        took longer than --late-s from create to end

Prints figures and every problem found; asserts nothing (tests/e2e/test_chaos.py does).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.chaos_audit import Report  # noqa: E402
from tests.e2e.chaos_fleet import Fleet  # noqa: E402
from tests.e2e.chaos_plan import Plan  # noqa: E402
from tests.e2e.chaos_soak import soak  # noqa: E402


def options(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    d = Plan()
    p.add_argument("--jobs", type=int, default=2000)
    p.add_argument("--rate", type=float, default=40.0, help="jobs created per second")
    p.add_argument("--seed", type=int, default=1, help="draws the job mix and the kills")
    p.add_argument("--orchestrators", type=int, default=d.orchestrators)
    p.add_argument("--workers", type=int, default=d.workers)
    p.add_argument("--capacity", type=int, default=d.capacity, help="tasks a worker runs at once")
    p.add_argument("--worker-kills", type=int, default=12)
    p.add_argument("--orchestrator-kills", type=int, default=4)
    p.add_argument("--redis-kills", type=int, default=2)
    p.add_argument("--run-s", type=float, default=d.run_s, help="longest task run")
    p.add_argument("--drain-s", type=float, default=120.0, help="time for every job to end")
    p.add_argument("--late-s", type=float, default=d.late_s)
    p.add_argument("--keep", action="store_true", help="keep the logs and marks; print where")
    return p.parse_args(argv)


def plan_of(args: argparse.Namespace) -> Plan:
    fields = Plan.__dataclass_fields__
    return Plan(**{k: v for k, v in vars(args).items() if k in fields})


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values) or [0.0]
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def summary(plan: Plan, report: Report, fleet: Fleet, wall_s: float) -> str:
    late = sum(v > plan.late_s for v in report.latencies.values())
    done = [k.target for _, k in fleet.kills]
    kills = " / ".join(str(done.count(t)) for t in ("worker", "orchestrator", "redis"))
    p50, p99, top = (pct(list(report.latencies.values()), p) for p in (0.5, 0.99, 1.0))
    back = max((s for s, _ in fleet.kills), default=0.0)
    rows = [
        ("seed", plan.seed),
        ("jobs created (+ children)", f"{report.jobs} (+{report.children})"),
        ("never accepted", report.unaccepted),
        ("kills: worker / orchestrator / redis", kills),
        ("longest kill-to-serving", f"{back:.2f}s"),
        ("finished", report.finished),
        ("lost", report.lost),
        ("duplicated", report.duplicated),
        ("stuck", report.stuck),
        ("wrong", report.wrong),
        ("task runs redelivered", report.redelivered),
        (f"late (> {plan.late_s:g}s)", late),
        ("create to end p50 / p99 / max", f"{p50:.2f}s / {p99:.2f}s / {top:.2f}s"),
        ("wall", f"{wall_s:.1f}s"),
    ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


async def main(args: argparse.Namespace) -> int:
    plan = plan_of(args)
    tmp = Path(tempfile.mkdtemp(prefix=f"chaos-{plan.seed}-"))
    started = time.monotonic()
    try:
        report, fleet = await soak(plan, tmp, lambda line: print(line, flush=True))
        for took, kill in fleet.kills:
            new = ", new id" if kill.new_id else ""
            print(
                f"kill at {kill.at:5.1f}s: {kill.target} {kill.index}"
                f" (dead {kill.down_s:.2f}s{new}; serving again after {took:.2f}s)"
            )
        for problem in report.problems[:50]:
            print("PROBLEM", problem)
        if len(report.problems) > 50:
            print(f"... and {len(report.problems) - 50} more")
        slowest = sorted(report.latencies.items(), key=lambda kv: -kv[1])[:5]
        print("slowest:", ", ".join(f"{job_id} {s:.2f}s" for job_id, s in slowest))
        print(summary(plan, report, fleet, time.monotonic() - started))
    finally:
        if args.keep:
            print(f"logs and marks kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(options())))
