"""YAML blueprints run end to end through the real app on real Redis: a guard picks each
branch, and placeholders fill task params and results. The tests play the worker over HTTP."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Api

CUSTOMER = {"name": "Grace", "vip": False}


async def test_the_greeting_twin_runs_like_the_python_one(yaml_api: Api) -> None:
    job_id = await yaml_api.create({"name": "Ada"})
    await yaml_api.register("y-greet")

    task = await yaml_api.take("y-greet")
    assert (task["task_type"], task["params"]) == ("greet", {"name": "Ada"})
    resp = await yaml_api.result(task, "y-greet", data={"greeting": "Hello, Ada"})
    assert resp.status == 200, await resp.text()

    job = await yaml_api.wait_status(job_id, "finished")
    assert job["result"] == {"greeting": "Hello, Ada", "job_id": job_id}


async def test_the_greeting_twin_fails_without_a_name(yaml_api: Api) -> None:
    job_id = await yaml_api.create({"name": "   "})

    job = await yaml_api.wait_status(job_id, "failed")
    assert job["error"]["code"] == "MISSING_FIELDS"


async def test_a_big_order_takes_the_guarded_branch(yaml_api: Api) -> None:
    job_id = await yaml_api.create(
        {"amount": 500, "customer": CUSTOMER}, endpoint="v1/yaml-routing"
    )
    await yaml_api.register("y-review", ["yaml_review", "yaml_approve"])

    task = await yaml_api.take("y-review")
    assert task["task_type"] == "yaml_review"
    assert task["params"] == {
        "amount": 500,  # a lone placeholder keeps the value's type
        "customer": CUSTOMER,
        "note": "order of 500 by Grace",
    }
    resp = await yaml_api.result(task, "y-review", data={"reviewer": "Eve"})
    assert resp.status == 200, await resp.text()

    job = await yaml_api.wait_status(job_id, "finished")
    assert job["result"] == {"branch": "reviewed", "reviewer": "Eve", "amount": 500}


async def test_a_small_order_takes_the_default_branch(yaml_api: Api) -> None:
    job_id = await yaml_api.create({"amount": 20, "customer": CUSTOMER}, endpoint="v1/yaml-routing")
    await yaml_api.register("y-auto", ["yaml_review", "yaml_approve"])

    task = await yaml_api.take("y-auto")
    assert task["task_type"] == "yaml_approve"
    assert task["params"] == {"amount": 20, "tags": ["Grace", "fixed", None]}
    resp = await yaml_api.result(task, "y-auto", data={"code": "A-20"})
    assert resp.status == 200, await resp.text()

    job = await yaml_api.wait_status(job_id, "finished")
    assert job["result"] == {
        "branch": "auto",
        "job": job_id,
        "code": "A-20",
        "missing": None,
        "summary": "approved 20 for Grace",
    }


async def test_the_guard_reads_nested_data(yaml_api: Api) -> None:
    vip = {**CUSTOMER, "vip": True}
    job_id = await yaml_api.create({"amount": 500, "customer": vip}, endpoint="v1/yaml-routing")
    await yaml_api.register("y-vip", ["yaml_review", "yaml_approve"])

    task = await yaml_api.take("y-vip")

    assert task["task_type"] == "yaml_approve", "a VIP's big order skips the review"
    job = await yaml_api.job(job_id)
    assert job["current_state"] == "auto"


async def test_a_custom_status_moves_to_its_state_and_fails_with_a_message(
    yaml_api: Api,
) -> None:
    job_id = await yaml_api.create(
        {"amount": 900, "customer": CUSTOMER}, endpoint="v1/yaml-routing"
    )
    await yaml_api.register("y-refuse", ["yaml_review"])
    task = await yaml_api.take("y-refuse")

    data: dict[str, Any] = {"reviewer": "Eve", "why": "too big"}
    resp = await yaml_api.result(task, "y-refuse", status="rejected", data=data)
    assert resp.status == 200, await resp.text()

    job = await yaml_api.wait_status(job_id, "failed")
    assert job["error"]["code"] == "REFUSED"
    assert job["error"]["message"] == "refused by Eve: too big"
