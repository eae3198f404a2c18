"""api/hot.py: the routes every job goes through are tried first, and no other route answers
their path and method (a request is answered by the first route matching both), so trying
them first changes no answer."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import make_mocked_request

from orchestrator.app import create_app
from orchestrator.blueprint.registry import BlueprintRegistry
from orchestrator.config import Settings
from orchestrator.storage.embedded import embedded_store

HOT = {
    "/api/v1/jobs/{job_id}": "/api/v1/jobs/0b6c1f0e-2f5e-4d3c-9a7e-1d2c3b4a5f60",
    "/_worker/workers/{worker_id}/tasks/next": "/_worker/workers/bench-0/tasks/next",
}


@pytest.fixture
def app_resources() -> list[object]:
    app = create_app(Settings(), embedded_store("hot"), BlueprintRegistry([]))
    return list(app.router.resources())


def test_the_hot_routes_are_registered_first(app_resources: list[object]) -> None:
    first = [resource.canonical for resource in app_resources[: len(HOT)]]  # type: ignore[attr-defined]
    assert first == list(HOT)


@pytest.mark.parametrize(("canonical", "path"), list(HOT.items()))
async def test_no_other_route_matches_a_hot_request(
    app_resources: list[object], canonical: str, path: str
) -> None:
    matched = []
    for resource in app_resources:
        for method in ("GET", "POST", "PATCH", "DELETE", "PUT"):
            info, _ = await resource.resolve(make_mocked_request(method, path))  # type: ignore[attr-defined]
            if info is not None:
                matched.append((resource.canonical, method))  # type: ignore[attr-defined]
    assert [m for m in matched if m[1] == "GET"] == [(canonical, "GET")]
    assert all(c != canonical for c, method in matched if method != "GET")
