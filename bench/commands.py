"""Redis commands per job, in total and by command (``INFO commandstats`` deltas; a script's
own commands count under their names as well as its ``evalsha``)."""

from __future__ import annotations

from typing import Any

TOP = 8


async def command_counts(r: Any) -> dict[str, int]:
    """Calls so far by command name (``evalsha``, ``zadd``, ``publish`` ...)."""
    stats = await r.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()}


def by_command(before: dict[str, int], after: dict[str, int], jobs: int, top: int = TOP) -> str:
    """The ``top`` commands per job, most first: ``evalsha 4.00 · zadd 2.00 · ...``."""
    delta = {name: calls - before.get(name, 0) for name, calls in after.items()}
    delta["info"] = delta.get("info", 0) - 1  # the INFO reading ``after``
    ranked = sorted(((n, c) for n, c in delta.items() if c > 0), key=lambda x: (-x[1], x[0]))
    return " · ".join(f"{name} {calls / jobs:.2f}" for name, calls in ranked[:top])
