"""The actions a YAML state may declare, compiled to plans.

A plan is what a generated handler runs: it fills the action's ``{{ path }}`` placeholders from
the job's data and calls the same ``Actions`` method a Python handler would, with the same
argument names. So the two forms cannot drift apart: the engine only ever sees ``Actions``.

Placeholders are allowed where data flows (task ``params``, child ``initial_data``, a ``fail``
message, a ``finish`` result), never in what shapes the graph (task types, states, timeouts),
which must be known when the file loads.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import yaml

from orchestrator.blueprint import templates
from orchestrator.blueprint.analyze import edge_label
from orchestrator.blueprint.yaml_nodes import Problem, Reader, line_of
from orchestrator.engine.actions import FAILURE_POLICIES, ActionError, Actions
from orchestrator.engine.model import RetryPolicy

Plan = Callable[[Mapping[str, Any], Actions], None]
"""Runs one action against a job's data (by root: ``initial_data``, ``results``, ...)."""

TASK_OPTIONS = ("params", "timeout", "retries", "priority", "retry_policy", "requires")
"""What a task of ``dispatch_parallel`` may set, as in ``Actions.dispatch_parallel``."""

HUMAN_OPTIONS: tuple[str, ...] = ("role", "assignee", "title", "instructions", "fields")
HUMAN_OPTIONS += ("due_in", "escalations", "summary")
"""What ``await_human`` takes besides decisions and timeout; all but ``fields`` templated."""

SHAPES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "dispatch_task": (
        ("task_type", "transitions"),
        (*TASK_OPTIONS, "dispatch_timeout", "catch", "result_schema"),
    ),
    "dispatch_parallel": (("tasks", "aggregate_into"), ("failure_policy",)),
    "await_human": (("decisions",), ("timeout", "on_timeout", *HUMAN_OPTIONS)),
    "run_blueprint": (("name", "transitions"), ("initial_data",)),
    "fail": (("code",), ("message",)),
    "finish": ((), ("result",)),
}
"""Action name → (required keys, optional keys); ``go_to`` takes a state name instead."""

ACTION_NAMES = ("go_to", *SHAPES)


class ActionCompiler:
    """Compiles action nodes of one file; ``targets`` collects the states the last one names,
    ``edges`` the same states with the outcome that leads to each (as ``analyze`` finds them)."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self.targets: set[str] = set()
        self.edges: set[tuple[str, str]] = set()
        self._fields: dict[str, Callable[[yaml.Node, str], Any]] = {
            "task_type": reader.string,
            "name": reader.string,
            "code": reader.string,
            "params": self._payload,
            "initial_data": self._payload,
            "message": self._message,
            "result": lambda node, what: reader.value(node, what, templated=True),
            "transitions": self._states,
            "decisions": self._states,
            "catch": lambda node, what: self._states(node, what, empty=True),
            "aggregate_into": self._state,
            "on_timeout": self._state,
            "timeout": reader.number,
            "dispatch_timeout": reader.number,
            "retries": lambda node, what: reader.integer(node, what, 0),
            "priority": lambda node, what: reader.integer(node, what, 0, 9),
            "retry_policy": self._retry_policy,
            "result_schema": self._schema,
            "requires": self._requires,
            "failure_policy": lambda node, what: reader.choice(node, what, FAILURE_POLICIES),
            "tasks": self._tasks,
            **{key: self._templated for key in HUMAN_OPTIONS},
            "fields": self._schema,
        }

    def compile(self, node: yaml.Node, what: str = "action") -> Plan:
        """The plan of ``{name: arguments}``; the states it moves to are in ``targets``."""
        self.targets = set()
        self.edges = set()
        items = self.reader.mapping(node, what)
        if len(items) != 1:
            raise Problem(
                line_of(node),
                f"{what} must have exactly one key, the action's name ({', '.join(ACTION_NAMES)})",
            )
        [(name, (key_node, args))] = items.items()
        if name == "go_to":
            plan = _go_to(self._state(args, "go_to"))
        elif name == "finish" and self.reader.construct(args) is None:
            plan = _finish({})  # ``finish:`` alone: end with no result
        elif name in SHAPES:
            required, optional = SHAPES[name]
            fields = self.reader.fields(args, name, required, optional)
            values = {
                key: self._fields[key](value, f"{name}.{key}") for key, value in fields.items()
            }
            plan = _PLANS[name](values)
        else:
            raise Problem(
                line_of(key_node), f"unknown action {name!r} (use {', '.join(ACTION_NAMES)})"
            )
        try:  # the checks Actions makes at run time (priority, on_timeout, ...), made now
            plan({}, Actions())
        except ActionError as exc:
            raise Problem(line_of(key_node), f"{name}: {exc.message}") from None
        return plan

    def _state(self, node: yaml.Node, what: str) -> str:
        name = self.reader.state(node, what)
        self.targets.add(name)
        self.edges.add((name, edge_label(what.rsplit(".", 1)[-1])))
        return name

    def _states(self, node: yaml.Node, what: str, *, empty: bool = False) -> dict[str, str]:
        found = self.reader.state_map(node, what, empty=empty)
        self.targets.update(found.values())
        kind = what.rsplit(".", 1)[-1]
        self.edges.update((state, edge_label(kind, key)) for key, state in found.items())
        return found

    def _payload(self, node: yaml.Node, what: str) -> Any:
        found = self.reader.value(node, what, templated=True)
        if not isinstance(found, dict) and not templates.is_whole(found):
            raise Problem(line_of(node), f"{what} must be a mapping or one {{{{ path }}}}")
        return found

    def _message(self, node: yaml.Node, what: str) -> Any:
        found = self.reader.value(node, what, templated=True)
        if not isinstance(found, str):
            raise Problem(line_of(node), f"{what} must be a string")
        return found

    def _templated(self, node: yaml.Node, what: str) -> Any:
        """A value the handler would compute: rendered from the job's data when it runs;
        ``Actions.await_human`` then checks it as it checks a Python handler's."""
        return self.reader.value(node, what, templated=True)

    def _schema(self, node: yaml.Node, what: str) -> Any:
        found = self.reader.value(node, what)
        if not isinstance(found, dict):
            raise Problem(line_of(node), f"{what} must be a mapping (a JSON schema)")
        return found

    def _requires(self, node: yaml.Node, what: str) -> Any:
        """Tags and labels, fixed when the file loads (they pick the queue, not data);
        ``Actions`` checks them when the plan is tried at compile time."""
        found = self.reader.value(node, what)
        if not isinstance(found, dict):
            raise Problem(
                line_of(node), f"{what} must be a mapping like {{tags: [gpu], region: eu}}"
            )
        return found

    def _retry_policy(self, node: yaml.Node, what: str) -> RetryPolicy:
        names = [f.name for f in dataclasses.fields(RetryPolicy)]
        fields = self.reader.fields(node, what, optional=names)
        r = self.reader
        readers: dict[str, Callable[[yaml.Node, str], Any]] = {
            "max_attempts": lambda n, w: r.integer(n, w, 1),
            "backoff_coefficient": lambda n, w: r.number(n, w, minimum=1),
            "non_retryable": lambda n, w: tuple(r.strings(n, w)),
        }
        values = {k: readers.get(k, r.number)(v, f"{what}.{k}") for k, v in fields.items()}
        return RetryPolicy(**values)

    def _tasks(self, node: yaml.Node, what: str) -> list[dict[str, Any]]:
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            raise Problem(line_of(node), f"{what} must be a non-empty list of tasks")
        tasks = []
        for i, item in enumerate(node.value):
            name = f"{what}[{i}]"
            fields = self.reader.fields(item, name, ("task_type",), TASK_OPTIONS)
            tasks.append({k: self._fields[k](v, f"{name}.{k}") for k, v in fields.items()})
        return tasks


