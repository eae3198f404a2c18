"""Blueprints the e2e3 tests serve (``--blueprints tests.e2e3.blueprints``).

Each uses task types of its own, run by ``tests.e2e3.workers``.
"""

from __future__ import annotations

from typing import Any

from orchestrator import Actions, Blueprint, RetryPolicy
from orchestrator.blueprint.conditions import where
from tests.e2e3.shared import count

# -- a condition picking each branch ---------------------------------------------------------

branching = Blueprint("branching", api_endpoint="branching")


@branching.handler(start=True)
async def ask(initial_data: dict[str, Any], actions: Actions) -> None:
    actions.dispatch_task("echo", initial_data, transitions={"success": "route"})


@branching.handler(
    "route", when=(where("context.echo.amount") > 1000) & ~where("initial_data.blocked").exists()
)
async def route_big(actions: Actions) -> None:
    actions.go_to("big")


@branching.handler(
    "route",
    when=where("initial_data.tier").matches(r"^gold") | where("initial_data.tier").is_in(["vip"]),
)
async def route_gold(actions: Actions) -> None:
    actions.go_to("gold")


@branching.handler("route")
async def route_default(actions: Actions) -> None:
    actions.go_to("small")


@branching.handler(end=True)
async def big() -> dict[str, Any]:
    return {"branch": "big"}


@branching.handler(end=True)
async def gold() -> dict[str, Any]:
    return {"branch": "gold"}


@branching.handler(end=True)
async def small() -> dict[str, Any]:
    return {"branch": "small"}


# -- fan-out / fan-in ------------------------------------------------------------------------

fanout = Blueprint("fanout", api_endpoint="fanout")


@fanout.handler(start=True)
async def spread(initial_data: dict[str, Any], actions: Actions) -> None:
    n = initial_data["n"]
    actions.dispatch_parallel(
        [{"task_type": "branch", "params": {"i": i, "n": n}, "retries": 0} for i in range(n)],
        aggregate_into="join",
    )


@fanout.handler(end=True)
async def join(job_id: str, parallel_results: list[dict[str, Any]]) -> dict[str, Any]:
    runs = count("join", job_id)
    return {
        "runs": runs,
        "values": [r["data"]["i"] for r in parallel_results],
        "statuses": sorted({r["status"] for r in parallel_results}),
        "workers": sorted(r["data"]["worker"] for r in parallel_results),
        "all_waited": all(r["data"]["together"] for r in parallel_results),
    }


# -- human approval --------------------------------------------------------------------------

approval = Blueprint("approval", api_endpoint="approval")


@approval.handler(start=True)
async def review(initial_data: dict[str, Any], actions: Actions) -> None:
    actions.await_human(
        decisions={"approve": "approved", "reject": "rejected"},
        timeout=initial_data.get("timeout", 60),
        on_timeout="expired",
    )


@approval.handler(end=True)
async def approved(decision: str) -> dict[str, Any]:
    return {"decision": decision}


@approval.handler(end=True)
async def rejected(decision: str) -> dict[str, Any]:
    return {"decision": decision}


@approval.handler(end=True)
async def expired(timed_out: bool) -> dict[str, Any]:
    return {"timed_out": timed_out}


# -- a child blueprint -----------------------------------------------------------------------

parent = Blueprint("parent", api_endpoint="parent")


@parent.handler(start=True)
async def spawn_child(initial_data: dict[str, Any], actions: Actions) -> None:
    actions.run_blueprint(
        "child", initial_data, transitions={"finished": "resumed", "failed": "child_failed"}
    )


@parent.handler(end=True)
async def resumed(job_id: str, results: dict[str, Any], doubled: int) -> dict[str, Any]:
    return {"doubled": doubled, "child": results["spawn_child"], "runs": count("resumed", job_id)}


@parent.handler(end=True)
async def child_failed() -> dict[str, Any]:
    return {"child": "failed"}


child = Blueprint("child", api_endpoint="child")


@child.handler("begin", start=True, when=where("initial_data.hold") == True)  # noqa: E712
async def begin_held(actions: Actions) -> None:
    actions.await_human(decisions={"go": "computed"})


