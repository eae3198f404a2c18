"""engine/inject.py: handler arguments resolved by name from the job."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from orchestrator.engine.actions import Actions
from orchestrator.engine.inject import MissingArgument, handler_kwargs
from tests.builders import new_job

JOB = new_job(
    "j1",
    state="review",
    results={"start": {"score": 3}},
    context={"score": 3, "user": "ana", "job_id": "shadowed"},
    state_history=[
        {"state": "start", "entered_at": 1.0},
        {"state": "review", "entered_at": 2.0},
    ],
)


def params(func: Any) -> list[inspect.Parameter]:
    return list(inspect.signature(func).parameters.values())


def resolve(func: Any, job: Any = JOB) -> dict[str, Any]:
    return handler_kwargs("review", params(func), job, Actions())


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("job_id", "j1"),
        ("initial_data", {"order": 7}),
        ("results", {"start": {"score": 3}}),
        ("context", {"score": 3, "user": "ana", "job_id": "shadowed"}),
        ("task_result", {"score": 3}),
        ("score", 3),
        ("user", "ana"),
    ],
)
def test_names_resolve_from_the_job_and_its_context(name: str, expected: object) -> None:
    param = inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD)

    assert handler_kwargs("review", [param], JOB, Actions()) == {name: expected}


def test_state_history_and_actions_are_passed_through() -> None:
    actions = Actions()

    async def handler(state_history: list[Any], actions: Actions) -> None: ...

    got = handler_kwargs("review", params(handler), JOB, actions)

    assert got["state_history"] is JOB.state_history
    assert got["actions"] is actions


def test_task_result_is_none_in_the_first_state() -> None:
    first = new_job(state_history=[{"state": "start", "entered_at": 1.0}])

    async def handler(task_result: Any) -> None: ...

    assert resolve(handler, first) == {"task_result": None}


def test_defaults_are_left_to_python_and_varargs_skipped() -> None:
    async def handler(user: str, missing: int = 4, *args: Any, **kwargs: Any) -> None: ...

    assert resolve(handler) == {"user": "ana"}


def test_every_missing_name_is_listed() -> None:
    async def handler(user: str, invoice: str, optional: int = 1, address: str = "") -> None: ...

    async def worse(invoice: str, user: str, total: float) -> None: ...

    with pytest.raises(MissingArgument) as caught:
        resolve(worse)

    assert caught.value.names == ["invoice", "total"]
    assert "'review'" in str(caught.value)
    assert "invoice, total" in str(caught.value)
    with pytest.raises(MissingArgument) as one:
        resolve(handler)
    assert one.value.names == ["invoice"]


def test_a_misspelt_name_says_which_one_was_meant() -> None:
    async def handler(usr: str, scores: int, invoice: str, jobid: str) -> None: ...

    with pytest.raises(MissingArgument) as caught:
        resolve(handler)

    assert str(caught.value).endswith(
        "; did you mean: usr -> user, scores -> score, jobid -> job_id?"
    ), caught.value
