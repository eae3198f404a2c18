"""Declarative guards on a job's data, for handlers that run only when they match.

    from orchestrator import where

    big_and_new = (where("initial_data.amount") > 1000) & ~where("context.vip").exists()

    @bp.handler("route", when=big_and_new)
    async def big(actions): ...

    @bp.handler("route")            # the default: runs when no guard matched
    async def normal(actions): ...

Paths start at ``initial_data``, ``results`` (by state), ``context`` (all task results merged)
or ``state_history``. A missing key, or values that cannot be compared, make a comparison
false instead of raising. The JSON form (used by YAML blueprints) is
``{"path": "initial_data.amount", "op": "gt", "value": 1000}``, ``{"all": [...]}``,
``{"any": [...]}`` and ``{"not": {...}}``.
"""

from __future__ import annotations

import operator
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

ROOTS = ("initial_data", "results", "context", "state_history", "job_id")
_MISSING = object()


def _compare(fn: Callable[[Any, Any], Any]) -> Callable[[Any, Any], bool]:
    def safe(left: Any, right: Any) -> bool:
        try:
            return bool(fn(left, right))
        except TypeError:
            return False

    return safe


def _in(left: Any, right: Any) -> bool:
    return left in right if isinstance(right, list | tuple | set | str | dict) else False


def _matches(left: Any, right: Any) -> bool:
    return isinstance(left, str) and re.search(right, left) is not None


OPS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": _compare(operator.eq),
    "ne": _compare(operator.ne),
    "lt": _compare(operator.lt),
    "le": _compare(operator.le),
    "gt": _compare(operator.gt),
    "ge": _compare(operator.ge),
    "in": _in,
    "not_in": lambda left, right: not _in(left, right),
    "matches": _matches,
    "exists": lambda left, right: True,
}


class Condition(ABC):
    @abstractmethod
    def test(self, data: Mapping[str, Any]) -> bool:
        """Whether the job's data matches."""

    @abstractmethod
    def to_json(self) -> dict[str, Any]:
        """The JSON form, as YAML blueprints write it."""

    @abstractmethod
    def paths(self) -> set[str]:
        """Every data path the condition reads."""

    def __and__(self, other: Condition) -> Condition:
        return All((self, other))

    def __or__(self, other: Condition) -> Condition:
        return AnyOf((self, other))

    def __invert__(self) -> Condition:
        return Not(self)


def resolve(data: Mapping[str, Any], path: str) -> Any:
    value: Any = data
    for part in path.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif (
            isinstance(value, list)
            and part.lstrip("-").isdigit()
            and -len(value) <= int(part) < len(value)
        ):
            value = value[int(part)]
        else:
            return _MISSING
    return value


@dataclass(frozen=True)
class Compare(Condition):
    path: str
    op: str
    value: Any = None

    def __post_init__(self) -> None:
        if self.op not in OPS:
            raise ValueError(f"unknown condition operator {self.op!r} (use {', '.join(OPS)})")
        if self.path.split(".")[0] not in ROOTS:
            raise ValueError(f"condition path {self.path!r} must start with one of {ROOTS}")
        if self.op == "matches":
            re.compile(self.value)

    def test(self, data: Mapping[str, Any]) -> bool:
        found = resolve(data, self.path)
        if found is _MISSING:
            return False
        return OPS[self.op](found, self.value)

    def to_json(self) -> dict[str, Any]:
        out = {"path": self.path, "op": self.op}
        return out if self.op == "exists" else {**out, "value": self.value}

    def paths(self) -> set[str]:
        return {self.path}


@dataclass(frozen=True)
class All(Condition):
    parts: tuple[Condition, ...]

    def test(self, data: Mapping[str, Any]) -> bool:
        return all(p.test(data) for p in self.parts)

    def to_json(self) -> dict[str, Any]:
        return {"all": [p.to_json() for p in self.parts]}

    def paths(self) -> set[str]:
        return set().union(*(p.paths() for p in self.parts))


@dataclass(frozen=True)
class AnyOf(Condition):
    parts: tuple[Condition, ...]

    def test(self, data: Mapping[str, Any]) -> bool:
        return any(p.test(data) for p in self.parts)

    def to_json(self) -> dict[str, Any]:
        return {"any": [p.to_json() for p in self.parts]}

    def paths(self) -> set[str]:
        return set().union(*(p.paths() for p in self.parts))


@dataclass(frozen=True)
class Not(Condition):
    part: Condition

    def test(self, data: Mapping[str, Any]) -> bool:
        return not self.part.test(data)

    def to_json(self) -> dict[str, Any]:
        return {"not": self.part.to_json()}

    def paths(self) -> set[str]:
        return self.part.paths()


class where:
    """Start a condition on a path of the job's data."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __eq__(self, value: object) -> Condition:  # type: ignore[override]
        return Compare(self.path, "eq", value)

    def __ne__(self, value: object) -> Condition:  # type: ignore[override]
        return Compare(self.path, "ne", value)

    def __lt__(self, value: Any) -> Condition:
        return Compare(self.path, "lt", value)

    def __le__(self, value: Any) -> Condition:
        return Compare(self.path, "le", value)

    def __gt__(self, value: Any) -> Condition:
        return Compare(self.path, "gt", value)

    def __ge__(self, value: Any) -> Condition:
        return Compare(self.path, "ge", value)

    def __hash__(self) -> int:
        return hash(self.path)

    def is_in(self, values: list[Any] | tuple[Any, ...]) -> Condition:
        return Compare(self.path, "in", list(values))

    def not_in(self, values: list[Any] | tuple[Any, ...]) -> Condition:
        return Compare(self.path, "not_in", list(values))

    def matches(self, pattern: str) -> Condition:
        return Compare(self.path, "matches", pattern)

    def exists(self) -> Condition:
        return Compare(self.path, "exists")


def from_json(obj: Any) -> Condition:
    """The JSON/YAML form of a condition; ``ValueError`` names what is wrong."""
    if not isinstance(obj, Mapping):
        raise ValueError(f"a condition must be a mapping, got {type(obj).__name__}")
    if "all" in obj or "any" in obj:
        key = "all" if "all" in obj else "any"
        parts = obj[key]
        if not isinstance(parts, list) or not parts:
            raise ValueError(f"'{key}' needs a non-empty list of conditions")
        built = tuple(from_json(p) for p in parts)
        return All(built) if key == "all" else AnyOf(built)
    if "not" in obj:
        return Not(from_json(obj["not"]))
    if "path" not in obj or "op" not in obj:
        raise ValueError("a comparison needs 'path' and 'op' (and 'value')")
    return Compare(str(obj["path"]), str(obj["op"]), obj.get("value"))
