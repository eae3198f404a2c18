"""Per-process metrics: HTTP requests by route group, event-loop lag, webhook deliveries."""

from __future__ import annotations

import asyncio
import time

import pytest

from orchestrator.api.middleware import route_group
from orchestrator.appkeys import METRICS
from orchestrator.loops.telemetry import measure_lag
from tests.api.conftest import Api, client_headers, worker_headers
from tests.helpers import wait_for
from tests.metrics.conftest import scrape


@pytest.mark.parametrize(
    ("path", "group"),
    [
        ("/_public/status", "public"),
        ("/api/v1/jobs/5f0c/history", "api"),
        ("/_worker/workers/w1/tasks/next", "worker"),
        ("/favicon.ico", "other"),
        ("/apiary", "other"),
    ],
)
def test_paths_map_to_a_bounded_set_of_groups(path: str, group: str) -> None:
    assert route_group(path) == group


async def test_http_requests_are_counted_by_group_and_status(api: Api) -> None:
    for _ in range(2):
        assert (await api.client.get("/_public/status")).status == 200
    assert (await api.client.get("/api/v1/blueprints", headers=client_headers())).status == 200
    assert (await api.client.get("/api/v1/blueprints")).status == 401
    assert (await api.client.get("/api/v1/jobs/nope", headers=client_headers())).status == 404
    resp = await api.client.patch("/_worker/workers/ghost", headers=worker_headers())
    assert resp.status == 404
    assert (await api.client.get("/nowhere")).status == 404

    m = await scrape(api)

    # the scrape counts itself only once it has answered
    assert m.series("orchestrator_http_requests_total") == {
        frozenset({("group", "public"), ("status", "200")}): 2.0,
        frozenset({("group", "api"), ("status", "200")}): 1.0,
        frozenset({("group", "api"), ("status", "401")}): 1.0,
        frozenset({("group", "api"), ("status", "404")}): 1.0,
        frozenset({("group", "worker"), ("status", "404")}): 1.0,
        frozenset({("group", "other"), ("status", "404")}): 1.0,
    }
    assert m.count("orchestrator_http_request_duration_seconds_count", group="api") == 3
    again = await scrape(api)
    assert again.count("orchestrator_http_requests_total", group="public", status="200") == 3


async def test_event_loop_lag_is_measured_in_the_background(api: Api) -> None:
    async def measured() -> bool:
        m = await scrape(api)
        return m.count("orchestrator_event_loop_lag_seconds_count") >= 1

    await wait_for(measured, timeout=5.0, what="a lag measurement")


def block_the_loop(seconds: float) -> None:
    time.sleep(seconds)  # what the lag measures, not a wait


async def test_lag_is_how_late_a_sleep_wakes_up() -> None:
    lags: list[float] = []
    task = asyncio.create_task(measure_lag(lags.append, interval_s=0.01))
    await asyncio.sleep(0)  # let it start its first sleep
    block_the_loop(0.1)
    await wait_for(lambda: lags, what="a lag sample")
    task.cancel()

    assert lags[0] >= 0.08


async def test_webhook_deliveries_by_outcome(api: Api) -> None:
    metrics = api.app[METRICS]
    metrics.webhook_delivered(True)
    metrics.webhook_delivered(True)
    metrics.webhook_delivered(False)

    m = await scrape(api)

    assert m.value("orchestrator_webhook_deliveries_total", outcome="success") == 2
    assert m.value("orchestrator_webhook_deliveries_total", outcome="failure") == 1
