"""Loads the Lua scripts once per client (``register_script`` runs EVALSHA, reloading on
NOSCRIPT), never per request.

A script may share code with others: a line ``-- @include lib/<name>.lua`` is replaced by that
fragment (``storage/lua/lib/``) when the script is read, each fragment at most once per script
(a fragment may include another).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

from redis.commands.core import AsyncScript

_INCLUDE = re.compile(r"^-- @include (lib/[A-Za-z0-9_]+\.lua)[ \t]*$", re.MULTILINE)


def source(name: str) -> str:
    """The script ``storage/lua/<name>.lua`` with its fragments expanded."""
    lua = resources.files("orchestrator.storage") / "lua"
    included: set[str] = set()

    def expand(text: str) -> str:
        def fragment(found: re.Match[str]) -> str:
            path = found.group(1)
            if path in included:
                return ""
            included.add(path)
            return expand((lua / path).read_text()).rstrip("\n")

        return _INCLUDE.sub(fragment, text)

    return expand((lua / f"{name}.lua").read_text())


@dataclass(frozen=True)
class Scripts:
    apply: AsyncScript
    lease: AsyncScript
    claim: AsyncScript
    claim_lease: AsyncScript
    take_due: AsyncScript
    promote: AsyncScript
    branch_result: AsyncScript
    watch: AsyncScript
    rate_limit: AsyncScript
    reschedule: AsyncScript
    defer: AsyncScript

    @classmethod
    def register(cls, redis: Any) -> Scripts:
        return cls(
            **{name: redis.register_script(source(name)) for name in cls.__dataclass_fields__}
        )

    async def load(self, redis: Any) -> None:
        """SCRIPT LOAD every script: at start-up, and after Redis forgot them."""
        for name in self.__dataclass_fields__:
            script: AsyncScript = getattr(self, name)
            script.sha = await redis.script_load(script.script)
