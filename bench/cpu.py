"""Where a benchmark's CPU goes: each process's CPU time per job, and how busy the machine was.

Every process of a run (client, orchestrator, workers, Redis) shares the machine's cores, so
jobs/s is bounded by the CPU they spend together per job, not by the orchestrator's alone:
``CpuSplit`` says which process spends it, and whether any core was left idle. Linux only
(``/proc``)."""

from __future__ import annotations

import os
from pathlib import Path

TICK_S = 1 / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * TICK_S


def _machine() -> tuple[int, int]:
    """(busy, total) ticks of every core since boot."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = ticks[3] + ticks[4]  # idle + iowait
    return sum(ticks) - idle, sum(ticks)


class CpuSplit:
    """CPU seconds of named groups of processes between ``start`` and ``line``."""

    def __init__(self, groups: dict[str, list[int]]) -> None:
        self.groups = {name: pids for name, pids in groups.items() if pids}
        self._before: dict[str, float] = {}
        self._machine = (0, 0)

    def _read(self) -> dict[str, float]:
        return {name: sum(cpu_seconds(p) for p in pids) for name, pids in self.groups.items()}

    def start(self) -> None:
        self._before, self._machine = self._read(), _machine()

    def line(self, jobs: int) -> str:
        """``orchestrator 1263 · workers 610 · ... µs per job (machine 97 % busy, 2 cores)``"""
        after, (busy, total) = self._read(), _machine()
        parts = [
            f"{name} {1e6 * (after[name] - self._before[name]) / jobs:.0f}" for name in self.groups
        ]
        spent = sum(after.values()) - sum(self._before.values())
        share = 100 * (busy - self._machine[0]) / max(1, total - self._machine[1])
        return (
            f"{' · '.join(parts)} µs; together {1e6 * spent / jobs:.0f} µs "
            f"(machine {share:.0f} % busy, {os.cpu_count()} cores)"
        )
