"""The small pure parts of declared routes: form field types, status rules, body schemas."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator.api.openapi.declared import shape
from orchestrator.api.route_forms import typed
from orchestrator.blueprint.routes import StatusRule, status_name
from orchestrator.engine.model import Job, JobStatus
from orchestrator.errors import BadRequest


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("true", "boolean", True),
        (" FALSE ", "boolean", False),
        ("1", "boolean", True),
        ("off", "boolean", False),
        (" 42 ", "integer", 42),
        ("-1.5", "number", -1.5),
        ('{"a": [1]}', "json", {"a": [1]}),
        ("  kept as is ", "string", "  kept as is "),
    ],
)
def test_a_field_becomes_its_declared_type(text: str, kind: str, value: Any) -> None:
    assert typed("f", text, kind) == value


@pytest.mark.parametrize(
    ("text", "kind"),
    [("maybe", "boolean"), ("4.2", "integer"), ("nan", "number"), ("inf", "number"), ("{", "json")],
)
def test_a_field_that_does_not_convert_is_a_validation_error(text: str, kind: str) -> None:
    with pytest.raises(BadRequest) as err:
        typed("isCall", text, kind)
    assert err.value.code == "VALIDATION_ERROR"
    assert err.value.details == {"field": "isCall"}


def job(state: str, status: JobStatus) -> Job:
    return Job(
        id="j",
        blueprint="b",
        blueprint_version="v",
        client="c",
        status=status,
        state=state,
        created_at=0.0,
        updated_at=0.0,
        initial_data={},
    )


RULES = (
    StatusRule("OPEN", state="review", job_status="waiting_for_human"),
    StatusRule("DISMISSED", decision="dismiss"),
    StatusRule("DONE", job_status="finished"),
)


@pytest.mark.parametrize(
    ("state", "status", "decision", "name"),
    [
        ("review", JobStatus.WAITING_FOR_HUMAN, None, "OPEN"),
        ("review", JobStatus.CANCELLED, None, "cancelled"),  # no rule: the job's own status
        ("closed", JobStatus.FINISHED, "dismiss", "DISMISSED"),  # first match wins
        ("closed", JobStatus.FINISHED, "acknowledge", "DONE"),
    ],
)
def test_the_first_matching_status_rule_names_the_job(
    state: str, status: JobStatus, decision: str | None, name: str
) -> None:
    assert status_name(RULES, job(state, status), decision) == name


def test_without_rules_the_status_is_the_jobs_own() -> None:
    assert status_name(None, job("x", JobStatus.FAILED), None) == "failed"


def test_a_template_gives_its_schema() -> None:
    body = {"ok": True, "id": "{{ id }}", "text": "alert {{ id }}", "list": ["a", 1]}
    assert shape(body) == {
        "type": "object",
        "properties": {
            "ok": {"const": True},
            "id": {},
            "text": {"type": "string"},
            "list": {"type": "array", "prefixItems": [{"const": "a"}, {"const": 1}]},
        },
        "required": ["ok", "id", "text", "list"],
    }
    assert shape(lambda data: data) == {}
