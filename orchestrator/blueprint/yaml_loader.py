"""YAML blueprints: the states, actions, conditions and transitions of the Python DSL, as data.

Example (``orchestrator/examples/greeting.yaml``, the twin of ``greeting.py`` beside it)::

    blueprint: greeting
    api_version: v1               # default v1
    api_endpoint: greeting        # default: the blueprint's name
    states:
      validate:
        start: true
        handlers:                 # guarded handlers, tried in order; the last may have no
          - when: {path: initial_data.name, op: matches, value: '\\S'}     # when (the default)
            action:
              dispatch_task:
                task_type: greet
                params: {name: "{{ initial_data.name }}"}
                transitions: {success: done, failure: failed}
                timeout: 30
          - action: {fail: {code: MISSING_FIELDS, message: initial_data.name is required}}
      done:
        end: true
        result: {greeting: "{{ context.greeting }}", job_id: "{{ job_id }}"}
      failed:
        end: true
        action: {fail: {code: GREETING_FAILED, message: the greet task failed}}

A state has ``start``/``end`` flags, an optional ``description``, and one of: ``action``,
``result`` (short for ``action: {finish: {result: ...}}``) or ``handlers`` (a list of
``{when, action | result}``). An end state with none of them finishes with no result.

Actions take the arguments of the ``Actions`` methods, by the same names
(``docs/yaml-blueprints.md`` lists them all).

Conditions are the JSON form of ``conditions.py``: ``{path, op, value}``, ``{all: [...]}``,
``{any: [...]}``, ``{not: {...}}``. Values may hold ``{{ path }}`` placeholders (see
``templates.py``). Each state compiles to generated handlers registered with
``Blueprint.add_state``, so a YAML blueprint is the same object as a Python one; its version
hashes a canonical JSON dump of each state. Every mistake is reported as ``file:line: state
'name': problem``, all states at once.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import yaml

from orchestrator.blueprint.conditions import All, AnyOf, Condition, Not, from_json
from orchestrator.blueprint.dsl import Blueprint, HandlerFunc
from orchestrator.blueprint.validate import reachable_from, state_problems
from orchestrator.blueprint.yaml_actions import ActionCompiler, Plan
from orchestrator.blueprint.yaml_nodes import Problem, Reader, line_of
from orchestrator.blueprint.yaml_routes import load_routes
from orchestrator.engine.actions import Actions
from orchestrator.errors import BlueprintError

SUFFIXES = (".yaml", ".yml")
TOP_KEYS = ("api_version", "api_endpoint", "description", "routes")
STATE_KEYS = ("start", "end", "description", "action", "result", "handlers")


def load_yaml(source: str | os.PathLike[str]) -> Blueprint:
    """Compile a YAML blueprint; ``BlueprintError`` lists every problem with its line.

    ``source`` is a path (a ``PathLike``, or a one-line string ending in ``.yaml``/``.yml``)
    or the YAML text itself.
    """
    if isinstance(source, str) and ("\n" in source or not source.endswith(SUFFIXES)):
        return _Compiler(source, "<yaml>").build()
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read blueprint file {path}: {exc}") from exc
    return _Compiler(text, str(path)).build()


@dataclass(frozen=True)
class _Handler:
    plan: Plan
    when: Condition | None
    targets: frozenset[str]
    edges: frozenset[tuple[str, str]]


@dataclass(frozen=True)
class _State:
    name: str
    start: bool
    end: bool
    handlers: list[_Handler]
    source: str
    """Canonical JSON of the state's YAML: what the blueprint's version hashes."""


def _generated(state: str, plan: Plan) -> HandlerFunc:
    """The handler a YAML state runs: gives the job's data to its plan."""

    async def handler(
        job_id: str,
        initial_data: dict[str, Any],
        results: dict[str, Any],
        context: dict[str, Any],
        state_history: list[Any],
        actions: Actions,
    ) -> None:
        data = {
            "initial_data": initial_data,
            "results": results,
            "context": context,
            "state_history": state_history,
            "job_id": job_id,
        }
        plan(data, actions)

    handler.__name__ = handler.__qualname__ = state  # what logs and tracebacks show
    return handler


