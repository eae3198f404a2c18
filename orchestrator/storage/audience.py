"""Who listens on the bus channels every orchestrator process subscribes to (wake-ups, ends),
so that a process alone on its Redis publishes nothing: its own waiters are served in memory.

``PUBSUB NUMSUB`` is read at most once per ``TTL_S``; this process's own subscription (told by
``listen``) does not count. A process that starts says so on the wake channel once subscribed
(``HELLO``), and every process that hears another one publishes for ``TTL_S`` from then on
without waiting for its next count, so a newcomer misses no wake-up for long. On Redis Cluster
a ``NUMSUB`` counts the subscribers of one node only: there every message is published.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

TTL_S = 1.0

Handler = Callable[[bytes], None]


class Audience:
    def __init__(self, redis: Any, *, counted: bool) -> None:
        self._redis = redis
        self._counted = counted
        """False on Cluster: every message is published."""
        self._local: dict[str, Handler] = {}
        self._counts: dict[str, int] = {}
        self._counted_until = 0.0
        self._heard_until = 0.0

    def listen(self, channel: str, handler: Handler) -> None:
        """This process subscribes to ``channel`` with ``handler``: what it would have heard
        of its own messages when nobody else listens goes to ``handler`` directly."""
        self._local[channel] = handler
        self._counted_until = 0.0

    def heard_other(self) -> None:
        """Another process spoke on the bus: it listens too."""
        self._heard_until = time.monotonic() + TTL_S

    async def count(self, *channels: str) -> None:
        """Reads the channels' subscriber counts, unless read within ``TTL_S``."""
        now = time.monotonic()
        if not self._counted or now < self._counted_until:
            return
        answer = await self._redis.pubsub_numsub(*channels)
        self._counts = {_text(channel): int(n) for channel, n in answer}
        self._counted_until = now + TTL_S

    def others(self, channel: str) -> bool:
        """Whether a message on ``channel`` would reach anyone but this process (yes when
        unsure)."""
        if not self._counted or time.monotonic() < self._heard_until:
            return True
        count = self._counts.get(channel)
        return count is None or count > (channel in self._local)

    def local(self, channel: str) -> Handler | None:
        return self._local.get(channel)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