@child.handler("begin")
async def begin_now(initial_data: dict[str, Any], actions: Actions) -> None:
    actions.dispatch_task("double", {"x": initial_data["x"]}, transitions={"success": "computed"})


@child.handler(end=True)
async def computed(doubled: int) -> dict[str, Any]:
    return {"doubled": doubled}


# -- timeouts --------------------------------------------------------------------------------

timeouts = Blueprint("timeouts", api_endpoint="timeouts")


@timeouts.handler(start=True)
async def wait_on(initial_data: dict[str, Any], actions: Actions) -> None:
    actions.dispatch_task(
        initial_data["task_type"],
        initial_data.get("params", {}),
        transitions={"success": "timeouts_done"},
        timeout=initial_data.get("timeout"),
        retries=0,
    )


@timeouts.handler(end=True)
async def timeouts_done() -> dict[str, Any]:
    return {"done": True}


# -- a retry policy --------------------------------------------------------------------------

INITIAL_S, COEFFICIENT = 0.2, 2.0

retrying = Blueprint("retrying", api_endpoint="retrying")


@retrying.handler(start=True)
async def try_flaky(initial_data: dict[str, Any], actions: Actions) -> None:
    fails = initial_data["fail_times"]
    actions.dispatch_task(
        "flaky",
        {"fail_times": fails},
        transitions={"success": "retried"},
        retry_policy=RetryPolicy(
            max_attempts=fails + 1,
            initial_interval_s=INITIAL_S,
            backoff_coefficient=COEFFICIENT,
            jitter=0,
        ),
    )


@retrying.handler(end=True)
async def retried(attempt: int) -> dict[str, Any]:
    return {"attempt": attempt}


deferring = Blueprint("deferring", api_endpoint="deferring")


@deferring.handler(start=True)
async def try_deferred(initial_data: dict[str, Any], actions: Actions) -> None:
    actions.dispatch_task(
        "deferred",
        {"after": initial_data["after"]},
        transitions={"success": "deferred_done"},
        # The cap bounds what the worker may ask; the backoff (0.1 s) is what it overrides.
        retry_policy=RetryPolicy(
            max_attempts=2, initial_interval_s=0.1, max_interval_s=initial_data["cap"], jitter=0
        ),
    )


@deferring.handler(end=True)
async def deferred_done(attempt: int) -> dict[str, Any]:
    return {"attempt": attempt}


# -- quarantine ------------------------------------------------------------------------------

TOTAL_SCHEMA = {
    "type": "object",
    "required": ["total"],
    "properties": {"total": {"type": "integer"}},
}

strict = Blueprint("strict", api_endpoint="strict")


@strict.handler(start=True)
async def compute(initial_data: dict[str, Any], actions: Actions) -> None:
    actions.dispatch_task(
        "shaky",
        initial_data,
        transitions={"success": "totalled"},
        retries=0,
        result_schema=TOTAL_SCHEMA,
    )


@strict.handler(end=True)
async def totalled(total: int) -> dict[str, Any]:
    return {"total": total}


# -- live events -----------------------------------------------------------------------------

gated = Blueprint("gated", api_endpoint="gated")


@gated.handler(start=True)
async def pass_gate(actions: Actions) -> None:
    actions.dispatch_task("gate", {}, transitions={"success": "after_gate"})


@gated.handler()
async def after_gate(initial_data: dict[str, Any], actions: Actions) -> None:
    actions.dispatch_task("echo", initial_data, transitions={"success": "gated_done"})


@gated.handler(end=True)
async def gated_done(echo: dict[str, Any]) -> dict[str, Any]:
    return {"echo": echo}


# -- progress --------------------------------------------------------------------------------

stepping = Blueprint("stepping", api_endpoint="stepping")


@stepping.handler(start=True)
async def step(actions: Actions) -> None:
    actions.dispatch_task("stepper", {}, transitions={"success": "stepped"})


@stepping.handler(end=True)
async def stepped(passed: bool) -> dict[str, Any]:
    return {"passed": passed}
