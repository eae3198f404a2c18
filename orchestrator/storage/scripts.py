"""Loads the Lua scripts once per client (``register_script`` runs EVALSHA, reloading on
NOSCRIPT), never per request."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any

from redis.commands.core import AsyncScript


def _source(name: str) -> str:
    return (resources.files("orchestrator.storage") / "lua" / f"{name}.lua").read_text()


@dataclass(frozen=True)
class Scripts:
    apply: AsyncScript
    lease: AsyncScript
    claim: AsyncScript
    take_due: AsyncScript
    promote: AsyncScript
    branch_result: AsyncScript
    watch: AsyncScript
    rate_limit: AsyncScript
    reschedule: AsyncScript

    @classmethod
    def register(cls, redis: Any) -> Scripts:
        return cls(
            **{name: redis.register_script(_source(name)) for name in cls.__dataclass_fields__}
        )

    async def load(self, redis: Any) -> None:
        """SCRIPT LOAD every script: at start-up, and after Redis forgot them."""
        for name in self.__dataclass_fields__:
            script: AsyncScript = getattr(self, name)
            script.sha = await redis.script_load(script.script)
