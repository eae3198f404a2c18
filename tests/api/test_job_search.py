"""GET /api/v1/jobs: the created range, the search on ids, paging inside them, refusals;
and what one job's answer has that the list leaves out."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import pytest

from orchestrator.api import job_list
from tests.api.conftest import Api, assert_error, client_headers
from tests.helpers import wait_for


async def listed(api: Api, **query: Any) -> dict[str, Any]:
    resp = await api.client.get(
        "/api/v1/jobs", params={k: str(v) for k, v in query.items()}, headers=client_headers()
    )
    assert resp.status == 200, await resp.text()
    return dict(await resp.json())


def ids(page: dict[str, Any]) -> list[str]:
    return [j["job_id"] for j in page["jobs"]]


async def jobs_a_ms_apart(api: Api, n: int) -> list[dict[str, Any]]:
    """``n`` jobs, oldest first, each created in a later millisecond than the one before
    (so that a range between two of them is exact)."""
    made = []
    for _ in range(n):
        job = await api.job(await api.create())
        made.append(job)
        stamp = datetime.fromisoformat(job["created_at"]).timestamp()
        await wait_for(lambda s=stamp: time.time() >= s + 0.002, 2, "the next millisecond")
    return made


@pytest.mark.parametrize("store_kind", ["redis", "embedded"])
async def test_a_created_range_is_from_inclusive_to_exclusive(api: Api) -> None:
    made = await jobs_a_ms_apart(api, 4)
    a, b, c, d = (j["job_id"] for j in made)
    b_at, d_at = made[1]["created_at"], made[3]["created_at"]
    assert ids(await listed(api, created_after=b_at, created_before=d_at)) == [c, b]
    assert ids(await listed(api, created_after=b_at)) == [d, c, b]
    assert ids(await listed(api, created_before=b_at)) == [a]
    # Unix seconds say the same as the ISO 8601 the API writes
    epoch = f"{datetime.fromisoformat(b_at).timestamp():.3f}"
    assert ids(await listed(api, created_after=epoch, created_before=d_at)) == [c, b]
    # paging inside the range: one at a time, then the end
    first = await listed(api, created_after=b_at, limit=1)
    assert (ids(first), first["next_offset"]) == ([d], 1)
    second = await listed(api, created_after=b_at, limit=1, offset=1)
    assert ids(second) == [c]
    last = await listed(api, created_after=b_at, limit=2, offset=2)
    assert (ids(last), last["next_offset"]) == ([b], None)
    # an empty range is no error: nothing is in it
    assert ids(await listed(api, created_after=d_at, created_before=b_at)) == []
    # with the other filters
    assert ids(await listed(api, created_after=b_at, status="finished")) == []
    assert ids(await listed(api, created_after=b_at, blueprint="greeting", limit=2)) == [d, c]


@pytest.mark.parametrize("store_kind", ["redis", "embedded"])
async def test_searching_ids_finds_a_part_of_one_and_a_whole_one(api: Api) -> None:
    made = [j["job_id"] for j in await jobs_a_ms_apart(api, 3)]
    target = made[1]
    part = next(
        target[i : i + 6]
        for i in range(len(target) - 6)
        if not any(target[i : i + 6] in other for other in made if other != target)
    )
    assert ids(await listed(api, id=part)) == [target]
    assert ids(await listed(api, id=part.upper())) == [target], "ids are matched in any case"
    assert ids(await listed(api, id=target)) == [target]
    assert ids(await listed(api, id="zzzz")) == []
    assert (await listed(api, id="zzzz"))["next_offset"] is None
    # a whole id outside the range, or of another status, is not an answer
    after_it = made[2]
    later = (await api.job(after_it))["created_at"]
    assert ids(await listed(api, id=target, created_after=later)) == []
    assert ids(await listed(api, id=target, status="finished")) == []
    assert ids(await listed(api, id=target, offset=1)) == []
    # "-" is in every id: everything, newest first
    assert ids(await listed(api, id="-")) == made[::-1]


async def test_a_search_stops_at_its_budget_and_says_where_to_go_on(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = [j["job_id"] for j in await jobs_a_ms_apart(api, 5)]
    oldest = made[0]
    part = next(
        oldest[i : i + 8]
        for i in range(len(oldest) - 8)
        if not any(oldest[i : i + 8] in other for other in made[1:])
    )
    monkeypatch.setattr(job_list, "ID_SCAN_LIMIT", 2)
    monkeypatch.setattr(job_list, "ID_CHUNK", 2)
    pages, offset, found = 0, 0, []
    while offset is not None:
        page = await listed(api, id=part, offset=offset)
        found += ids(page)
        offset = page["next_offset"]
        pages += 1
        assert pages <= 5
    assert found == [oldest]
    assert pages == 3, "two ids read per request: 5 ids take 3 requests"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"created_after": "yesterday"}, "created_after"),
        ({"created_after": "2026-11-30T10:00:00"}, "created_after"),  # no zone
        ({"created_before": "-5"}, "created_before"),
        ({"created_before": "nan"}, "created_before"),
        ({"created_before": "2026-02-30T10:00:00Z"}, "created_before"),
        ({"id": "a" * 65}, "id"),
    ],
)
async def test_bad_filters_are_400_naming_the_field(
    api: Api, query: dict[str, str], field: str
) -> None:
    resp = await api.client.get("/api/v1/jobs", params=query, headers=client_headers())
    err = await assert_error(resp, 400, "VALIDATION_ERROR")
    assert err["details"] == {"field": field}, err


async def test_one_jobs_answer_has_its_input_and_data_the_list_does_not(api: Api) -> None:
    job_id = await api.create({"name": "Ada"})
    await api.register("data-1")
    task = await api.take("data-1")
    assert (await api.result(task, "data-1", data={"greeting": "Hello, Ada"})).status == 200
    job = await api.wait_status(job_id, "finished")
    assert job["initial_data"] == {"name": "Ada"}
    assert job["data"] == {"greeting": "Hello, Ada"}
    (listed_job,) = (await listed(api, id=job_id))["jobs"]
    assert "initial_data" not in listed_job and "data" not in listed_job


async def test_an_expired_job_in_the_range_is_skipped_and_forgotten(api: Api) -> None:
    made = await jobs_a_ms_apart(api, 4)
    a, b, c, d = (j["job_id"] for j in made)
    await api.store.redis.delete(api.store.keys.job(c))  # as retention would
    after = made[0]["created_at"]
    first = await listed(api, created_after=after, limit=2)
    assert ids(first) == [d, b]
    rest = await listed(api, created_after=after, limit=2, offset=first["next_offset"])
    assert (ids(rest), rest["next_offset"]) == ([a], None)
    index = await api.store.redis.zrange(api.store.keys.client_jobs("alice"), 0, -1)
    assert c.encode() not in index and len(index) == 3
