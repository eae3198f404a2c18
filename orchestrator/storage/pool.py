"""The Redis connection pool: redis-py's blocking pool, with a quick way in when a connection
is free.

``BlockingConnectionPool.get_connection`` takes an ``asyncio.Condition``, starts a timeout
(a timer handle each), checks deprecated arguments and records wait-time metrics on every
command, pipeline or script call: about a twelfth of the orchestrator's CPU per job. When a
connection is free and no command waits for one, none of that changes the outcome, so this
pool hands it over at once (still checked as the blocking pool checks it: connected, nothing
unread on it). Otherwise, and when the installed redis-py lacks the attributes read here,
the blocking pool's own path runs: commands still wait their turn, in order, up to its
timeout.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import BlockingConnectionPool
from redis.asyncio.connection import AbstractConnection


class QuickPool(BlockingConnectionPool):
    def quick_path(self) -> bool:
        """Whether this redis-py has what the quick way in relies on."""
        return all(
            hasattr(self, name)
            for name in ("_available_connections", "_in_use_connections", "_condition")
        ) and hasattr(self._condition, "_waiters")

    async def get_connection(
        self, command_name: Any = None, *keys: Any, **options: Any
    ) -> AbstractConnection:
        available = getattr(self, "_available_connections", None)
        if (
            available
            and not getattr(self, "_in_maintenance", False)
            # with commands waiting, the freed connection goes the blocking pool's way
            and not getattr(getattr(self, "_condition", None), "_waiters", True)
        ):
            connection: AbstractConnection = available.pop()
            self._in_use_connections.add(connection)
            try:
                await self.ensure_connection(connection)
            except BaseException:
                await self.release(connection)
                raise
            return connection
        return await super().get_connection()  # type: ignore[no-untyped-call,no-any-return]
