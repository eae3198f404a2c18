"""The chaos soak's plan: how many jobs, how fast, and which process dies when (seeded)."""

from __future__ import annotations

import random
from dataclasses import dataclass

KINDS = ("chaos_one", "chaos_chain", "chaos_fan", "chaos_parent")
WEIGHTS = (4, 2, 2, 2)


@dataclass(frozen=True)
class Plan:
    jobs: int = 150
    rate: float = 15.0
    """Jobs created per second, at a steady pace (open loop)."""
    seed: int = 1
    orchestrators: int = 2
    workers: int = 4
    capacity: int = 4
    """Tasks each worker runs at once; above 1, its polls claim batches."""
    worker_kills: int = 3
    orchestrator_kills: int = 1
    redis_kills: int = 1
    run_s: float = 0.1
    """A task runs up to this long (uniformly drawn)."""
    drain_s: float = 60.0
    """How long after the last create every job has to end."""
    late_s: float = 20.0
    """A job that takes longer than this from create to end counts as late."""

    @property
    def window_s(self) -> float:
        return self.jobs / self.rate


@dataclass(frozen=True)
class Kill:
    at: float
    """Seconds after the first create."""
    target: str
    """``worker``, ``orchestrator`` or ``redis``."""
    index: int
    down_s: float
    """How long it stays dead before it is started again."""
    new_id: bool = False
    """A worker comes back under a new id (its old leases must run out) or its own (it
    registers again, and its old leases are lost at their next check)."""


def schedule(plan: Plan) -> list[Kill]:
    """The kills, spread at random over the middle of the create window, in time order."""
    rng = random.Random(plan.seed)
    kills = [
        Kill(0.0, "worker", rng.randrange(plan.workers), rng.uniform(0.1, 1.0), rng.random() < 0.5)
        for _ in range(plan.worker_kills)
    ]
    kills += [
        Kill(0.0, "orchestrator", rng.randrange(plan.orchestrators), rng.uniform(0.1, 1.0))
        for _ in range(plan.orchestrator_kills)
    ]
    kills += [Kill(0.0, "redis", 0, rng.uniform(0.2, 1.5)) for _ in range(plan.redis_kills)]
    rng.shuffle(kills)
    times = sorted(rng.uniform(0.1, 0.85) * plan.window_s for _ in kills)
    return [
        Kill(at, k.target, k.index, k.down_s, k.new_id) for at, k in zip(times, kills, strict=True)
    ]


def kinds(plan: Plan) -> list[str]:
    """Which blueprint each job runs."""
    rng = random.Random(plan.seed + 1)
    return rng.choices(KINDS, WEIGHTS, k=plan.jobs)
