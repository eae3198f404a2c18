"""Task requirements: their canonical encoding, who meets them, and where they are checked."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator import Blueprint
from orchestrator.config import TaskLimit
from orchestrator.config_sources import task_limits
from orchestrator.engine.actions import ActionError, Actions, DispatchParallel, DispatchTask
from orchestrator.engine.requires import as_mapping, encode, met_by, queue, split


def test_equal_sets_encode_the_same_whatever_their_order() -> None:
    a = encode({"region": "eu", "tags": ["ssd", "gpu", "gpu"], "zone": "b"})
    b = encode({"zone": "b", "tags": ["gpu", "ssd"], "region": "eu"})

    assert a == b == "+gpu,+ssd,region=eu,zone=b"
    assert as_mapping(a) == {"tags": ["gpu", "ssd"], "region": "eu", "zone": "b"}
    assert encode(None) == encode({}) == ""
    assert split(queue("render", a)) == ("render", a)
    assert queue("render", "") == "render"  # no requirements: the type's own queue


@pytest.mark.parametrize(
    ("tags", "labels", "meets"),
    [
        ({"gpu", "ssd"}, {("region", "eu")}, True),
        ({"gpu", "ssd", "x"}, {("region", "eu"), ("zone", "a")}, True),
        ({"gpu"}, {("region", "eu")}, False),  # a tag missing
        ({"gpu", "ssd"}, {("region", "us")}, False),  # a label differs
        ({"gpu", "ssd"}, set(), False),  # a label missing
    ],
)
def test_a_worker_meets_every_tag_and_label_or_not_at_all(
    tags: set[str], labels: set[tuple[str, str]], meets: bool
) -> None:
    encoded = encode({"tags": ["gpu", "ssd"], "region": "eu"})

    assert met_by(encoded, frozenset(tags), frozenset(labels)) is meets
    assert met_by("", frozenset(), frozenset())


@pytest.mark.parametrize(
    ("requires", "words"),
    [
        ("gpu", "must be a mapping"),
        ({"tags": "gpu"}, "requires.tags must be a list"),
        ({"tags": ["a b"]}, "tag 'a b' must be"),
        ({"region": 3}, "label 'region' value 3 must be"),
        ({"a,b": "x"}, "label 'a,b' must be"),
        ({"tags": [f"t{i}" for i in range(17)]}, "at most 16"),
    ],
)
def test_a_bad_requirement_fails_the_action(requires: object, words: str) -> None:
    with pytest.raises(ActionError) as caught:
        Actions().dispatch_task("render", transitions={"success": "done"}, requires=requires)  # type: ignore[arg-type]

    assert caught.value.code == "INVALID_ACTION"
    assert words in caught.value.message


def test_requirements_reach_the_task_and_each_branch() -> None:
    one = Actions()
    one.dispatch_task("render", transitions={"success": "done"}, requires={"tags": ["gpu"]})
    fan = Actions()
    fan.dispatch_parallel(
        [{"task_type": "render", "requires": {"region": "eu"}}, {"task_type": "render"}],
        aggregate_into="join",
    )

    assert isinstance(one.chosen, DispatchTask) and one.chosen.requires == "+gpu"
    assert isinstance(fan.chosen, DispatchParallel)
    assert [t.requires for t in fan.chosen.tasks] == ["region=eu", ""]


def test_task_type_limits_are_read_and_checked() -> None:
    problems: list[str] = []
    limits = task_limits(
        {
            "send_email": {"max_in_flight": 5, "max_per_second": 10},
            "bad name": {"max_in_flight": 1},
            "negative": {"max_in_flight": -1},
            "typo": {"max_inflight": 1},
            "rate": {"max_per_second": "fast"},
        },
        problems,
    )

    assert limits == {"send_email": TaskLimit(5, 10.0)}
    assert len(problems) == 4
    assert any("max_in_flight: must be a whole number" in p for p in problems)
    assert any("max_per_second: must be a number" in p for p in problems)


def test_a_literal_bad_requirement_stops_the_blueprint_loading() -> None:
    bp = Blueprint("render", api_version="v1", api_endpoint="render")

    with pytest.raises(ValueError, match=r"handler 'start': label 'region' value 3 must be"):

        @bp.handler(start=True)
        async def start(actions: Actions) -> None:
            actions.dispatch_task("render", transitions={"success": "done"}, requires={"region": 3})

    with pytest.raises(ValueError, match=r"tag 'a b' must be"):

        @bp.handler(state="fan", start=True)
        async def fan_out(actions: Actions) -> None:
            actions.dispatch_parallel(
                [{"task_type": "render", "requires": {"tags": ["a b"]}}], aggregate_into="done"
            )


def test_a_computed_requirement_is_left_to_run_time() -> None:
    bp = Blueprint("render", api_version="v1", api_endpoint="render")

    @bp.handler(start=True)
    async def start(initial_data: dict[str, Any], actions: Actions) -> None:
        actions.dispatch_task(
            "render", transitions={"success": "done"}, requires=initial_data["requires"]
        )

    assert "start" in bp.states
