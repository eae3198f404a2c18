"""A hook for writes that follow a job's commit on keys of other slots."""

from __future__ import annotations

from typing import Any, Protocol


class CommitExtra(Protocol):
    """Writes on other keys that follow a job write (the human inbox, ``human/index.py``):
    ``before`` adds commands ahead of the guarded write (returns how many), ``after`` adds
    those of the second round trip, made only when the write won."""

    def before(self, pipe: Any) -> int: ...

    def after(self, pipe: Any) -> None: ...
