"""Schemathesis fuzzes every operation of /_public/openapi.json against the real app on a
loopback port over real Redis: no answer may be a 500, and every answer must be one the
document lists, with the documented content type, headers and body schema. Input the
document says is invalid must be refused.

Made-up ids mostly meet 404s, so path parameters are often swapped for real resources
(jobs live and ended, a registered worker, jobs waiting for an approval). Long waits are cut
short: ``?wait=`` and ``?timeout=`` become 0 and the server's poll timeout is 0.2 s.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from orchestrator.api.openapi import build_document
from tests.api.conftest import CLIENT_TOKEN, WORKER_TOKEN, make_settings
from tests.openapi.blueprints import ALL
from tests.openapi.conftest import FUZZ_WORKER, Seeded, ServedApp

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]

MAX_EXAMPLES = 25
"""Per operation; the whole run stays well under a minute."""

SHORTENED = ("wait", "timeout")
"""Query parameters that hold a request open: always 0 here."""

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def api_schema(served: ServedApp, seeded: Seeded) -> Any:
    config = SchemathesisConfig.from_dict(
        {
            # tokens are sent with every request; auth itself is tested in tests/api
            "headers": {"X-Client-Token": CLIENT_TOKEN, "X-Worker-Token": WORKER_TOKEN},
            "generation": {"with-security-parameters": False, "database": "none"},
            "request-timeout": 10,
        }
    )
    schema = schemathesis.openapi.from_url(f"{served.url}/_public/openapi.json", config=config)
    real_jobs = st.sampled_from(seeded.jobs)
    ended_jobs = st.sampled_from(seeded.ended_jobs)
    waiting = st.sampled_from(sorted(seeded.approval_tokens))

    @schema.hook
    def flatmap_path_parameters(context: Any, params: dict[str, Any] | None) -> Any:
        path = context.operation.path
        options = [st.just(params)]
        if params is None:
            return options[0]
        if "job_id" in params:
            # an SSE stream of a live job stays open: only ended jobs there
            jobs = ended_jobs if path.endswith("/events") else real_jobs
            if path.startswith("/_public/webhooks/approval/"):
                jobs = waiting
            options += [jobs.map(lambda job_id: {**params, "job_id": job_id})] * 3
        if "worker_id" in params:
            options += [st.just({**params, "worker_id": FUZZ_WORKER})] * 3
        return st.one_of(options)

    @schema.hook
    def flatmap_headers(context: Any, headers: dict[str, Any] | None) -> Any:
        if not context.operation.path.startswith("/_public/webhooks/approval/"):
            return st.just(headers)
        tokens = st.sampled_from(sorted(seeded.approval_tokens.values()))
        real = tokens.map(lambda token: {**(headers or {}), "X-Approval-Token": token})
        return st.one_of(st.just(headers), real)

    return schema


def operations() -> list[str]:
    """Every documented operation, as schemathesis labels it (flush_db deletes the keys the
    run needs, and is only served in dev mode)."""
    doc = build_document(make_settings(), ALL)
    return [f"{method.upper()} {path}" for path, item in doc["paths"].items() for method in item]


@pytest.mark.parametrize("label", operations())
def test_operation_answers_as_documented(api_schema: Any, label: str) -> None:
    operation = api_schema.find_operation_by_label(label)
    assert operation is not None, label
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @given(case=cases)
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def fuzz(case: Any) -> None:
        for name in SHORTENED:
            if case.query and name in case.query:
                case.query[name] = 0
        case.call_and_validate(checks=CHECKS)

    fuzz()
