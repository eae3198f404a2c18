"""Reading composed YAML nodes into plain values, with the line of whatever is wrong.

``yaml.safe_load`` forgets where each value came from; the YAML loader needs it to point at the
line of a mistake. So it composes the node tree and reads it through ``Reader``, which raises
``Problem(line, message)`` and only ever hands out JSON values (a date, a set or a non-string
key is an error with a hint, not a surprise at run time).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

import yaml

from orchestrator.blueprint import templates

JSON_TYPES = (dict, list, str, int, float, bool, type(None))


class Problem(Exception):
    """One mistake in the file, at ``line`` (1-based)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def line_of(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def _type_name(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return f"{node.value!r}"


class Reader:
    """Turns nodes into values for one file; ``states`` are the file's state names, for
    checking ``results.<state>`` paths."""

    def __init__(self, loader: yaml.SafeLoader, states: Collection[str] = ()) -> None:
        self._loader = loader
        self.states = states

    def construct(self, node: yaml.Node) -> Any:
        try:
            return self._loader.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            raise Problem(line_of(node), f"cannot read value: {exc}") from None

    def mapping(self, node: yaml.Node, what: str) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        """``what``'s keys → (key node, value node); keys must be distinct strings."""
        if not isinstance(node, yaml.MappingNode):
            raise Problem(line_of(node), f"{what} must be a mapping, not {_type_name(node)}")
        self._loader.flatten_mapping(node)  # resolves ``<<: *anchor`` merge keys
        out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:
            key = self.construct(key_node)
            if not isinstance(key, str):
                raise Problem(
                    line_of(key_node),
                    f"key {key_node.value!r} in {what} reads as {type(key).__name__}; "
                    "quote it to make it a string",
                )
            if key in out:
                raise Problem(line_of(key_node), f"duplicate key {key!r} in {what}")
            out[key] = (key_node, value_node)
        return out

    def fields(
        self,
        node: yaml.Node,
        what: str,
        required: Collection[str] = (),
        optional: Collection[str] = (),
    ) -> dict[str, yaml.Node]:
        """The value nodes of a mapping with a fixed set of keys; names unknown and missing."""
        items = self.mapping(node, what)
        allowed = [*required, *optional]
        for key, (key_node, _) in items.items():
            if key not in allowed:
                raise Problem(
                    line_of(key_node),
                    f"unknown key {key!r} in {what} (allowed: {', '.join(allowed)})",
                )
        missing = [k for k in required if k not in items]
        if missing:
            raise Problem(line_of(node), f"{what} needs {', '.join(repr(k) for k in missing)}")
        return {key: value for key, (_, value) in items.items()}

    def value(self, node: yaml.Node, what: str, *, templated: bool = False) -> Any:
        """Any JSON value; with ``templated``, its ``{{ path }}`` placeholders are checked."""
        self._check(node, what, templated, set())
        return self.construct(node)

    def _check(self, node: yaml.Node, what: str, templated: bool, seen: set[int]) -> None:
        if id(node) in seen:  # an alias met again (or a recursive one): checked already
            return
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key, (_, item) in self.mapping(node, what).items():
                self._check(item, f"{what}.{key}", templated, seen)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                self._check(item, f"{what}[{i}]", templated, seen)
        built = self.construct(node)
        if not isinstance(built, JSON_TYPES):
            raise Problem(
                line_of(node),
                f"{what} reads as {type(built).__name__}, which is not JSON; quote it",
            )
        if templated and isinstance(built, str):
            self.check_paths(node, lambda: templates.paths(built))

    def check_paths(
        self, node: yaml.Node, find: Callable[[], Collection[str]], label: str = "placeholder reads"
    ) -> None:
        """Run ``find`` (which may raise ``ValueError``) and check each data path it returns:
        ``results.<state>`` must name a state of the file (``label`` says what reads it)."""
        try:
            found = find()
        except (ValueError, TypeError) as exc:
            raise Problem(line_of(node), str(exc)) from None
        for path in found:
            parts = path.split(".")
            if parts[0] == "results" and len(parts) > 1 and parts[1] not in self.states:
                raise Problem(line_of(node), f"{label} missing state {parts[1]!r} ({path})")

    def string(self, node: yaml.Node, what: str) -> str:
        built = self.construct(node)
        if not isinstance(built, str) or not built:
            raise Problem(line_of(node), f"{what} must be a non-empty string")
        return built

    def boolean(self, node: yaml.Node, what: str) -> bool:
        built = self.construct(node)
        if not isinstance(built, bool):
            raise Problem(line_of(node), f"{what} must be true or false")
        return built

    def number(self, node: yaml.Node, what: str, *, minimum: float = 0.0) -> float:
        built = self.construct(node)
        if isinstance(built, bool) or not isinstance(built, int | float) or built < minimum:
            raise Problem(line_of(node), f"{what} must be a number >= {minimum:g}")
        return float(built)

    def integer(self, node: yaml.Node, what: str, low: int, high: int | None = None) -> int:
        built = self.construct(node)
        bad = isinstance(built, bool) or not isinstance(built, int)
        if bad or built < low or (high is not None and built > high):
            span = f"{low}..{high}" if high is not None else f">= {low}"
            raise Problem(line_of(node), f"{what} must be a whole number {span}")
        return int(built)

    def strings(self, node: yaml.Node, what: str) -> list[str]:
        if not isinstance(node, yaml.SequenceNode):
            raise Problem(line_of(node), f"{what} must be a list, not {_type_name(node)}")
        return [self.string(item, f"{what}[{i}]") for i, item in enumerate(node.value)]

    def state(self, node: yaml.Node, what: str) -> str:
        """A state name that must exist in the file."""
        name = self.string(node, what)
        if name not in self.states:
            known = ", ".join(sorted(self.states))
            raise Problem(line_of(node), f"{what} goes to unknown state {name!r} (states: {known})")
        return name

    def state_map(self, node: yaml.Node, what: str, *, empty: bool = False) -> dict[str, str]:
        """``{status or decision: state}``; every state must exist."""
        items = self.mapping(node, what)
        if not items and not empty:
            raise Problem(line_of(node), f"{what} must not be empty")
        return {key: self.state(value, f"{what}.{key}") for key, (_, value) in items.items()}

    def choice(self, node: yaml.Node, what: str, allowed: Collection[str]) -> str:
        built = self.construct(node)
        if not isinstance(built, str) or built not in allowed:
            raise Problem(line_of(node), f"{what} must be one of {', '.join(allowed)}")
        return built
