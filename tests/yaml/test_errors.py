"""A broken YAML blueprint fails to load with every problem at its file, line and state."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from orchestrator.blueprint.yaml_loader import load_yaml
from orchestrator.errors import BlueprintError
from tests.yaml.conftest import GREETING_YAML

GOOD = GREETING_YAML.read_text()

CASES: dict[str, tuple[str, str, str, str | None, str]] = {
    # id: (text replaced, replacement, line expected at, state named, words of the problem)
    "unknown action": (
        "dispatch_task:",
        "dispach_task:",
        "dispach_task:",
        "validate",
        "unknown action 'dispach_task'",
    ),
    "unknown target": (
        "failure: failed",
        "failure: failed, later: nowhere",
        "nowhere",
        "validate",
        "unknown state 'nowhere'",
    ),
    "bad operator": (
        "op: matches",
        "op: bigger",
        "bigger",
        "validate",
        "unknown condition operator 'bigger'",
    ),
    "condition on a missing state": (
        "path: initial_data.name",
        "path: results.nope.x",
        "results.nope.x",
        "validate",
        "condition on missing state 'nope' (results.nope.x)",
    ),
    "missing start": ("start: true", "start: false", "states:", None, "no start state"),
    "unknown state key": (
        "    end: true\n    result",
        "    ends: true\n    result",
        "ends:",
        "done",
        "unknown key 'ends'",
    ),
    "bad placeholder": (
        "{{ job_id }}",
        "{{ job_id | upper }}",
        "upper",
        "done",
        "no filters or expressions",
    ),
    "wrong type": ("timeout: 30", "timeout: soon", "soon", "validate", "timeout must be a number"),
    "requires not a mapping": (
        "timeout: 30",
        "timeout: 30\n            requires: gpu",
        "requires: gpu",
        "validate",
        "requires must be a mapping",
    ),
    "bad requirement": (
        "timeout: 30",
        "timeout: 30\n            requires: {tags: [gpu, 'a b']}",
        "dispatch_task:",
        "validate",
        "tag 'a b' must be 1-64 characters",
    ),
    "unquoted date": (
        '"{{ job_id }}"',
        "2024-01-01",
        "2024",
        "done",
        "reads as date, which is not JSON",
    ),
    "end state moving on": (
        "action: {fail: {code: GREETING_FAILED, message: the greet task failed}}",
        "action: {go_to: validate}",
        "failed:",
        "failed",
        "end state 'failed' has outgoing transitions",
    ),
}


def broken(tmp_path: Path, old: str, new: str) -> tuple[Path, str]:
    assert old in GOOD, old
    text = GOOD.replace(old, new, 1)
    path = tmp_path / "greeting.yaml"
    path.write_text(text)
    return path, text


def line_of(text: str, fragment: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if fragment in line)


@pytest.mark.parametrize(("old", "new", "at", "state", "words"), CASES.values(), ids=CASES.keys())
def test_a_problem_names_its_line_and_state(
    tmp_path: Path, old: str, new: str, at: str, state: str | None, words: str
) -> None:
    path, text = broken(tmp_path, old, new)

    with pytest.raises(BlueprintError) as caught:
        load_yaml(path)

    assert len(caught.value.problems) == 1, caught.value.problems
    problem = caught.value.problems[0]
    assert problem.startswith(f"{path}:{line_of(text, at)}: "), problem
    if state is not None:
        assert f"state '{state}'" in problem
    assert words in problem
    assert "\n" not in str(caught.value)


def test_every_broken_state_is_reported_at_once(tmp_path: Path) -> None:
    text = GOOD.replace("dispatch_task:", "dispach_task:").replace(
        "message: the greet", "mesage: the greet"
    )

    with pytest.raises(BlueprintError) as caught:
        load_yaml(text)

    found = caught.value.problems
    assert len(found) == 2, found
    assert "state 'validate': unknown action" in found[0]
    assert "state 'failed': unknown key 'mesage' in fail" in found[1]


def test_an_unreachable_state_is_reported_at_its_own_line() -> None:
    text = dedent("""\
        blueprint: x
        states:
          a:
            start: true
            action: {go_to: b}
          b: {end: true}
          orphan:
            action: {go_to: b}
    """)

    with pytest.raises(BlueprintError) as caught:
        load_yaml(text)

    assert caught.value.problems == [
        "<yaml>:7: state 'orphan' is unreachable from the start state 'a'"
    ]


def test_state_and_graph_problems_come_in_one_pass_in_file_order() -> None:
    """As the Python loader does: a broken state does not hide the graph's problems."""
    text = dedent("""\
        blueprint: x
        states:
          a:
            start: true
            action: {dispach_task: {transitions: {ok: b}}}
          b:
            end: true
            action: {go_to: a}
          orphan:
            action: {go_to: b}
    """)

    with pytest.raises(BlueprintError) as caught:
        load_yaml(text)

    assert caught.value.problems == [
        "<yaml>:5: state 'a': unknown action 'dispach_task' (use go_to, dispatch_task, "
        "dispatch_parallel, await_human, run_blueprint, fail, finish)",
        "<yaml>:6: end state 'b' has outgoing transitions",
        "<yaml>:9: state 'orphan' is unreachable from the start state 'a'",
    ]


