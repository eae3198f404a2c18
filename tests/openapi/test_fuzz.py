"""Schemathesis fuzzes every operation of /_public/openapi.json against the real app on a
loopback port over real Redis: no answer may be a 500, and every answer must be one the
document lists, with the documented content type, headers and body schema. Input the
document says is invalid must be refused.

Made-up ids mostly meet 404s, so cases are often pointed at real resources (``Reality``):
jobs live and ended, registered workers, a held task, a stored file, jobs waiting for an
approval with their tokens. Long waits are cut short: ``?wait=`` and ``?timeout=`` become 0
and the server's poll timeout is 0.2 s.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.core.parameters import ParameterLocation
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
from tests.openapi.conftest import FILENAME, FUZZ_WORKER, POLLER, Seeded, ServedApp

LENIENT = (ParameterLocation.QUERY, ParameterLocation.HEADER)
BODY = ParameterLocation.BODY


def invalid_body_or_path_refused(ctx: Any, response: Any, case: Any) -> bool | None:
    """``negative_data_rejection`` for bodies and paths. Query strings and headers are read
    leniently on purpose: an empty value counts as absent, the first of repeated values wins,
    ``Last-Event-ID`` wins over ``?last_event_id=``."""
    meta = case.meta
    if meta is None or any(meta.is_negative_at(location) for location in LENIENT):
        return None
    result: bool | None = negative_data_rejection(ctx, response, case)
    return result


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    invalid_body_or_path_refused,
]

MAX_EXAMPLES = int(os.environ.get("ORCH_FUZZ_EXAMPLES", "25"))
"""Per operation: the CI run stays well under a minute. Set ``ORCH_FUZZ_EXAMPLES=500`` for a
deeper hunt."""

SHORTENED = ("wait", "timeout")
"""Query parameters that hold a request open: always 0 here."""

pytestmark = pytest.mark.timeout(max(120, MAX_EXAMPLES))


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
    real = Reality(seeded)

    @schema.hook
    def flatmap_case(context: Any, case: Any) -> Any:
        return st.one_of(st.just(case), real.case(case))

    return schema


class Reality:
    """Strategies that point a generated case at real resources: a job that exists, the
    worker holding a task, a job waiting for a decision with its token."""

    def __init__(self, seeded: Seeded) -> None:
        self.seeded = seeded

    def case(self, case: Any) -> Any:
        path, params = case.operation.path, dict(case.path_parameters or {})
        held = self.seeded.held
        if path.startswith("/_public/webhooks/approval/"):
            return self._approval(case)
        if path == "/_worker/tasks/result":
            return self._result(case)
        if "worker_id" in params:
            worker = FUZZ_WORKER if path == "/_worker/workers/{worker_id}" else POLLER
            params["worker_id"] = worker
            return _later(lambda: _with(case, path_parameters=params))
        if "filename" in params:
            params.update(job_id=held["job_id"], filename=FILENAME)

            def held_file() -> Any:
                if path.startswith("/_worker/"):
                    case.headers["X-Worker-Id"] = POLLER
                return _with(case, path_parameters=params)

            return _later(held_file)
        if "job_id" in params:
            # an SSE stream of a live job stays open: only ended jobs there
            ended = path.endswith("/events")
            jobs = self.seeded.ended_jobs if ended else self.seeded.jobs
            return st.sampled_from(jobs).map(lambda j: _with(case, path_parameters={"job_id": j}))
        return st.just(case)

    def _approval(self, case: Any) -> Any:
        waiting = sorted(self.seeded.approval_tokens.items())

        def decide(pick: tuple[tuple[str, str], str]) -> Any:
            (job_id, token), decision = pick
            case.headers["X-Approval-Token"] = token
            if isinstance(case.body, dict) and not case.meta.is_negative_at(BODY):
                case.body = {**case.body, "decision": decision}
            return _with(case, path_parameters={"job_id": job_id})

        decisions = st.sampled_from(["approve", "reject"])
        return st.tuples(st.sampled_from(waiting), decisions).map(decide)

    def _result(self, case: Any) -> Any:
        if not isinstance(case.body, dict) or case.meta.is_negative_at(BODY):
            return st.just(case)
        body = {**case.body, **self.seeded.held, "status": "success"}
        return _later(lambda: _with(case, body=body))


def _later(make: Any) -> Any:
    """A strategy that changes the case only when drawn: the unchanged case is drawn too."""
    return st.just(None).map(lambda _: make())


def _with(case: Any, **changes: Any) -> Any:
    for name, value in changes.items():
        setattr(case, name, value)
    return case


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


def test_reads_still_answer_after_the_fuzz(served: ServedApp) -> None:
    """What the fuzzer wrote (workers' records, jobs) must not break the pages that read it."""
    headers = {"X-Client-Token": CLIENT_TOKEN}
    for path in ("/api/v1/workers", "/api/v1/dashboard", "/api/v1/jobs", "/_public/metrics"):
        resp = requests.get(f"{served.url}{path}", headers=headers, timeout=10)
        assert resp.status_code == 200, (path, resp.status_code, resp.text)
