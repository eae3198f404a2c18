"""engine/actions.py: a handler chooses exactly one well-formed action."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from orchestrator.engine.actions import ActionError, Actions, DispatchTask, Fail, Finish, GoTo
from orchestrator.engine.model import RetryPolicy

TRANSITIONS = {"success": "done"}


@pytest.mark.parametrize(
    ("choose", "expected"),
    [
        (lambda a: a.go_to("next"), GoTo("next")),
        (lambda a: a.finish({"ok": 1}), Finish({"ok": 1})),
        (lambda a: a.finish(), Finish(None)),
        (lambda a: a.fail("BAD", "why"), Fail("BAD", "why")),
        (lambda a: a.fail("BAD"), Fail("BAD", "")),
    ],
)
def test_one_action_is_recorded(choose: Callable[[Actions], None], expected: object) -> None:
    actions = Actions()
    assert actions.chosen is None

    choose(actions)

    assert actions.chosen == expected


@pytest.mark.parametrize(
    "second",
    [
        lambda a: a.go_to("other"),
        lambda a: a.finish(),
        lambda a: a.fail("X"),
        lambda a: a.dispatch_task("t", transitions=TRANSITIONS),
    ],
)
def test_a_second_action_is_refused(second: Callable[[Actions], None]) -> None:
    actions = Actions()
    actions.go_to("first")

    with pytest.raises(ActionError) as caught:
        second(actions)

    assert caught.value.code == "MULTIPLE_ACTIONS"
    assert "after GoTo" in caught.value.message
    assert actions.chosen == GoTo("first")


def test_dispatch_task_records_every_option() -> None:
    actions = Actions()
    params = {"a": 1}

    actions.dispatch_task(
        "resize",
        params,
        transitions={"success": "done", "failure": "retry"},
        timeout=12.0,
        retries=2,
        priority=9,
        dispatch_timeout=30.0,
    )
    params["a"] = 2

    assert actions.chosen == DispatchTask(
        task_type="resize",
        params={"a": 1},
        transitions={"success": "done", "failure": "retry"},
        timeout_s=12.0,
        retry=RetryPolicy(max_attempts=3),
        priority=9,
        dispatch_timeout_s=30.0,
    )


@pytest.mark.parametrize(("retries", "attempts"), [(0, 1), (3, 4), (-5, 1)])
def test_retries_sets_the_attempt_budget(retries: int, attempts: int) -> None:
    actions = Actions()

    actions.dispatch_task("t", transitions=TRANSITIONS, retries=retries)

    assert isinstance(actions.chosen, DispatchTask)
    assert actions.chosen.retry.max_attempts == attempts
    assert actions.chosen.params == {}


def test_a_full_retry_policy_wins_over_retries() -> None:
    policy = RetryPolicy(max_attempts=7, initial_interval_s=0.1)
    actions = Actions()

    actions.dispatch_task("t", transitions=TRANSITIONS, retries=1, retry_policy=policy)

    assert isinstance(actions.chosen, DispatchTask)
    assert actions.chosen.retry is policy


@pytest.mark.parametrize("priority", [0, 5, 9])
def test_priorities_zero_to_nine_are_accepted(priority: int) -> None:
    actions = Actions()

    actions.dispatch_task("t", transitions=TRANSITIONS, priority=priority)

    assert isinstance(actions.chosen, DispatchTask)
    assert actions.chosen.priority == priority


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"task_type": "t", "transitions": TRANSITIONS, "priority": -1}, "priority must be 0..9"),
        ({"task_type": "t", "transitions": TRANSITIONS, "priority": 10}, "priority must be 0..9"),
        ({"task_type": "t", "transitions": {}}, "needs transitions"),
        ({"task_type": "", "transitions": TRANSITIONS}, "needs a task type"),
    ],
    ids=["priority-low", "priority-high", "no-transitions", "no-task-type"],
)
def test_malformed_dispatch_is_refused(kwargs: dict[str, object], needle: str) -> None:
    actions = Actions()

    with pytest.raises(ActionError) as caught:
        actions.dispatch_task(**kwargs)  # type: ignore[arg-type]

    assert caught.value.code == "INVALID_ACTION"
    assert needle in caught.value.message
    assert actions.chosen is None