def test_a_typo_in_a_target_also_shows_the_state_it_leaves_unreachable(tmp_path: Path) -> None:
    path, text = broken(tmp_path, "success: done", "success: nowhere")

    with pytest.raises(BlueprintError) as caught:
        load_yaml(path)

    found = caught.value.problems
    assert len(found) == 2, found
    assert found[0].startswith(f"{path}:{line_of(text, 'nowhere')}: state 'validate': ")
    assert found[1] == (
        f"{path}:{line_of(text, 'done:')}: state 'done' is unreachable from the start state "
        "'validate'"
    )


HEAD = "blueprint: x\nstates:\n  a:\n    start: true\n"
"""Lines 1-4 of the small files below: state ``a`` starts at line 3."""

FILE_CASES: dict[str, tuple[str, int, str]] = {
    # id: (the file, line expected, words of the problem)
    "empty": ("", 1, "the file is empty"),
    "a list": ("- a\n- b\n", 1, "must be a mapping"),
    "no states": ("blueprint: x\n", 1, "needs 'states'"),
    "no state": ("blueprint: x\nstates: {}\n", 2, "states must not be empty"),
    "bad YAML": (HEAD + "    end: [true\n", 6, "invalid YAML"),
    "a state twice": (HEAD + "    end: true\n  a: {end: true}\n", 6, "duplicate key 'a'"),
    "action and result": (
        dedent("""\
            blueprint: x
            states:
              a:
                start: true
                action: {go_to: b}
              b:
                end: true
                handlers:
                  - when: {path: initial_data.x, op: exists}
                    result: 1
                    action: {finish: }
        """),
        9,
        "either an action or a result",
    ),
    "two actions": (
        HEAD + "    action: {go_to: b, fail: {code: X}}\n  b: {end: true}\n",
        5,
        "exactly one key",
    ),
    "on_timeout without timeout": (
        dedent("""\
            blueprint: x
            states:
              a:
                start: true
                action:
                  await_human: {decisions: {ok: b}, on_timeout: b}
              b: {end: true}
        """),
        6,
        "on_timeout needs a timeout",
    ),
    "unknown failure policy": (
        dedent("""\
            blueprint: x
            states:
              a:
                start: true
                action:
                  dispatch_parallel:
                    tasks: [{task_type: t}]
                    aggregate_into: b
                    failure_policy: maybe
              b: {end: true}
        """),
        9,
        "failure_policy must be one of fail_fast, collect",
    ),
    "a bool key": (
        HEAD + "    action: {go_to: b}\n  b:\n    end: true\n    result: {yes: 1}\n",
        8,
        "key 'yes' in finish.result reads as bool; quote it",
    ),
}


@pytest.mark.parametrize(("text", "line", "words"), FILE_CASES.values(), ids=FILE_CASES.keys())
def test_file_level_problems_name_the_line(text: str, line: int, words: str) -> None:
    with pytest.raises(BlueprintError) as caught:
        load_yaml(text)

    assert len(caught.value.problems) == 1, caught.value.problems
    problem = caught.value.problems[0]
    assert problem.startswith(f"<yaml>:{line}: "), problem
    assert words in problem
