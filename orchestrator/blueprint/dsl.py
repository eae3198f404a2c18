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

A state may have several handlers guarded by ``when=`` conditions (see ``conditions.py``):
the first whose condition matches runs, else the one without ``when``.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import orjson

from orchestrator.blueprint.analyze import find_targets, handler_source
from orchestrator.blueprint.conditions import Condition
from orchestrator.blueprint.routes import Route
from orchestrator.engine.actions import ActionError
from orchestrator.engine.model import Job

HandlerFunc = Callable[..., Awaitable[Any]]
H = TypeVar("H", bound=HandlerFunc)


@dataclass(frozen=True)
class Handler:
    func: HandlerFunc
    params: tuple[inspect.Parameter, ...]
    when: Condition | None
    source: str
    """What the blueprint's version hashes: the code, or the YAML that generated it."""
    edges: frozenset[tuple[str, str]] = frozenset()
    """``(state, label)`` of the arrows this handler draws (label: the outcome, or empty)."""


@dataclass(frozen=True)
class State:
    name: str
    handlers: tuple[Handler, ...]
    """Guarded handlers first, in the order declared; the default (no ``when``) last."""
    start: bool
    end: bool
    targets: frozenset[str]
    """States this one can move to (found in its source, plus ``goes_to``)."""
    dynamic: bool
    """A target is computed at run time and was not declared with ``goes_to``."""

    @property
    def handler(self) -> HandlerFunc:
        return self.handlers[-1].func

    @property
    def params(self) -> tuple[inspect.Parameter, ...]:
        return self.handlers[-1].params

    def pick(self, job: Job) -> Handler:
        """The first handler whose guard matches the job's data, else the default."""
        if len(self.handlers) == 1 and self.handlers[0].when is None:
            return self.handlers[0]
        data = {
            "initial_data": job.initial_data,
            "results": job.results,
            "context": job.context,
            "state_history": job.state_history,
            "job_id": job.id,
        }
        for handler in self.handlers:
            if handler.when is None or handler.when.test(data):
                return handler
        raise ActionError("NO_MATCHING_GUARD", f"no handler of {self.name!r} matches the job")


def _code_of(func: HandlerFunc) -> str:
    """What a handler's version covers: its syntax tree, so comments and layout don't count
    (a cosmetic edit must not fail running jobs with BLUEPRINT_CHANGED)."""
    source = handler_source(func)
    try:
        return ast.dump(ast.parse(source))
    except SyntaxError:
        return source


class Blueprint:
    """A named state machine; each state is an async handler that chooses one action."""

    def __init__(
        self,
        name: str,
        *,
        api_version: str = "v1",
        api_endpoint: str | None = None,
        routes: Iterable[Route] = (),
    ) -> None:
        if not name or "/" in name:
            raise ValueError(f"blueprint name must be non-empty and without '/': {name!r}")
        self.name = name
        self.api_version = api_version
        self.api_endpoint = (api_endpoint or name).strip("/")
        self.states: dict[str, State] = {}
        self._version: str | None = None
        # Extra routes in a client system's shapes (``routes.py``); they do not change how a
        # job runs, so they are not part of the version.
        self.routes: list[Route] = list(routes)

    def route(self, route: Route) -> Route:
        """Declare an extra route (``StartRoute``, ``ActionRoute``, ``ReadRoute``)."""
        self.routes.append(route)
        return route

    def handler(
        self,
        state: str | None = None,
        *,
        start: bool = False,
        end: bool = False,
        goes_to: Iterable[str] = (),
        when: Condition | None = None,
    ) -> Callable[[H], H]:
        """Register ``func`` as a handler of ``state`` (default: the function's name)."""

        def register(func: H) -> H:
            checked: Any = func  # a TypeGuard would narrow ``func`` away from H
            name = state or func.__name__
            if not inspect.iscoroutinefunction(checked):
                raise TypeError(f"blueprint {self.name!r}: handler {name!r} must be async def")
            found = find_targets(func)
            if found.problems:
                raise ValueError(
                    f"blueprint {self.name!r}: handler {name!r}: {'; '.join(found.problems)}"
                )
            self.add_state(
                name,
                func,
                start=start,
                end=end,
                targets=found.states | set(goes_to),
                dynamic=found.dynamic and not goes_to,
                when=when,
                source=_code_of(func),
                edges=found.edges,
            )
            return func

        return register

    def add_state(
        self,
        name: str,
        func: HandlerFunc,
        *,
        start: bool,
        end: bool,
        targets: Iterable[str],
        dynamic: bool,
        when: Condition | None,
        source: str,
        edges: Iterable[tuple[str, str]] = (),
    ) -> None:
        """Add a handler to the graph; the decorator and the YAML loader both end here.

        ``edges`` labels some of ``targets`` for the drawing; the others get a bare arrow."""
        params = tuple(inspect.signature(func).parameters.values())
        handler = Handler(func, params, when, source, frozenset(edges))
        existing = self.states.get(name)
        if existing is None:
            self.states[name] = State(name, (handler,), start, end, frozenset(targets), dynamic)
        else:
            self.states[name] = self._merge(existing, handler, start, end, targets, dynamic)
        self._version = None

    def _merge(
        self,
        st: State,
        handler: Handler,
        start: bool,
        end: bool,
        targets: Iterable[str],
        dynamic: bool,
    ) -> State:
        defaults = [h for h in st.handlers if h.when is None]
        if handler.when is None and defaults:
            raise ValueError(
                f"blueprint {self.name!r}: state {st.name!r} is defined twice "
                "(give the extra handlers a when= condition)"
            )
        guarded = [h for h in st.handlers if h.when is not None]
        if handler.when is not None:
            guarded.append(handler)
        else:
            defaults = [handler]
        return replace(
            st,
            handlers=(*guarded, *defaults),
            start=st.start or start,
            end=st.end or end,
            targets=st.targets | frozenset(targets),
            dynamic=st.dynamic or dynamic,
        )

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
                for h in st.handlers:
                    guard = orjson.dumps(h.when.to_json()) if h.when else b"-"
                    digest.update(guard + h.source.encode())
            self._version = digest.hexdigest()[:12]
        return self._version

    def validate(self) -> None:
        """Raise ``BlueprintError`` listing every problem of the graph."""
        from orchestrator.blueprint.validate import validate

        validate(self)

    def to_dot(self) -> str:
        from orchestrator.blueprint.graph import to_dot

        return to_dot(self)
