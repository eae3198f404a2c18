"""``compute_audit_results`` through the plain job API: new answers stored, score recomputed
against the criteria as the store file has them now."""

from __future__ import annotations

import json
import re

import aiohttp

from tests.audit import data
from tests.audit.client import Audits
from tests.audit.conftest import AuditEnv

START = "audit-results"


def answers(*complies: bool) -> list[dict[str, object]]:
    questions = [(c["category"], c["question"]) for c in data.CRITERIA]
    return [data.item(c, q, ok) for (c, q), ok in zip(questions, complies, strict=False)]


async def test_new_answers_are_stored_and_scored(
    audit_env: AuditEnv, http: aiohttp.ClientSession
) -> None:
    api = Audits(http, audit_env)
    job = await api.run(
        START,
        {
            "task_uuid": data.CALL_TO_RESCORE,
            "file_name": "call-0001-v2.wav",
            "isCall": True,
            "audit": answers(True, True, False),
        },
    )

    assert job["status"] == "finished", job
    result = job["result"]
    assert result["success"] is True and result["code"] == "OK"
    details = result["details"]
    assert details["type"] == "llamada" and details["task_uuid"] == data.CALL_TO_RESCORE
    assert details["file_name"] == "call-0001-v2.wav"
    # SKILLS 1+3 of 4, PROCESS 0 of 2: overall 4 of 6.
    assert details["score"] == {
        "overall": 66.67,
        "categories": {"SKILLS": 100.0, "PROCESS": 0.0},
        "unanswered": 0,
        "ignored": 0,
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", details["computed_at"])
    stored = json.loads(audit_env.store_path.read_text())["calls"][data.CALL_TO_RESCORE]
    assert stored["file_name"] == "call-0001-v2.wav"
    assert [i["complies"] for i in stored["audit"]] == [True, True, False]


async def test_the_score_follows_the_current_criteria(
    audit_env: AuditEnv, http: aiohttp.ClientSession
) -> None:
    api = Audits(http, audit_env)
    ask = {"task_uuid": data.CALL_TO_RESCORE, "file_name": "f.wav", "isCall": True}
    before = await api.run(START, {**ask, "audit": answers(True, False, True)})
    store = json.loads(audit_env.store_path.read_text())
    store["criteria"] = [
        *data.CRITERIA,
        {"category": "PROCESS", "question": "Closes politely", "weight": 2},
    ]
    audit_env.store_path.write_text(json.dumps(store))
    try:
        after = await api.run(START, {**ask, "audit": answers(True, False, True)})
    finally:
        store["criteria"] = data.CRITERIA
        audit_env.store_path.write_text(json.dumps(store))

    assert before["result"]["details"]["score"]["categories"]["PROCESS"] == 100.0
    # The new question is unanswered: it counts as not complying.
    assert after["result"]["details"]["score"]["categories"]["PROCESS"] == 50.0
    assert after["result"]["details"]["score"]["unanswered"] == 1


async def test_compute_refusals(audit_env: AuditEnv, http: aiohttp.ClientSession) -> None:
    api = Audits(http, audit_env)
    ok = {"task_uuid": data.CHAT, "file_name": "c.json", "isCall": False, "audit": answers(True)}
    cases = [
        ({}, "MISSING_FIELDS", "missing required fields: task_uuid, file_name, isCall, audit"),
        ({**ok, "audit": []}, "VALIDATION_ERROR", "audit must be a non-empty list of items"),
        (
            {
                **ok,
                "audit": [
                    {"category": "SKILLS", "question": "q", "complies": "si", "explanation": ""}
                ],
            },
            "VALIDATION_ERROR",
            "audit[0].complies must be a boolean (got 'si')",
        ),
        (
            {**ok, "audit": [{"category": "SKILLS", "complies": True}]},
            "MISSING_FIELDS",
            "missing required fields: audit[0].question, audit[0].explanation",
        ),
        (
            {**ok, "task_uuid": data.ABSENT},
            "NOT_FOUND",
            f"no chat audit with task_uuid {data.ABSENT}",
        ),
    ]
    for given, code, message in cases:
        job = await api.run(START, given)
        assert (job["status"], job["error"]["code"], job["error"]["message"]) == (
            "failed",
            code,
            message,
        )
