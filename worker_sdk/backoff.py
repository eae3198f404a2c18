"""Exponential backoff delays, shared by every loop that waits for the orchestrator to return."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["Backoff"]


@dataclass(frozen=True)
class Backoff:
    """Delays that start at ``initial_s`` and multiply by ``factor`` up to ``max_s``."""

    initial_s: float
    max_s: float
    factor: float = 2.0
    jitter: bool = True
    """Spread each delay over [50 %, 100 %] so a fleet of workers does not reconnect in step
    after an orchestrator restart."""

    def delays(self) -> Iterator[float]:
        """A fresh, endless sequence of delays; take a new one to reset the backoff."""
        delay = self.initial_s
        while True:
            yield delay * random.uniform(0.5, 1.0) if self.jitter else delay
            delay = min(delay * self.factor, self.max_s)


RECONNECT_BACKOFF = Backoff(0.2, 5.0)
"""Registering and polling: the orchestrator may be restarting, so retry quickly at first,
then settle at a few seconds."""
