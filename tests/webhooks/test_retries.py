"""A receiver that fails gets the delivery again, later each time, up to the bound."""

from __future__ import annotations

from tests.api.conftest import Api
from tests.helpers import wait_for
from tests.metrics.conftest import scrape
from tests.webhooks.conftest import MakeApp, Receiver, outbox_entries


async def deliveries_counted(api: Api, outcome: str) -> float:
    metrics = await scrape(api)
    return metrics.count("orchestrator_webhook_deliveries_total", outcome=outcome)


async def test_delivered_on_the_third_attempt_after_two_failures_with_growing_gaps(
    make_app: MakeApp, receiver: Receiver
) -> None:
    api = await make_app(webhook_backoff_s=0.3)
    receiver.answers = [500, 500]
    job_id = await api.create({"name": ""}, webhook_url=receiver.url)

    first, second, third = await receiver.wait_requests(3)

    assert [d.status for d in receiver.requests] == [500, 500, 200]
    assert all(d.verified for d in receiver.requests)
    assert {d.webhook_id for d in receiver.requests} == {first.webhook_id}
    assert first.webhook_id.startswith(f"{job_id}:")
    assert [d.headers["X-Webhook-Attempt"] for d in receiver.requests] == ["1", "2", "3"]
    assert first.body == second.body == third.body
    # backoff 0.3 s then 0.6 s, each +-20 %, plus up to one 20 ms poll
    gap1, gap2 = second.at - first.at, third.at - second.at
    assert 0.24 <= gap1 < gap2, (gap1, gap2)
    assert gap2 >= 0.48, (gap1, gap2)

    await wait_for(lambda: _empty(api), what="the delivered entry to leave the outbox")
    assert await deliveries_counted(api, "success") == 1
    assert await deliveries_counted(api, "failure") == 2
    assert len(receiver.requests) == 3


async def test_a_delivery_is_dropped_after_the_last_attempt(
    make_app: MakeApp, receiver: Receiver
) -> None:
    api = await make_app(webhook_max_attempts=3)
    receiver.default = 503
    await api.create({"name": ""}, webhook_url=receiver.url)

    await receiver.wait_requests(3)
    await wait_for(lambda: _empty(api), what="the given-up entry to leave the outbox")

    assert [d.headers["X-Webhook-Attempt"] for d in receiver.requests] == ["1", "2", "3"]
    assert await deliveries_counted(api, "failure") == 3
    assert await deliveries_counted(api, "success") == 0


async def test_an_unreachable_receiver_counts_as_a_failure_and_is_retried(
    api: Api, receiver: Receiver
) -> None:
    await receiver.stop()  # connection refused
    await api.create({"name": ""}, webhook_url=receiver.url)

    async def failed_once() -> bool:
        entries = await outbox_entries(api)
        return bool(entries) and entries[0][0] is not None and entries[0][0].attempt >= 2

    await wait_for(failed_once, what="a failed attempt")
    assert await deliveries_counted(api, "failure") >= 1
    await receiver.start()
    [delivery] = await receiver.wait_delivered(1)
    assert delivery.verified
    assert int(delivery.headers["X-Webhook-Attempt"]) >= 2


async def _empty(api: Api) -> bool:
    return await outbox_entries(api) == []
