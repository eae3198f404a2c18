"""``RetryLater(after=..., reason=...)``: the delay a handler asks for reaches the result body."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from worker_sdk import RetryLater, Worker
from worker_sdk.testing import run_task

from .conftest import StartWorker, wait_for
from .fake_orchestrator import FakeOrchestrator


async def test_retry_later_sends_its_delay_and_reason(
    fake: FakeOrchestrator, make_worker: Callable[..., Worker], start_worker: StartWorker
) -> None:
    worker = make_worker(capacity=3)

    @worker.task("after")
    async def after(params: dict[str, Any]) -> None:
        raise RetryLater(after=2, reason="rate limited upstream")

    @worker.task("until")
    async def until(params: dict[str, Any]) -> None:
        raise RetryLater("busy", after=datetime.now(UTC) + timedelta(seconds=30))

    @worker.task("plain")
    async def plain(params: dict[str, Any]) -> None:
        raise RetryLater("smtp busy")

    await start_worker(worker)
    ids = {name: fake.enqueue(name) for name in ("after", "until", "plain")}
    await wait_for(lambda: len(fake.results) == len(ids), what="three results")

    assert fake.results[ids["after"]]["error"] == {
        "code": "RETRY_LATER",
        "message": "rate limited upstream",
        "retryable": True,
        "retry_after_s": 2.0,
    }
    until_error = fake.results[ids["until"]]["error"]
    # Converted on the worker's clock when raised: a little less than 30 s remain.
    assert 25 < until_error["retry_after_s"] <= 30, until_error
    # Without ``after`` the body is as before: the blueprint's backoff applies.
    assert "retry_after_s" not in fake.results[ids["plain"]]["error"]


async def test_a_past_deadline_means_at_once() -> None:
    async def handler(params: dict[str, Any]) -> None:
        raise RetryLater(after=datetime.now(UTC) - timedelta(minutes=1))

    outcome = await run_task(handler, None, {})
    assert outcome.error is not None
    assert outcome.error.retry_after_s == 0.0


@pytest.mark.parametrize(
    "after",
    [float("nan"), float("inf"), "5", True, datetime(2030, 1, 1)],
    ids=["nan", "inf", "text", "bool", "naive-datetime"],
)
def test_a_bad_delay_is_refused_where_it_is_raised(after: Any) -> None:
    with pytest.raises(ValueError, match="after"):
        RetryLater(after=after)
