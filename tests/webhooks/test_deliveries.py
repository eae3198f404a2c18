"""Each notified status reaches a real receiver once, signed, with the documented body."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from orchestrator.examples.webhooks.receiver import SEEN, create_receiver
from tests.api.conftest import Api, client_headers
from tests.helpers import free_port, wait_for
from tests.webhooks.conftest import (
    SECRET,
    Delivery,
    MakeApp,
    Receiver,
    history_event,
    outbox_entries,
    run_greeting,
)


def assert_signed(delivery: Delivery, webhook_id: str, attempt: int = 1) -> None:
    assert delivery.verified, delivery.headers
    assert delivery.headers["X-Webhook-Id"] == webhook_id
    assert delivery.headers["X-Webhook-Attempt"] == str(attempt)
    assert delivery.headers["X-Webhook-Signature"].startswith("v1=")
    assert delivery.headers["Content-Type"] == "application/json"


async def expected(api: Api, job_id: str, status: str, event_type: str) -> dict[str, Any]:
    """The body the docs promise, from the job and its history as the API shows them."""
    job, event = await api.job(job_id), await history_event(api, job_id, event_type)
    body: dict[str, Any] = {
        "event": f"job.{status}",
        "webhook_id": f"{job_id}:{event['id']}",
        "job_id": job_id,
        "blueprint": job["blueprint"],
        "status": status,
        "timestamp": event["timestamp"],
    }
    if status == "finished":
        body["result"] = job["result"]
    else:
        body["error"] = event.get("error")
    return body


async def test_a_finished_job_is_delivered_signed_with_its_result(
    api: Api, receiver: Receiver
) -> None:
    job_id = await run_greeting(api, webhook_url=receiver.url)

    [delivery] = await receiver.wait_delivered(1)

    want = await expected(api, job_id, "finished", "job_finished")
    assert delivery.body == want
    assert want["result"] == {"greeting": "Hello, Ada", "job_id": job_id}
    assert_signed(delivery, want["webhook_id"])
    await wait_for(lambda: _empty(api), what="the outbox to empty")


async def test_a_job_that_fails_at_creation_is_delivered_with_its_error(
    api: Api, receiver: Receiver
) -> None:
    job_id = await api.create({"name": ""}, webhook_url=receiver.url)

    [delivery] = await receiver.wait_delivered(1)

    want = await expected(api, job_id, "failed", "job_failed")
    assert delivery.body == want
    assert want["error"]["code"] == "MISSING_FIELDS"
    assert_signed(delivery, want["webhook_id"])


async def test_a_cancelled_job_is_delivered(api: Api, receiver: Receiver) -> None:
    job_id = await api.create(webhook_url=receiver.url)
    resp = await api.cancel(job_id)
    assert resp.status == 200, await resp.text()

    [delivery] = await receiver.wait_delivered(1)

    want = await expected(api, job_id, "cancelled", "job_cancelled")
    assert delivery.body == want
    assert want["error"]["code"] == "CANCELLED"
    assert_signed(delivery, want["webhook_id"])


async def test_a_quarantined_job_is_delivered(api: Api, receiver: Receiver) -> None:
    job_id = await api.create(endpoint="v1/review", webhook_url=receiver.url)
    await api.register("rev", ["review"])
    task = await api.take("rev")
    resp = await api.result(task, "rev", "maybe")
    assert resp.status == 200, await resp.text()

    [delivery] = await receiver.wait_delivered(1)

    want = await expected(api, job_id, "quarantined", "job_quarantined")
    assert delivery.body == want
    assert want["error"]["code"] == "UNMAPPED_TASK_STATUS"
    assert_signed(delivery, want["webhook_id"])


async def approve(api: Api, job_id: str, decision: str, token: str) -> None:
    resp = await api.client.post(
        f"/_public/webhooks/approval/{job_id}",
        json={"decision": decision},
        headers={"X-Approval-Token": token},
    )
    assert resp.status == 200, await resp.text()


async def test_human_waits_are_delivered_with_a_token_that_approves(
    api: Api, receiver: Receiver
) -> None:
    """The token in each ``waiting_for_human`` delivery is the one that works, also when the
    job goes from one wait straight into another (same status, a new wait)."""
    job_id = await api.create(endpoint="v1/approval", webhook_url=receiver.url)

    [first] = await receiver.wait_delivered(1)
    job = await api.job(job_id)
    event = await history_event(api, job_id, "human_waiting")
    assert first.body == {
        "event": "job.waiting_for_human",
        "webhook_id": f"{job_id}:{event['id']}",
        "job_id": job_id,
        "blueprint": "approval",
        "status": "waiting_for_human",
        "timestamp": event["timestamp"],
        "error": None,
        "approval": {
            "state": "ask",
            "decisions": ["approve", "reject"],
            "token": job["approval"]["token"],
            "expires_at": None,
            "url": f"/_public/webhooks/approval/{job_id}",
            "role": None,
            "assignee": None,
            "title": None,
            "due_at": None,
        },
    }
    assert_signed(first, first.body["webhook_id"])

    await approve(api, job_id, "approve", first.body["approval"]["token"])
    second = (await receiver.wait_delivered(2))[1]
    assert second.body["event"] == "job.waiting_for_human"
    assert second.body["approval"]["state"] == "confirm"
    assert second.body["approval"]["token"] != first.body["approval"]["token"]
    assert second.webhook_id != first.webhook_id

    await approve(api, job_id, "confirm", second.body["approval"]["token"])
    third = (await receiver.wait_delivered(3))[2]
    assert third.body == await expected(api, job_id, "finished", "job_finished")
    assert third.body["result"] == {"approved": True}
    assert all(d.verified for d in receiver.requests)


async def test_a_retried_job_that_fails_again_is_delivered_twice(
    api: Api, receiver: Receiver
) -> None:
    job_id = await api.create({"name": ""}, webhook_url=receiver.url)
    [first] = await receiver.wait_delivered(1)

    resp = await api.client.post(f"/api/v1/jobs/{job_id}/retry", headers=client_headers())
    assert resp.status == 200, await resp.text()

    second = (await receiver.wait_delivered(2))[1]
    assert second.body == await expected(api, job_id, "failed", "job_failed")
    assert second.webhook_id != first.webhook_id


async def test_jobs_without_a_webhook_url_write_no_outbox_entry(
    api: Api, receiver: Receiver
) -> None:
    await run_greeting(api, "w-plain")
    await api.create({"name": ""})  # fails at once
    assert await outbox_entries(api) == []

    hooked = await run_greeting(api, "w-hooked", webhook_url=receiver.url)
    [delivery] = await receiver.wait_delivered(1)
    assert delivery.body["job_id"] == hooked
    await wait_for(lambda: _empty(api), what="the outbox to empty")
    assert len(receiver.requests) == 1


async def _empty(api: Api) -> bool:
    return await outbox_entries(api) == []


async def test_the_embedded_store_delivers_too(make_app: MakeApp, receiver: Receiver) -> None:
    api = await make_app(embedded=True)
    job_id = await run_greeting(api, webhook_url=receiver.url)

    [delivery] = await receiver.wait_delivered(1)

    assert delivery.body == await expected(api, job_id, "finished", "job_finished")
    assert delivery.verified


async def test_the_example_receiver_accepts_a_real_delivery(api: Api) -> None:
    app = create_receiver(SECRET)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        job_id = await api.create({"name": ""}, webhook_url=f"http://127.0.0.1:{port}/hooks")
        await wait_for(lambda: app[SEEN], what="the example receiver to get the delivery")
    finally:
        await runner.cleanup()

    [webhook_id] = app[SEEN]
    assert webhook_id.startswith(f"{job_id}:")
