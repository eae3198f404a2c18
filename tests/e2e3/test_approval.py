"""The approval webhook: token, decision, state and timeout checks, across two processes."""

from __future__ import annotations

import asyncio

import aiohttp

from tests.e2e3.conftest import Client, E3Cluster, of_type, states


async def test_approval_refuses_bad_tokens_bad_decisions_and_a_second_answer(
    e3: E3Cluster, http: aiohttp.ClientSession
) -> None:
    first, second = await asyncio.gather(e3.orchestrator(), e3.orchestrator())
    api, other = Client(http, first), Client(http, second)
    job_id = await api.start("approval", {})
    job = await api.wait_status(job_id, "waiting_for_human")
    token = job["approval"]["token"]
    assert job["approval"]["decisions"] == ["approve", "reject"]

    status, body = await other.approve(job_id, "approve", "0" * len(token))
    assert (status, body["error"]["code"]) == (403, "INVALID_APPROVAL_TOKEN")
    status, body = await other.approve(job_id, "approve", None)
    assert (status, body["error"]["code"]) == (403, "INVALID_APPROVAL_TOKEN")

    status, body = await other.approve(job_id, "maybe", token)
    assert (status, body["error"]["code"]) == (400, "INVALID_DECISION")
    assert body["error"]["details"]["allowed"] == ["approve", "reject"]
    assert (await api.job(job_id))["status"] == "waiting_for_human"  # refusals change nothing

    # two answers at once, one to each process (both share the approval secret): one wins
    answers = await asyncio.gather(
        api.approve(job_id, "approve", token), other.approve(job_id, "reject", token)
    )
    assert sorted(status for status, _ in answers) == [200, 409], answers
    decided = dict(zip(("approve", "reject"), answers, strict=True))
    ((won, (_, accepted)),) = [(d, a) for d, a in decided.items() if a[0] == 200]
    assert accepted == {"status": "approval_received", "job_id": job_id}
    ((_, refused),) = [a for a in answers if a[0] == 409]
    assert refused["error"]["code"] == "NOT_WAITING_FOR_HUMAN"
    job = await api.wait_status(job_id, "finished")
    assert job["result"] == {"decision": won}

    status, body = await api.approve(job_id, "reject", token)  # and once more, later
    assert (status, body["error"]["code"]) == (409, "NOT_WAITING_FOR_HUMAN")
    assert body["error"]["details"]["status"] == "finished"
    assert "finished" in body["error"]["message"]

    history = await api.history(job_id)
    assert [e["decision"] for e in of_type(history, "human_decided")] == [won]
    assert states(history) == ["review", {"approve": "approved", "reject": "rejected"}[won]]

    status, body = await api.approve("no-such-job", "approve", token)
    assert (status, body["error"]["code"]) == (404, "JOB_NOT_FOUND")


async def test_approval_after_the_timeout_moved_the_job_on_is_refused(
    e3: E3Cluster, http: aiohttp.ClientSession
) -> None:
    orch = await e3.orchestrator()
    api = Client(http, orch)
    job_id = await api.start("approval", {"timeout": 0.5})
    token = (await api.wait_status(job_id, "waiting_for_human"))["approval"]["token"]

    job = await api.wait_status(job_id, "finished", timeout=10)
    assert job["result"] == {"timed_out": True}
    history = await api.history(job_id)
    assert [(e["kind"], e["state"]) for e in of_type(history, "timeout")] == [("human", "review")]
    assert states(history) == ["review", "expired"]

    status, body = await api.approve(job_id, "approve", token)
    assert (status, body["error"]["code"]) == (409, "NOT_WAITING_FOR_HUMAN")
    assert body["error"]["details"]["status"] == "finished"
    assert of_type(await api.history(job_id), "human_decided") == []