def _go_to(state: str) -> Plan:
    return lambda data, actions: actions.go_to(state)


def _dispatch_task(values: dict[str, Any]) -> Plan:
    options = dict(values)
    task_type, params = options.pop("task_type"), options.pop("params", None)

    def plan(data: Mapping[str, Any], actions: Actions) -> None:
        actions.dispatch_task(task_type, templates.render(params, data), **options)

    return plan


def _dispatch_parallel(values: dict[str, Any]) -> Plan:
    tasks, aggregate_into = values["tasks"], values["aggregate_into"]
    policy = values.get("failure_policy", "fail_fast")

    def plan(data: Mapping[str, Any], actions: Actions) -> None:
        rendered = [{**t, "params": templates.render(t.get("params"), data)} for t in tasks]
        actions.dispatch_parallel(rendered, aggregate_into=aggregate_into, failure_policy=policy)

    return plan


def _await_human(values: dict[str, Any]) -> Plan:
    options = dict(values)
    decisions = options.pop("decisions")
    fixed = {k: options.pop(k) for k in ("timeout", "on_timeout", "fields") if k in options}

    def plan(data: Mapping[str, Any], actions: Actions) -> None:
        human = {k: templates.render(v, data) for k, v in options.items()}
        for key in ("title", "instructions"):  # text, even when a single placeholder
            if isinstance(options.get(key), str):
                human[key] = templates.render_text(options[key], data)
        actions.await_human(decisions, **fixed, **human)

    return plan


def _run_blueprint(values: dict[str, Any]) -> Plan:
    name, transitions, initial = values["name"], values["transitions"], values.get("initial_data")

    def plan(data: Mapping[str, Any], actions: Actions) -> None:
        actions.run_blueprint(name, templates.render(initial, data), transitions=transitions)

    return plan


def _fail(values: dict[str, Any]) -> Plan:
    code, message = values["code"], values.get("message", "")
    return lambda data, actions: actions.fail(code, templates.render_text(message, data))


def _finish(values: dict[str, Any]) -> Plan:
    result = values.get("result")
    return lambda data, actions: actions.finish(templates.render(result, data))


_PLANS: dict[str, Callable[[dict[str, Any]], Plan]] = {
    "dispatch_task": _dispatch_task,
    "dispatch_parallel": _dispatch_parallel,
    "await_human": _await_human,
    "run_blueprint": _run_blueprint,
    "fail": _fail,
    "finish": _finish,
}
