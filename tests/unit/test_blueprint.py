"""blueprint/: the DSL, target discovery, load-time validation, DOT output and versions."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from orchestrator.blueprint import Blueprint
from orchestrator.blueprint.analyze import find_targets
from orchestrator.blueprint.conditions import where
from orchestrator.blueprint.validate import problems
from orchestrator.errors import BlueprintError

Spec = dict[str, tuple[str, ...]]
"""state name → flags ("start", "end") and targets ("->x"): a graph without handler code."""


def build(graph: Spec, name: str = "shop") -> Blueprint:
    """A blueprint whose states move exactly along ``graph`` (declared with ``goes_to``)."""
    bp = Blueprint(name)
    for state, marks in graph.items():
        targets = [m[2:] for m in marks if m.startswith("->")]

        async def handler(actions: Any) -> None: ...

        bp.handler(state, start="start" in marks, end="end" in marks, goes_to=targets)(handler)
    return bp


GOOD: Spec = {"begin": ("start", "->pay"), "pay": ("->done", "->begin"), "done": ("end",)}


def test_a_sound_graph_has_no_problems() -> None:
    bp = build(GOOD)

    assert problems(bp) == []
    bp.validate()
    assert bp.start_state == "begin"


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({}, "it has no states"),
        (
            {"a": ("->b",), "b": ("end",)},
            "no start state (mark one handler with start=True)",
        ),
        (
            {"a": ("start", "->c"), "b": ("start", "->c"), "c": ("end",)},
            "more than one start state: a, b",
        ),
        (
            {"a": ("start", "->b"), "b": ("->a",)},
            "no end state (mark at least one handler with end=True)",
        ),
        (
            {"a": ("start", "->ghost", "->done", "->zombie"), "done": ("end",)},
            "state 'a' moves to unknown state(s): ghost, zombie",
        ),
        (
            {"a": ("start", "->done"), "orphan": ("->done",), "lost": ("end",), "done": ("end",)},
            "unreachable state(s) from 'a': lost, orphan",
        ),
        (
            {"a": ("start", "->done"), "done": ("end", "->a")},
            "end state 'done' has outgoing transitions",
        ),
        (
            {"a": ("start", "end")},
            "state 'a' is both start and end",
        ),
        (
            {"a": ("start", "->stuck"), "stuck": (), "done": ("end",)},
            "state 'stuck' is not an end state and moves nowhere",
        ),
    ],
    ids=[
        "empty",
        "no-start",
        "two-starts",
        "no-end",
        "unknown-target",
        "unreachable",
        "end-with-edges",
        "start-and-end",
        "dead-end",
    ],
)
def test_each_graph_problem_is_named(graph: Spec, expected: str) -> None:
    bp = build(graph)

    assert expected in problems(bp)
    with pytest.raises(BlueprintError) as caught:
        bp.validate()
    assert expected in str(caught.value)
    assert caught.value.blueprint == "shop"


def test_every_problem_is_reported_at_once() -> None:
    bp = build(
        {
            "intake": ("start", "->check", "->typo"),
            "check": ("->intake",),
            "island": ("->intake",),
        }
    )

    with pytest.raises(BlueprintError) as caught:
        bp.validate()

    assert caught.value.problems == [
        "no end state (mark at least one handler with end=True)",
        "state 'intake' moves to unknown state(s): typo",
        "unreachable state(s) from 'intake': island",
    ]
    message = str(caught.value)
    assert message.startswith("Invalid blueprint 'shop' (3 problems):")
    for name in ("typo", "intake", "island"):
        assert name in message


# -- target discovery ------------------------------------------------------------------------


async def literal_go_to(actions: Any) -> None:
    if actions:
        actions.go_to("left")
    else:
        actions.go_to(state="right")


async def literal_transitions(actions: Any) -> None:
    actions.dispatch_task("t", transitions={"success": "ok", "failure": "bad"})


async def human_decisions(actions: Any) -> None:
    actions.await_human(decisions={"approve": "yes", "reject": "no"})


async def fan_out(actions: Any) -> None:
    actions.dispatch_parallel([{"task_type": "t"}], aggregate_into="join")


async def human_with_timeout(actions: Any) -> None:
    actions.await_human(decisions={"ok": "yes"}, timeout=5, on_timeout="late")


async def caught(actions: Any) -> None:
    actions.dispatch_task("t", transitions={"success": "ok"}, catch={"GONE": "lost"})


async def no_timeout_target(actions: Any) -> None:
    actions.await_human(decisions={"ok": "yes"}, on_timeout=None, catch=None)


async def dynamic_go_to(actions: Any, context: Any) -> None:
    actions.go_to(context["next"])


async def dynamic_transitions(actions: Any, mapping: Any) -> None:
    actions.dispatch_task("t", transitions=mapping)


async def mixed(actions: Any, context: Any) -> None:
    actions.go_to("known")
    actions.go_to(context["next"])


@pytest.mark.parametrize(
    ("handler", "states", "dynamic"),
    [
        (literal_go_to, {"left", "right"}, False),
        (literal_transitions, {"ok", "bad"}, False),
        (human_decisions, {"yes", "no"}, False),
        (fan_out, {"join"}, False),
        (human_with_timeout, {"yes", "late"}, False),
        (caught, {"ok", "lost"}, False),
        (no_timeout_target, {"yes"}, False),
        (dynamic_go_to, set(), True),
        (dynamic_transitions, set(), True),
        (mixed, {"known"}, True),
    ],
)
def test_targets_are_read_from_the_handler_source(
    handler: Callable[..., Any], states: set[str], dynamic: bool
) -> None:
    found = find_targets(handler)

    assert found.states == states
    assert found.dynamic is dynamic


def test_a_handler_without_source_counts_as_dynamic() -> None:
    namespace: dict[str, Any] = {}
    exec("async def made(actions):\n    actions.go_to('x')\n", namespace)

    found = find_targets(namespace["made"])

    assert found.states == set()
    assert found.dynamic is True


def test_a_dynamic_target_needs_goes_to() -> None:
    undeclared = Blueprint("dyn")
    undeclared.handler("begin", start=True)(dynamic_go_to)
    declared = Blueprint("dyn")
    declared.handler("begin", start=True, goes_to=["done", "retry"])(dynamic_go_to)

    assert undeclared.states["begin"].dynamic is True
    assert undeclared.states["begin"].targets == frozenset()
    assert declared.states["begin"].dynamic is False
    assert declared.states["begin"].targets == {"done", "retry"}


def test_a_declared_dynamic_target_is_checked_like_a_literal() -> None:
    bp = Blueprint("dyn")
    bp.handler("begin", start=True, goes_to=["done", "nowhere"])(dynamic_go_to)
    bp.handler("done", end=True)(finish_handler)

    assert problems(bp) == ["state 'begin' moves to unknown state(s): nowhere"]


async def finish_handler() -> dict[str, bool]:
    return {"ok": True}


def test_literal_targets_and_goes_to_are_merged() -> None:
    bp = Blueprint("m")
    bp.handler("pick", start=True, goes_to=["extra"])(literal_go_to)

    assert bp.states["pick"].targets == {"left", "right", "extra"}


# -- the DSL ---------------------------------------------------------------------------------


def test_a_plain_function_is_rejected() -> None:
    bp = Blueprint("sync")

    def not_async(actions: Any) -> None: ...

    with pytest.raises(TypeError, match="handler 'not_async' must be async def"):
        bp.handler(start=True)(not_async)  # type: ignore[type-var]
    assert bp.states == {}


def test_a_state_defined_twice_is_rejected() -> None:
    bp = Blueprint("twice")
    bp.handler("step", start=True)(literal_go_to)

    with pytest.raises(ValueError, match="state 'step' is defined twice"):
        bp.handler("step")(literal_transitions)
    assert bp.states["step"].handler is literal_go_to


def test_the_state_name_defaults_to_the_function_name() -> None:
    bp = Blueprint("names")

    returned = bp.handler(end=True)(finish_handler)

    assert returned is finish_handler
    assert list(bp.states) == ["finish_handler"]
    assert bp.states["finish_handler"].end is True
    assert [p.name for p in bp.states["finish_handler"].params] == []


@pytest.mark.parametrize("name", ["", "a/b"])
def test_a_blueprint_name_must_fit_a_route(name: str) -> None:
    with pytest.raises(ValueError, match="blueprint name"):
        Blueprint(name)


def test_the_endpoint_defaults_to_the_name() -> None:
    assert Blueprint("audit").api_endpoint == "audit"
    assert Blueprint("audit", api_endpoint="/audits/validate/").api_endpoint == "audits/validate"


def test_start_state_needs_exactly_one() -> None:
    with pytest.raises(ValueError, match="exactly one start state"):
        _ = build({"a": ("->b",), "b": ("end",)}).start_state


# -- DOT and versions ------------------------------------------------------------------------


def test_dot_lists_every_state_and_edge() -> None:
    dot = build(GOOD).to_dot()

    assert dot.splitlines()[1] == "digraph shop {"
    assert "begin [label=begin shape=circle]" in dot
    assert "pay [label=pay shape=box]" in dot
    assert "done [label=done shape=doublecircle]" in dot
    edges = sorted(line.strip() for line in dot.splitlines() if "->" in line)
    assert edges == ["begin -> pay", "pay -> begin", "pay -> done"]


def test_dot_arrows_carry_outcomes_decisions_catches_and_guards() -> None:
    bp = Blueprint("labels")

    @bp.handler(start=True)
    async def pay(actions: Any) -> None:
        actions.dispatch_task(
            "charge",
            {},
            transitions={"success": "ask", "failure": "failed"},
            catch={"CARD_DECLINED": "failed"},
        )

    @bp.handler("ask", when=where("initial_data.amount") > 100)
    async def ask_big(actions: Any) -> None:
        actions.await_human(
            decisions={"approve": "done", "reject": "failed"}, timeout=60, on_timeout="failed"
        )

    @bp.handler("ask")
    async def ask_small(actions: Any) -> None:
        actions.go_to("done")

    @bp.handler(end=True)
    async def done() -> None: ...

    @bp.handler(end=True)
    async def failed() -> None: ...

    arrows = sorted(line.strip() for line in bp.to_dot().splitlines() if "->" in line)
    assert arrows == [
        'ask -> done [label="[else]"]',
        'ask -> done [label="approve [initial_data.amount > 100]"]',
        'ask -> failed [label="reject [initial_data.amount > 100]"]',
        'ask -> failed [label="timeout [initial_data.amount > 100]"]',
        "pay -> ask [label=success]",
        'pay -> failed [label="catch CARD_DECLINED"]',
        "pay -> failed [label=failure]",
    ]


async def pay_v1(actions: Any) -> None:
    actions.go_to("done")


async def pay_v2(actions: Any) -> None:
    actions.go_to(state="done")  # the code changed, not only its name


def versioned(pay: Callable[..., Any]) -> Blueprint:
    bp = Blueprint("billing")
    bp.handler("pay", start=True)(pay)
    bp.handler("done", end=True)(finish_handler)
    return bp


def test_the_version_follows_the_handler_code() -> None:
    first, again, changed = versioned(pay_v1), versioned(pay_v1), versioned(pay_v2)

    assert len(first.version) == 12
    assert first.version == again.version
    assert changed.version != first.version


PAY = 'async def pay(actions):\n    actions.go_to("done")\n'


@pytest.mark.parametrize(
    ("source", "same"),
    [
        ('async def pay(actions):\n    # why: paid\n    actions.go_to("done")  # done\n', True),
        ('async def pay(actions):\n\n    actions.go_to(\n        "done",\n    )\n', True),
        ('async def pay(actions):\n    """Pays."""\n    actions.go_to("done")\n', False),
        ('async def pay(actions):\n    actions.go_to("done")\n    return None\n', False),
    ],
    ids=["comments", "layout", "docstring", "code"],
)
def test_the_version_ignores_comments_and_layout_not_docstrings_or_code(
    tmp_path: Path, source: str, same: bool
) -> None:
    """What docs/blueprints.md says a version covers: the code as a syntax tree."""

    def version_of(text: str, name: str) -> str:
        path = tmp_path / f"{name}.py"
        path.write_text(text)
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return versioned(module.pay).version

    assert (version_of(source, "edited") == version_of(PAY, "original")) is same


def test_adding_a_state_changes_the_cached_version() -> None:
    bp = versioned(pay_v1)
    before = bp.version

    bp.handler("audit", goes_to=["done"])(literal_transitions)

    assert bp.version != before


def test_where_is_exported_by_the_package_as_the_docs_say() -> None:
    import orchestrator

    assert "where" in orchestrator.__all__
    assert orchestrator.where is where
