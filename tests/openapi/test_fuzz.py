"""Schemathesis fuzzes every operation of /_public/openapi.json against the real app on a
loopback port over real Redis, with every check schemathesis has (``CHECKS``; the few
narrowed ones say why): no answer may be a 500, every answer must be one the document lists,
with the documented content type, headers and body schema; input the document says is
invalid must be refused, and input it says is valid must not be refused for its shape; the
token must be enforced.

Made-up ids mostly meet 404s, so cases are often pointed at real resources (``Reality``):
jobs live and ended, registered workers, a held task, a stored file, jobs waiting for an
approval with their tokens. Long waits are cut short: ``?wait=`` and ``?timeout=`` become 0
and the server's poll timeout is 0.2 s.

The run is deterministic: hypothesis derandomizes (the same cases on every run of the same
code, on every machine), so a red run is a bug to fix, never bad luck. Hypothesis also draws
some strings from the constants in the project's own source, so a change anywhere in the
code may move a few cases; the app serves from a child process so that nothing else does
(``served.py``). To hunt wider locally:

    ORCH_FUZZ_SEED=random ORCH_FUZZ_EXAMPLES=500 .venv/bin/python -m pytest \
        tests/openapi/test_fuzz.py

``ORCH_FUZZ_SEED`` is ``random`` (a new seed per run; a failure prints the seed) or a number
(replay that seed); ``ORCH_FUZZ_EXAMPLES`` is the number of cases per operation (25). Under CI
(``CI`` set to ``true`` or ``1``) both are ignored. Pin every case a wider run finds in
``test_regressions.py``.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from schemathesis.checks import CHECKS as REGISTERED
from schemathesis.checks import load_all_checks
from schemathesis.config import SchemathesisConfig
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    negative_data_rejection,
    positive_data_acceptance,
)

from orchestrator.api.files import MAX_FILENAME_BYTES
from orchestrator.api.openapi import build_document
from tests.api.conftest import CLIENT_TOKEN, WORKER_TOKEN, make_settings
from tests.openapi.blueprints import ALL
from tests.openapi.conftest import FILENAME, FUZZ_WORKER, POLLER, Seeded, ServedApp

LENIENT = (ParameterLocation.QUERY, ParameterLocation.HEADER)
BODY = ParameterLocation.BODY


def invalid_body_or_path_refused(ctx: Any, response: Any, case: Any) -> bool | None:
    """``negative_data_rejection`` for bodies and paths. Query strings and headers are read
    leniently on purpose: an empty value counts as absent, the first of repeated values wins,
    ``Last-Event-ID`` wins over ``?last_event_id=``. A body over the size limit is refused
    with 413 before anything checks its shape, which schemathesis does not count as a
    refusal."""
    meta = case.meta
    if meta is None or any(meta.is_negative_at(location) for location in LENIENT):
        return None
    if response.status_code == 413:  # refused before it is read: too big is a refusal too
        return True
    result: bool | None = negative_data_rejection(ctx, response, case)
    return result


def valid_input_accepted(ctx: Any, response: Any, case: Any) -> bool | None:
    """``positive_data_acceptance``, but for two cases:

    - a file name over 255 bytes of UTF-8: JSON Schema counts characters, so the document can
      only say ``maxLength`` 255 and name the byte limit in words; the server keeps the byte
      limit, which file systems impose;
    - the WebSocket route: ``requests`` puts its own ``Connection`` header in place of the
      handshake's ``Connection: Upgrade``, so no case here completes a handshake (the route is
      refused without one, which the negative checks see). ``tests/sdk`` and ``tests/e2e``
      open it with real WebSocket clients;
    - the inbox's pairs of parameters that exclude each other (``unassigned`` with
      ``assignee``, ``page`` with ``cursor`` ...), each valid alone: a schema of independent
      parameters cannot say so (their descriptions do), and the refusal names the pair
      (``tests/human/test_inbox_search.py`` checks each one).
    """
    if case.operation.path == "/_worker/ws/{worker_id}":
        return None
    if case.operation.path == "/api/v1/human-tasks" and _pair_refused(response):
        return None
    names = [case.path_parameters.get("filename"), (case.query or {}).get("filename")]
    if any(isinstance(n, str) and len(n.encode()) > MAX_FILENAME_BYTES for n in names):
        return None
    result: bool | None = positive_data_acceptance(ctx, response, case)
    return result


def _pair_refused(response: Any) -> bool:
    if response.status_code != 400:
        return False
    error = response.json().get("error") or {}
    return error.get("code") == "VALIDATION_ERROR" and "cannot go with" in error.get("message", "")


NARROWED = {
    negative_data_rejection: invalid_body_or_path_refused,
    positive_data_acceptance: valid_input_accepted,
}
load_all_checks()
CHECKS = [NARROWED.get(check, check) for check in REGISTERED.get_all()]
"""Every check schemathesis registers, two of them narrowed as their docstrings say."""

CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
MAX_EXAMPLES = 25 if CI else int(os.environ.get("ORCH_FUZZ_EXAMPLES", "25"))
"""Per operation: the whole CI run takes about two minutes."""
SEED = "" if CI else os.environ.get("ORCH_FUZZ_SEED", "")
"""Empty: derandomized. ``random``: a fresh seed per run. A number: that seed."""
if SEED not in ("", "random") and not SEED.isdigit():
    raise pytest.UsageError(f"ORCH_FUZZ_SEED must be empty, 'random' or a number, not {SEED!r}")
TOKENS = {"X-Client-Token": CLIENT_TOKEN, "X-Worker-Token": WORKER_TOKEN}
"""Sent with every request, as the explicit credentials ``ignored_auth`` takes away to see
that the server refuses the request without them."""

SHORTENED = ("wait", "timeout")
"""Query parameters that hold a request open: always 0 here."""
ALWAYS_SHORT = ("/api/v1/human-tasks/events",)
"""Routes that stay open unless told otherwise: ``wait=0`` on every case."""

pytestmark = pytest.mark.timeout(max(120, MAX_EXAMPLES))


@pytest.fixture
def api_schema(served: ServedApp, seeded: Seeded) -> Any:
    config = SchemathesisConfig.from_dict(
        {
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
        if path.startswith("/_public/webhooks/approval/") or path.endswith("/{job_id}/decision"):
            return self._approval(case)  # the decision route ignores the approval token
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
        derandomize=not SEED,
    )
    def fuzz(case: Any) -> None:
        for name in SHORTENED:
            if case.query and name in case.query:
                case.query[name] = 0
        if case.operation.path in ALWAYS_SHORT:  # live streams: what is there, then the end
            case.query = {**(case.query or {}), "wait": 0}
        # An upgraded WebSocket connection can carry no further HTTP request: its own session.
        with requests.Session() as session:
            case.call_and_validate(checks=CHECKS, headers=TOKENS, session=session)

    if SEED.isdigit():
        fuzz = seed(int(SEED))(fuzz)
    fuzz()


def test_reads_still_answer_after_the_fuzz(served: ServedApp) -> None:
    """What the fuzzer wrote (workers' records, jobs) must not break the pages that read it."""
    headers = {"X-Client-Token": CLIENT_TOKEN}
    for path in ("/api/v1/workers", "/api/v1/dashboard", "/api/v1/jobs", "/_public/metrics"):
        resp = requests.get(f"{served.url}{path}", headers=headers, timeout=10)
        assert resp.status_code == 200, (path, resp.status_code, resp.text)
