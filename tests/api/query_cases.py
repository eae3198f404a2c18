"""Good and bad query strings of every route that reads one, and the answer each gets.

``query_checks.json`` holds the answers of the hand-written query parsing that the query
Structs (``orchestrator/api/queries.py``) replaced: recorded by running the tests with
``ORCH_RECORD_QUERIES=1`` on the code before them. The tests hold the Structs to the same
answers: the same status, and for a refusal the same code, message and details. Repeated
parameters (the first wins), empty ones (absent) and unknown ones (ignored) are among them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.api.conftest import Api, client_headers, worker_headers

CHECKS = Path(__file__).with_name("query_checks.json")
RECORDING = os.environ.get("ORCH_RECORD_QUERIES") == "1"

Query = list[tuple[str, str]]

INTEGERS = ["", "5", "0", "501", "abc", "1.5", "05", "+5", " 5", "5.0", "1e2", "5_0", "-0"]
SECONDS = ["0", "abc", "-1", "nan", "inf", "1e-3", "-0", " 0", "0x1", "1_0"]
MOMENTS = [
    "",
    "2026-01-01T00:00:00Z",
    "2026-01-01T00:00:00+02:00",
    "2026-01-01T00:00:00",
    "nope",
    "1796051045.123",
    "1796051045.1234567",
    "-5",
]


def list_jobs_cases() -> list[Query]:
    cases: list[Query] = [[]]
    cases += [[("limit", v)] for v in INTEGERS]
    cases += [[("offset", v)] for v in ["-1", "0", "1000000000", "1000000001", "x", ""]]
    cases += [[("status", v)] for v in ["completed", "bogus", "", "COMPLETED"]]
    cases += [[("created_after", v)] for v in MOMENTS]
    cases += [[("created_before", v)] for v in MOMENTS]
    cases += [[("id", v)] for v in ["x" * 64, "x" * 65, "", "ABC"]]
    cases += [[("blueprint", "greeting")], [("blueprint", "")]]
    cases += [
        [("limit", "0"), ("limit", "5")],  # the first of repeated values wins
        [("limit", "5"), ("limit", "0")],
        [("foo", "bar")],  # unknown: ignored
        [("limit", "0"), ("status", "bogus")],  # which broken field is named
        [("offset", "x"), ("limit", "x")],
        [("id", "x" * 65), ("created_after", "nope"), ("status", "bogus")],
        [("created_before", "nope"), ("created_after", "nope")],
    ]
    return cases


def wait_cases() -> list[Query]:
    return [[], [("wait", "")], *([("wait", v)] for v in SECONDS), [("wait", "x"), ("wait", "0")]]


def poll_cases() -> list[Query]:
    cases: list[Query] = [[("timeout", v)] for v in SECONDS]
    cases += [[("timeout", "0"), ("max", v)] for v in ["", "1", "0", "64", "65", "x", "2"]]
    cases += [
        [("timeout", "abc"), ("max", "0")],
        [("max", "0"), ("timeout", "abc")],
        [("timeout", "0"), ("timeout", "x")],
    ]
    return cases


def human_tasks_cases() -> list[Query]:
    cases: list[Query] = [[]]
    cases += [[("role", v)] for v in ["ok", "bad role", "", "x" * 129]]
    cases += [[("assignee", v)] for v in ["a@b", "a b", ""]]
    cases += [[("overdue", v)] for v in ["true", "false", "1", "0", "", "yes", "TRUE"]]
    cases += [[("cursor", v)] for v in ["5:x", "-5:", "x", "5", ""]]
    cases += [[("limit", v)] for v in INTEGERS]
    cases += [[("blueprint", "greeting")], [("foo", "1")]]
    cases += [
        [("limit", "0"), ("overdue", "yes"), ("role", "a b")],
        [("cursor", "x"), ("assignee", "a b")],
        [("role", "a b"), ("assignee", "c d")],
    ]
    # seed 003's task lists: search, assignment_status, numbered pages
    cases += [[("search", v)] for v in ["laptop", "  ", "x" * 256, "x" * 257]]
    cases += [[("assignment_status", v)] for v in ["new", "in progress", "resolved", "NEW", ""]]
    cases += [[("page", v)] for v in ["1", "2", "0", "x", "10000", "10001"]]
    cases += [[("page_size", v)] for v in ["1", "100", "101", "0", "x"]]
    cases += [
        [("page", "1"), ("cursor", "5:x")],
        [("page_size", "5"), ("cursor", "5:x")],
        [("page", "1"), ("limit", "5")],
        [("page_size", "5"), ("limit", "5")],
        [("assignment_status", "new"), ("assignee", "ann")],
        [("assignment_status", "in progress"), ("unassigned", "true")],
        [("assignment_status", "new"), ("unassigned", "true"), ("search", "x")],
    ]
    return cases


def inbox_events_cases() -> list[Query]:
    # Every accepted case says wait=0: the stream sends what is there and ends.
    now = [("wait", "0")]
    cases: list[Query] = [now]
    cases += [[("wait", v)] for v in ["abc", "-1", "nan", "0", "1e-9"]]
    cases += [[*now, ("role", v)] for v in ["ok", "a b", ""]]
    cases += [[*now, ("last_event_id", v)] for v in ["1-0", "0-0", "x", "1", ""]]
    cases += [[("role", "a b"), ("wait", "x"), ("last_event_id", "x")]]
    cases += [[("wait", "x"), ("last_event_id", "x")]]
    return cases


def job_events_cases() -> list[Query]:
    return [[], *([("last_event_id", v)] for v in ["x", "-5", "2", "", "1.5", "99"])]


async def answer(api: Api, method: str, path: str, query: Query, **headers: str) -> Any:
    resp = await api.client.request(
        method, path, params=query, headers=headers, allow_redirects=False
    )
    text = await resp.text(errors="replace")
    if resp.status >= 400:
        error = json.loads(text)["error"]
        return {"status": resp.status, **error}
    got: dict[str, Any] = {"status": resp.status}
    if "Location" in resp.headers:  # a presigned link: how long it lasts
        got["expires"] = parse_qs(urlsplit(resp.headers["Location"]).query).get("X-Amz-Expires")
    if resp.content_type == "application/json" and text:
        body = json.loads(text)
        if isinstance(body, dict):  # what the query shaped, not what the state holds
            got.update({k: body[k] for k in ("limit", "offset", "expires_in") if k in body})
    return got


async def record(api: Api, job_id: str, worker_id: str) -> dict[str, list[Any]]:
    """Every case's answer; ``job_id`` is an ended job of the client, ``worker_id`` a
    registered worker with no task it can take."""
    client, worker = client_headers(), worker_headers()
    cases: dict[str, tuple[str, list[Query], dict[str, str]]] = {
        "/api/v1/jobs": ("GET", list_jobs_cases(), client),
        f"/api/v1/jobs/{job_id}": ("GET", wait_cases(), client),
        f"/_worker/workers/{worker_id}/tasks/next": ("GET", poll_cases(), worker),
        "/api/v1/human-tasks": ("GET", human_tasks_cases(), client),
        "/api/v1/human-tasks/events": ("GET", inbox_events_cases(), client),
        f"/api/v1/jobs/{job_id}/events": ("GET", job_events_cases(), client),
    }
    answers: dict[str, list[Any]] = {}
    for path, (method, queries, headers) in cases.items():
        name = path.replace(job_id, "{job_id}").replace(worker_id, "{worker_id}")
        answers[name] = [
            {"query": query, "answer": await answer(api, method, path, query, **headers)}
            for query in queries
        ]
    headed = "/api/v1/human-tasks/events", [("wait", "0")], "Last-Event-ID"
    for value in ("x", "1-0", ""):
        got = await answer(api, "GET", headed[0], headed[1], **client, **{headed[2]: value})
        answers.setdefault("Last-Event-ID", []).append({"header": value, "answer": got})
    for value in ("x", "2", "-1"):
        path = f"/api/v1/jobs/{job_id}/events"
        query = [("last_event_id", "x")]
        got = await answer(api, "GET", path, query, **client, **{"Last-Event-ID": value})
        answers["Last-Event-ID"].append({"header": value, "events": True, "answer": got})
    return answers


def compare(group: str, answers: dict[str, list[Any]]) -> None:
    """Writes the answers when recording; else holds them to the recorded ones."""
    recorded: dict[str, Any] = json.loads(CHECKS.read_text()) if CHECKS.exists() else {}
    if RECORDING:
        recorded[group] = answers
        CHECKS.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n")
        return
    expected = recorded[group]
    answers = json.loads(json.dumps(answers))  # tuples as the JSON's lists
    assert set(answers) == set(expected)
    for path, cases in answers.items():
        for got, want in zip(cases, expected[path], strict=True):
            assert got == want, (path, got, want)
