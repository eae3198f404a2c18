"""A small seeded chaos soak (``bench/chaos.py`` runs the wide one): 150 jobs of four shapes
while three workers, an orchestrator and Redis are SIGKILLed and started again; then every
job's history must show it finished once, each task result applied once to the attempt
leased last, and every applied result run by a worker."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.chaos_plan import Plan
from tests.e2e.chaos_soak import soak

PLAN = Plan(
    jobs=150,
    rate=15.0,
    seed=20261201,
    worker_kills=3,
    orchestrator_kills=1,
    redis_kills=1,
    drain_s=20.0,
)


@pytest.mark.timeout(60)
async def test_no_job_lost_doubled_or_stuck_through_kills(tmp_path: Path) -> None:
    report, fleet = await soak(PLAN, tmp_path, say=lambda _: None)

    assert [k.target for _, k in fleet.kills].count("worker") == PLAN.worker_kills
    assert [k.target for _, k in fleet.kills].count("orchestrator") == PLAN.orchestrator_kills
    assert [k.target for _, k in fleet.kills].count("redis") == PLAN.redis_kills
    assert report.jobs == PLAN.jobs
    assert report.problems == []
    assert (report.lost, report.duplicated, report.stuck, report.wrong) == (0, 0, 0, 0)
    assert report.unaccepted == 0
    assert report.finished == report.jobs + report.children
