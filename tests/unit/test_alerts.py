"""The alert process's pure parts: its settings from the environment, the new alert's checks,
and the alert's status in seed 001's vocabulary."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator.blueprints import alert_settings, alert_view
from orchestrator.blueprints.alerts import problems
from orchestrator.engine.model import JobStatus
from orchestrator.errors import ConfigError
from tests.builders import new_job


def test_deadlines_default_per_severity_and_a_given_one_replaces_its_own() -> None:
    found = alert_settings.from_env({"ALERT_ACK_DEADLINES": "critical=60, high=120"})

    assert found.deadlines_s == {"low": 86400, "medium": 14400, "high": 120, "critical": 60}
    assert found.escalation_roles == ("compliance-lead", "compliance-director")


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("urgent=5", "'urgent=5' is not <severity>=<seconds>"),
        ("high", "'high' is not <severity>=<seconds>"),
        ("high=soon", "'soon' (high) is not a number"),
        ("high=0", "high must be above zero"),
    ],
)
def test_a_bad_deadline_names_the_variable_and_the_fault(value: str, says: str) -> None:
    with pytest.raises(ConfigError, match="ALERT_ACK_DEADLINES") as caught:
        alert_settings.from_env({"ALERT_ACK_DEADLINES": value})
    assert says in str(caught.value)


def test_escalation_roles_are_checked_and_may_be_none() -> None:
    assert alert_settings.from_env({"ALERT_ESCALATION_ROLES": " a, b "}).escalation_roles == (
        "a",
        "b",
    )
    assert alert_settings.from_env({"ALERT_ESCALATION_ROLES": ""}).escalation_roles == ()
    with pytest.raises(ConfigError, match="ALERT_ESCALATION_ROLES: not a role name: a b"):
        alert_settings.from_env({"ALERT_ESCALATION_ROLES": "a b"})


@pytest.mark.parametrize(
    ("alert", "code", "field"),
    [
        ({}, "MISSING_FIELDS", "severity, title"),
        ({"severity": "high", "title": ""}, "MISSING_FIELDS", "title"),
        ({"severity": "urgent", "title": "t"}, "VALIDATION_ERROR", "severity"),
        ({"severity": "low", "title": 3}, "VALIDATION_ERROR", "title"),
        ({"severity": "low", "title": "t", "entity": 7}, "VALIDATION_ERROR", "entity"),
        ({"severity": "low", "title": "t", "details": [1]}, "VALIDATION_ERROR", "details"),
    ],
)
def test_a_bad_alert_is_refused_naming_the_field(
    alert: dict[str, Any], code: str, field: str
) -> None:
    found = problems(alert)

    assert found is not None and found[0] == code
    assert field in found[1]


def test_a_good_alert_passes() -> None:
    assert problems({"severity": "critical", "title": "t", "entity": {"id": 1}}) is None


def _decided(decision: str) -> dict[str, Any]:
    return {"review": {"decision": decision, "decided_by": "ana", "decided_at": 1.0}}


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({"status": JobStatus.WAITING_FOR_HUMAN, "human": {"level": 0}}, "OPEN"),
        ({"status": JobStatus.WAITING_FOR_HUMAN, "human": {"level": 2}}, "ESCALATED"),
        (
            {"status": JobStatus.WAITING_FOR_WORKER, "results": _decided("acknowledge")},
            "ACKNOWLEDGED",
        ),
        ({"status": JobStatus.FINISHED, "results": _decided("acknowledge")}, "RESOLVED"),
        ({"status": JobStatus.FINISHED, "results": _decided("dismiss")}, "DISMISSED"),
        ({"status": JobStatus.FAILED, "results": _decided("acknowledge")}, "ACKNOWLEDGED"),
        ({"status": JobStatus.FAILED}, "FAILED"),
        ({"status": JobStatus.CANCELLED}, "CANCELLED"),
    ],
)
def test_the_status_in_the_seeds_words(changes: dict[str, Any], status: str) -> None:
    assert alert_view.status(new_job(**changes)) == status
