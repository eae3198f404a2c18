"""Every route that reads a query string answers each case as the hand-written parsing did
(``query_cases.py``): the same status, and for a refusal the same code, message, details."""

from __future__ import annotations

from tests.api.conftest import Api
from tests.api.query_cases import compare, record


async def test_same_answers(api: Api) -> None:
    job_id = await api.create()
    assert (await api.cancel(job_id)).status == 200
    await api.wait_status(job_id, "cancelled")
    await api.register("query-worker", skills=("no_such_skill",))
    compare("api", await record(api, job_id, "query-worker"))
