"""What a worker offers, as each process's long-polls see it (``dispatch/profiles.py``): a
change made through any process reaches every process's next poll, with no Redis read per
poll."""

from __future__ import annotations

from orchestrator.appkeys import PROFILES
from tests.api.conftest import Api, MakeApi, assert_error, client_headers, worker_headers
from tests.helpers import wait_for


async def _deregister(api: Api, worker_id: str) -> None:
    resp = await api.client.delete(f"/_worker/workers/{worker_id}", headers=worker_headers())
    assert resp.status == 204


async def test_a_deregistered_worker_polling_the_same_process_is_not_registered(
    api: Api,
) -> None:
    await api.register("leaver")
    assert (await api.poll("leaver", timeout=0.05)).status == 204
    await _deregister(api, "leaver")
    await assert_error(await api.poll("leaver", timeout=0.05), 404, "WORKER_NOT_REGISTERED")


async def test_a_deregistration_through_another_process_stops_the_polls_here(
    make_api: MakeApi,
) -> None:
    here, there = await make_api(), await make_api()
    await here.register("leaver")
    assert (await here.poll("leaver", timeout=0.05)).status == 204  # known here now
    await _deregister(there, "leaver")

    async def refused() -> bool:
        return (await here.poll("leaver", timeout=0.05)).status == 404

    # well within the 10 s a copy was kept before: the announcement, not its age, ends it
    await wait_for(refused, timeout=5, what="the poll here to be refused")


async def test_skills_changed_through_another_process_reach_the_polls_here(
    make_api: MakeApi,
) -> None:
    here, there = await make_api(), await make_api()
    await here.register("learner", ["review"])
    assert (await here.poll("learner", timeout=0.05)).status == 204  # known here now
    resp = await there.heartbeat("learner", {"supported_skills": ["greet"]})
    assert resp.status == 200, await resp.text()
    job_id = await there.create()

    async def served() -> str | None:
        resp = await here.poll("learner", timeout=0.2)
        return str((await resp.json())["job_id"]) if resp.status == 200 else None

    assert await wait_for(served, timeout=5, what="the greet task here") == job_id


async def test_a_registration_again_through_another_process_reaches_the_polls_here(
    make_api: MakeApi,
) -> None:
    here, there = await make_api(), await make_api()
    await here.register("switch", ["review"])
    assert (await here.poll("switch", timeout=0.05)).status == 204
    await there.register("switch", ["greet"])
    await wait_for(
        lambda: "switch" not in here.app[PROFILES], timeout=5, what="the copy here forgotten"
    )
    job_id = await there.create()
    assert (await here.take("switch"))["job_id"] == job_id


async def test_a_worker_forgotten_as_expired_is_forgotten_by_the_polls_here(
    make_api: MakeApi,
) -> None:
    here, there = await make_api(worker_ttl_s=0.5), await make_api(worker_ttl_s=0.5)
    await here.register("ghost")
    assert (await here.poll("ghost", timeout=0.05)).status == 204  # known here now

    async def forgotten_there() -> bool:  # the workers list drops records past their TTL
        resp = await there.client.get("/api/v1/workers", headers=client_headers())
        return "ghost" not in {w["worker_id"] for w in await resp.json()}

    await wait_for(forgotten_there, timeout=5, what="the record to expire")
    await wait_for(
        lambda: "ghost" not in here.app[PROFILES], timeout=5, what="the copy here forgotten"
    )
    await assert_error(await here.poll("ghost", timeout=0.05), 404, "WORKER_NOT_REGISTERED")
