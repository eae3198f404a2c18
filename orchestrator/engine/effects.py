"""Side effects of a transition on keys outside the job's own hash slot.

The job hash is the authority. Queue entries are hints naming a delivery (``Task.ref``): on one
Redis they are written by the job's own write (atomically), on Cluster *before* the job (so a
crash leaves at most a stale hint, which a claim discards after checking the job); they are
removed *after* it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Effects:
    enqueue: list[tuple[str, str, int]] = field(default_factory=list)
    """(queue, ref, priority): into the ready queue now. A queue is the task type, or
    ``type#requirements`` for a task with requirements (``Task.queue``)."""
    delay: list[tuple[str, str, float]] = field(default_factory=list)
    """(queue, ref, ready at): into the delayed queue (backoff)."""
    drop: list[tuple[str, str]] = field(default_factory=list)
    """(queue, ref): remove from ready, delayed and leases."""
    release: list[tuple[str, str]] = field(default_factory=list)
    """(queue or task type, ref): remove from the type's leases only (the result arrived)."""
    timers: list[tuple[str, float]] = field(default_factory=list)
    """(timer member, due at)."""
    cancel: list[tuple[str, str, str, int]] = field(default_factory=list)
    """(worker id, job id, task id, attempt): tell the worker to stop that attempt of the task.

    The attempt is named because a cancel can arrive late (in a heartbeat answer while the
    worker's WebSocket is down), when the next attempt of the task may run on the same worker."""
    children: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    """(child job id, blueprint, initial data): child jobs to create before the parent moves."""
    webhooks: list[tuple[str, float]] = field(default_factory=list)
    """(outbox entry, due at): webhook deliveries this transition owes (``webhooks/outbox.py``)."""

    def merge(self, other: Effects) -> None:
        self.enqueue += other.enqueue
        self.delay += other.delay
        self.drop += other.drop
        self.release += other.release
        self.timers += other.timers
        self.cancel += other.cancel
        self.children += other.children
        self.webhooks += other.webhooks
