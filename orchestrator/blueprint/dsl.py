"""The Python DSL: ``Blueprint`` and ``@bp.handler``.

Example::

    bp = Blueprint("greeting", api_version="v1")

    @bp.handler(start=True)
    async def start(initial_data, actions):
        actions.dispatch_task("greet", {"name": initial_data["name"]},
                              transitions={"success": "done"})

    @bp.handler(end=True)
    async def done(greeting):
        return {"greeting": greeting}
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from orchestrator.blueprint.analyze import find_targets, handler_source

Handler = Callable[..., Awaitable[Any]]
H = TypeVar("H", bound=Handler)


@dataclass(frozen=True)
class State:
    name: str
    handler: Handler
    start: bool
    end: bool
    targets: frozenset[str]
    """States this one can move to (found in its source, plus ``goes_to``)."""
    dynamic: bool
    """A target is computed at run time and was not declared with ``goes_to``."""
    params: tuple[inspect.Parameter, ...]


class Blueprint:
    """A named state machine; each state is an async handler that chooses one action."""

    def __init__(
        self, name: str, *, api_version: str = "v1", api_endpoint: str | None = None
    ) -> None:
        if not name or "/" in name:
            raise ValueError(f"blueprint name must be non-empty and without '/': {name!r}")
        self.name = name
        self.api_version = api_version
        self.api_endpoint = (api_endpoint or name).strip("/")
        self.states: dict[str, State] = {}
        self._version: str | None = None

    def handler(
        self,
        state: str | None = None,
        *,
        start: bool = False,
        end: bool = False,
        goes_to: Iterable[str] = (),
    ) -> Callable[[H], H]:
        """Register ``func`` as the handler of ``state`` (default: the function's name)."""

        def register(func: H) -> H:
            name = state or func.__name__
            if name in self.states:
                raise ValueError(f"blueprint {self.name!r}: state {name!r} is defined twice")
            checked: Any = func  # a TypeGuard would narrow ``func`` away from H
            if not inspect.iscoroutinefunction(checked):
                raise TypeError(f"blueprint {self.name!r}: handler {name!r} must be async def")
            found = find_targets(func)
            declared = set(goes_to)
            self.states[name] = State(
                name=name,
                handler=func,
                start=start,
                end=end,
                targets=frozenset(found.states | declared),
                dynamic=found.dynamic and not declared,
                params=tuple(inspect.signature(func).parameters.values()),
            )
            self._version = None
            return func

        return register

    @property
    def start_state(self) -> str:
        starts = [s.name for s in self.states.values() if s.start]
        if len(starts) != 1:
            raise ValueError(f"blueprint {self.name!r} needs exactly one start state")
        return starts[0]

    @property
    def version(self) -> str:
        """Content hash of the graph and handler code: what a job records it started on."""
        if self._version is None:
            digest = hashlib.sha256(self.name.encode())
            for st in sorted(self.states.values(), key=lambda s: s.name):
                digest.update(f"\0{st.name}|{st.start}|{st.end}|{sorted(st.targets)}".encode())
                digest.update(handler_source(st.handler).encode())
            self._version = digest.hexdigest()[:12]
        return self._version

    def validate(self) -> None:
        """Raise ``BlueprintError`` listing every problem of the graph."""
        from orchestrator.blueprint.validate import validate

        validate(self)

    def to_dot(self) -> str:
        from orchestrator.blueprint.graph import to_dot

        return to_dot(self)