class _Compiler:
    def __init__(self, text: str, filename: str) -> None:
        self.text = text
        self.filename = filename
        self.name = Path(filename).stem
        self.lines: dict[str, int] = {}
        """State name → line of its key."""
        self.states_line = 1

    def where(self, line: int, message: str, state: str | None = None) -> str:
        place = f"state {state!r}: " if state else ""
        return f"{self.filename}:{line}: {place}{message}"

    def build(self) -> Blueprint:
        loader = yaml.SafeLoader(self.text)
        try:
            try:
                return self._build(loader)
            except Problem as exc:
                raise BlueprintError(self.name, [self.where(exc.line, exc.message)]) from None
        finally:
            loader.dispose()

    def _build(self, loader: yaml.SafeLoader) -> Blueprint:
        root = self._compose(loader)
        reader = Reader(loader)
        top = reader.fields(root, "a blueprint file", ("blueprint", "states"), TOP_KEYS)
        self.name = reader.string(top["blueprint"], "blueprint")
        version = reader.string(top["api_version"], "api_version") if "api_version" in top else "v1"
        endpoint = (
            reader.string(top["api_endpoint"], "api_endpoint") if "api_endpoint" in top else None
        )
        if "description" in top:
            reader.string(top["description"], "description")
        try:
            bp = Blueprint(self.name, api_version=version, api_endpoint=endpoint)
        except ValueError as exc:
            raise Problem(line_of(top["blueprint"]), str(exc)) from None
        self.states_line = line_of(reader.mapping(root, "a blueprint file")["states"][0])
        states = reader.mapping(top["states"], "states")
        if not states:
            raise Problem(self.states_line, "states must not be empty")
        reader.states = frozenset(states)
        self.lines = {name: line_of(key) for name, (key, _) in states.items()}
        self._compile_states(bp, reader, {name: node for name, (_, node) in states.items()})
        if "routes" in top:  # extra routes in a client system's shapes (yaml_routes.py)
            bp.routes = load_routes(reader, top["routes"])
        return bp

    def _compose(self, loader: yaml.SafeLoader) -> yaml.Node:
        try:
            root = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark is not None else 1
            raise Problem(line, f"invalid YAML: {exc.problem or exc.context}") from None
        except yaml.YAMLError as exc:
            raise Problem(1, f"invalid YAML: {exc}") from None
        if root is None:
            raise Problem(1, "the file is empty")
        return root

    def _compile_states(self, bp: Blueprint, reader: Reader, states: dict[str, yaml.Node]) -> None:
        """Compile every state and check the graph, then raise once with every problem, in
        file order, as the Python loader does."""
        found: list[tuple[int, str]] = []
        compiled: list[_State] = []
        broken: dict[str, yaml.Node] = {}
        for name, node in states.items():
            try:
                compiled.append(self._state(reader, name, node))
            except Problem as exc:
                found.append((exc.line, self.where(exc.line, exc.message, name)))
                broken[name] = node
        self._add_states(bp, compiled)
        for name, node in broken.items():
            # A state that did not compile still takes part in the graph checks, leniently:
            # its flags as written, and every state its YAML names as a target, so that its
            # own mistake is not reported again as, say, an unreachable state after it.
            start, end = (_flag(reader, node, key) for key in ("start", "end"))
            targets = _named(node, frozenset(states))
            bp.add_state(
                name,
                _generated(name, _no_plan),
                start=start,
                end=end,
                targets=targets,
                dynamic=False,
                when=None,
                source="",
            )
        found += self._flag_problems(bp)
        found += self._graph_problems(bp, skip=frozenset(broken))
        if found:
            raise BlueprintError(self.name, [text for _, text in sorted(found, key=_line)])

    def _add_states(self, bp: Blueprint, compiled: list[_State]) -> None:
        for st in compiled:
            for h in st.handlers:
                bp.add_state(
                    st.name,
                    _generated(st.name, h.plan),
                    start=st.start,
                    end=st.end,
                    targets=h.targets,
                    dynamic=False,
                    when=h.when,
                    source=st.source,
                    edges=h.edges,
                )

    def _flag_problems(self, bp: Blueprint) -> list[tuple[int, str]]:
        starts = sorted(
            (s.name for s in bp.states.values() if s.start), key=lambda n: self.lines[n]
        )
        found: list[tuple[int, str]] = []
        if not starts:
            message = "no start state (mark one with 'start: true')"
            found.append((self.states_line, self.where(self.states_line, message)))
        elif len(starts) > 1:
            listed = ", ".join(f"{s!r} (line {self.lines[s]})" for s in starts)
            line = self.lines[starts[1]]
            found.append((line, self.where(line, f"more than one start state: {listed}")))
        if not any(st.end for st in bp.states.values()):
            message = "no end state (mark one with 'end: true')"
            found.append((self.states_line, self.where(self.states_line, message)))
        return found

    def _graph_problems(self, bp: Blueprint, skip: frozenset[str]) -> list[tuple[int, str]]:
        """The checks ``validate`` makes on a Python blueprint, each at the line of the state
        it is about; ``skip`` did not compile, and has its own problem already."""
        found: list[tuple[int, str]] = []
        for st in bp.states.values():
            if st.name not in skip:
                line = self.lines[st.name]
                found += [
                    (line, f"{self.filename}:{line}: {p}") for p in state_problems(st, bp.states)
                ]
        starts = [st.name for st in bp.states.values() if st.start]
        if len(starts) == 1:
            reached = reachable_from(bp, starts[0])
            for name in bp.states.keys() - reached:
                line = self.lines[name]
                message = f"state {name!r} is unreachable from the start state {starts[0]!r}"
                found.append((line, f"{self.filename}:{line}: {message}"))
        return found

    def _state(self, reader: Reader, name: str, node: yaml.Node) -> _State:
        fields = reader.fields(node, "the state", optional=STATE_KEYS)
        start = reader.boolean(fields["start"], "start") if "start" in fields else False
        end = reader.boolean(fields["end"], "end") if "end" in fields else False
        if "description" in fields:
            reader.string(fields["description"], "description")
        given = [k for k in ("action", "result", "handlers") if k in fields]
        if len(given) > 1:
            both = " and ".join(given)
            raise Problem(self.lines[name], f"give one of action, result or handlers, not {both}")
        compiler = ActionCompiler(reader)
        if not given:
            if not end:
                raise Problem(
                    self.lines[name], "needs an action, a result or handlers (or end: true)"
                )
            plan = compiler.compile(_finish_node(node))
            handlers = [_Handler(plan, None, frozenset(), frozenset())]
        elif given[0] == "handlers":
            handlers = self._handlers(reader, compiler, fields["handlers"])
        else:
            handlers = [self._handler(reader, compiler, node, fields)]
        source = orjson.dumps(reader.value(node, "the state"), option=orjson.OPT_SORT_KEYS)
        return _State(name, start, end, handlers, source.decode())

    def _handlers(
        self, reader: Reader, compiler: ActionCompiler, node: yaml.Node
    ) -> list[_Handler]:
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            raise Problem(line_of(node), "handlers must be a non-empty list of {when, action}")
        out = []
        for i, item in enumerate(node.value):
            fields = reader.fields(item, f"handlers[{i}]", optional=("when", "action", "result"))
            handler = self._handler(reader, compiler, item, fields)
            if handler.when is None and i != len(node.value) - 1:
                raise Problem(
                    line_of(item),
                    f"handlers[{i}] has no 'when'; only the last handler may (it is the default)",
                )
            out.append(handler)
        return out

    def _handler(
        self,
        reader: Reader,
        compiler: ActionCompiler,
        node: yaml.Node,
        fields: dict[str, yaml.Node],
    ) -> _Handler:
        when = self._condition(reader, fields["when"], "when") if "when" in fields else None
        if ("action" in fields) == ("result" in fields):
            raise Problem(line_of(node), "give either an action or a result")
        if "action" in fields:
            plan = compiler.compile(fields["action"])
        else:
            plan = compiler.compile(_finish_node(node, fields["result"]))
        return _Handler(plan, when, frozenset(compiler.targets), frozenset(compiler.edges))

    def _condition(self, reader: Reader, node: yaml.Node, what: str) -> Condition:
        """The JSON form of ``conditions.from_json``, read part by part to name each line."""
        items = reader.mapping(node, what)
        combinators = [k for k in ("all", "any", "not") if k in items]
        if combinators:
            if len(items) != 1:
                raise Problem(
                    line_of(node), f"{what}: {combinators[0]!r} stands alone in its mapping"
                )
            key = combinators[0]
            sub = items[key][1]
            if key == "not":
                return Not(self._condition(reader, sub, f"{what}.not"))
            if not isinstance(sub, yaml.SequenceNode) or not sub.value:
                raise Problem(line_of(sub), f"{what}.{key} needs a non-empty list of conditions")
            parts = tuple(
                self._condition(reader, p, f"{what}.{key}[{i}]") for i, p in enumerate(sub.value)
            )
            return All(parts) if key == "all" else AnyOf(parts)
        reader.fields(node, what, ("path", "op"), ("value",))
        raw = reader.value(node, what)
        try:
            cond = from_json(raw)
        except (ValueError, re.error) as exc:
            raise Problem(line_of(node), f"bad condition: {exc}") from None
        reader.check_paths(node, cond.paths, "condition on")
        return cond


