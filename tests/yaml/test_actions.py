"""Each YAML action decides exactly what the same ``Actions`` call in Python decides, with
``{{ path }}`` placeholders filled from the job's data."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from orchestrator.blueprint import templates
from orchestrator.blueprint.yaml_loader import load_yaml
from orchestrator.engine.actions import Action, Actions
from orchestrator.engine.model import RetryPolicy

DATA: dict[str, Any] = {
    "initial_data": {"name": "Ada", "items": [{"sku": "x1"}, {"sku": "y2"}], "n": 3},
    "results": {"check": {"ok": True}},
    "context": {"score": 0.5},
    "state_history": [{"state": "check"}, {"state": "a"}],
    "job_id": "job-1",
}

STATES = """\
blueprint: actions
states:
  check:
    start: true
    action: {{await_human: {{decisions: {{x: a, y: b, z: c}}}}}}
  a:
    end: {end}
    action: {action}
  b: {{end: true}}
  c: {{end: true}}
"""
"""A file whose state ``a`` runs the action under test; ``b`` and ``c`` are its targets. ``a``
is an end state for ``fail`` and ``finish``, which move nowhere."""

CASES: dict[str, tuple[str, Callable[[Actions], None]]] = {
    "go_to": ("{go_to: b}", lambda a: a.go_to("b")),
    "dispatch_task": (
        """
      dispatch_task:
        task_type: ship
        params: {who: "{{ initial_data.name }}", sku: "{{ initial_data.items.1.sku }}",
                 n: "{{ initial_data.n }}", line: "{{ initial_data.n }} x {{ context.score }}"}
        transitions: {success: b, failure: c}
        timeout: 2.5
        retries: 1
        priority: 7
        dispatch_timeout: 9
        retry_policy: {max_attempts: 5, initial_interval_s: 0.5, non_retryable: [BAD]}
        catch: {DISPATCH_TIMEOUT: c}
        result_schema: {type: object, required: [id]}""",
        lambda a: a.dispatch_task(
            "ship",
            {"who": "Ada", "sku": "y2", "n": 3, "line": "3 x 0.5"},
            transitions={"success": "b", "failure": "c"},
            timeout=2.5,
            retries=1,
            priority=7,
            dispatch_timeout=9,
            retry_policy=RetryPolicy(
                max_attempts=5, initial_interval_s=0.5, non_retryable=("BAD",)
            ),
            catch={"DISPATCH_TIMEOUT": "c"},
            result_schema={"type": "object", "required": ["id"]},
        ),
    ),
    "dispatch_parallel": (
        """
      dispatch_parallel:
        tasks:
          - {task_type: pack, params: {item: "{{ initial_data.items.0 }}"}, priority: 2}
          - {task_type: pack, params: {item: "{{ initial_data.items.1 }}"}, retries: 0}
        aggregate_into: b
        failure_policy: collect""",
        lambda a: a.dispatch_parallel(
            [
                {"task_type": "pack", "params": {"item": {"sku": "x1"}}, "priority": 2},
                {"task_type": "pack", "params": {"item": {"sku": "y2"}}, "retries": 0},
            ],
            aggregate_into="b",
            failure_policy="collect",
        ),
    ),
    "await_human": (
        "{await_human: {decisions: {approve: b, reject: c}, timeout: 60, on_timeout: c}}",
        lambda a: a.await_human({"approve": "b", "reject": "c"}, timeout=60, on_timeout="c"),
    ),
    "run_blueprint": (
        "{run_blueprint: {name: child, initial_data: {who: '{{ initial_data.name }}'}, "
        "transitions: {finished: b, failed: c}}}",
        lambda a: a.run_blueprint(
            "child", {"who": "Ada"}, transitions={"finished": "b", "failed": "c"}
        ),
    ),
    "run_blueprint with all the data": (
        "{run_blueprint: {name: child, initial_data: '{{ initial_data }}', "
        "transitions: {finished: b}}}",
        lambda a: a.run_blueprint("child", DATA["initial_data"], transitions={"finished": "b"}),
    ),
    "fail": (
        "{fail: {code: NOPE, message: '{{ initial_data.n }} of {{ job_id }}'}}",
        lambda a: a.fail("NOPE", "3 of job-1"),
    ),
    "fail with a lone placeholder": (
        "{fail: {code: NOPE, message: '{{ initial_data.n }}'}}",
        lambda a: a.fail("NOPE", "3"),
    ),
    "finish": (
        "{finish: {result: {ok: '{{ results.check.ok }}', last: '{{ state_history.-1.state }}'}}}",
        lambda a: a.finish({"ok": True, "last": "a"}),
    ),
    "finish with nothing": ("{finish: }", lambda a: a.finish(None)),
}


async def decided(action_yaml: str) -> Action | None:
    end = "true" if action_yaml.lstrip("{ \n").startswith(("fail", "finish")) else "false"
    bp = load_yaml(STATES.format(action=action_yaml, end=end))
    actions = Actions()
    await bp.states["a"].handler(actions=actions, **DATA)
    return actions.chosen


@pytest.mark.parametrize(("action_yaml", "python"), CASES.values(), ids=CASES.keys())
async def test_a_yaml_action_decides_as_python_does(
    action_yaml: str, python: Callable[[Actions], None]
) -> None:
    expected = Actions()
    python(expected)

    assert await decided(action_yaml) == expected.chosen


@pytest.mark.parametrize(
    ("value", "rendered"),
    [
        ("{{ initial_data.n }}", 3),
        ("{{initial_data.items}}", [{"sku": "x1"}, {"sku": "y2"}]),
        ("{{ initial_data.nope }}", None),
        ("{{ initial_data.items.7.sku }}", None),
        ("n={{ initial_data.n }}, ok={{ results.check.ok }}", "n=3, ok=true"),
        ("[{{ initial_data.nope }}]", "[]"),
        ("{{ results.check }} as JSON", '{"ok":true} as JSON'),
        ({"k": ["{{ job_id }}", 1, None]}, {"k": ["job-1", 1, None]}),
        ("no placeholder {here}", "no placeholder {here}"),
    ],
)
def test_placeholders_render_from_the_jobs_data(value: Any, rendered: Any) -> None:
    assert templates.render(value, DATA) == rendered


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("{{ initial_data.name | upper }}", "no filters or expressions"),
        ("{{ __import__('os') }}", "no filters or expressions"),
        ("{{ env.HOME }}", "must start with one of"),
        ("{{ initial_data.name", "unclosed placeholder"),
        ("{{ }}", "must be a dotted path"),
    ],
)
def test_a_placeholder_is_a_path_and_nothing_else(value: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        templates.paths(value)
