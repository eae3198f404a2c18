"""Submitting results: retried while the orchestrator fails, dropped when it says 409."""

from __future__ import annotations

from collections.abc import Callable

from worker_sdk import Worker

from .conftest import StartWorker, echo_worker, wait_for
from .fake_orchestrator import FakeOrchestrator


async def test_result_retried_after_two_503(
    fake: FakeOrchestrator, make_worker: Callable[..., Worker], start_worker: StartWorker
) -> None:
    fake.result_failures = [503, 503]
    await start_worker(echo_worker(make_worker))
    task_id = fake.enqueue("echo", {"n": 1})
    await wait_for(lambda: task_id in fake.results, what="result accepted after retries")
    assert len(fake.result_posts) == 3
    assert all(post == fake.results[task_id] for post in fake.result_posts)


async def test_result_dropped_on_409_without_retry(
    fake: FakeOrchestrator, make_worker: Callable[..., Worker], start_worker: StartWorker
) -> None:
    fake.result_failures = [409]
    worker = echo_worker(make_worker)
    run = await start_worker(worker)
    fake.enqueue("echo")
    await wait_for(lambda: fake.result_posts and not worker.running_task_ids, what="409 handled")
    worker.stop()
    await run  # nothing is left that could retry
    assert len(fake.result_posts) == 1
    assert fake.results == {}