def _line(problem: tuple[int, str]) -> int:
    return problem[0]


def _no_plan(data: Mapping[str, Any], actions: Actions) -> None:
    """What a state that did not compile would run: never, since the file is refused."""


def _flag(reader: Reader, node: yaml.Node, key: str) -> bool:
    """``start``/``end`` of a state that did not compile, if it reads as ``true``."""
    if not isinstance(node, yaml.MappingNode):
        return False
    return any(
        isinstance(k, yaml.ScalarNode) and k.value == key and reader.construct(v) is True
        for k, v in node.value
    )


def _named(node: yaml.Node, states: frozenset[str]) -> set[str]:
    """Every state name written as a value anywhere under ``node``."""
    if isinstance(node, yaml.ScalarNode):
        return {node.value} & states
    if isinstance(node, yaml.SequenceNode):
        return set().union(*(_named(item, states) for item in node.value))
    if isinstance(node, yaml.MappingNode):
        return set().union(*(_named(value, states) for _, value in node.value))
    return set()


def _finish_node(at: yaml.Node, result: yaml.Node | None = None) -> yaml.Node:
    """``{finish: {result: ...}}`` as nodes, for the ``result:`` shorthand."""
    key = yaml.ScalarNode("tag:yaml.org,2002:str", "finish", at.start_mark, at.end_mark)
    args: list[tuple[yaml.Node, yaml.Node]] = []
    if result is not None:
        result_key = yaml.ScalarNode(
            "tag:yaml.org,2002:str", "result", result.start_mark, result.end_mark
        )
        args.append((result_key, result))
    value = yaml.MappingNode("tag:yaml.org,2002:map", args, at.start_mark, at.end_mark)
    return yaml.MappingNode("tag:yaml.org,2002:map", [(key, value)], at.start_mark, at.end_mark)
