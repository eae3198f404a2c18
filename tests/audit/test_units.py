"""The pure parts: the score formula, the input checks, the e-mail settings, and the e-mail
sender's answer when no SMTP server listens."""

from __future__ import annotations

import json

import pytest

from orchestrator.blueprints.audit import fields, score
from orchestrator.blueprints.audit.validate import notify_wait_s
from orchestrator.blueprints.workers import mailer
from orchestrator.blueprints.workers.smtp_settings import SmtpSettings
from orchestrator.errors import ConfigError
from tests.audit import data
from tests.helpers import ROOT, free_port
from worker_sdk.testing import run_task


def test_the_score_weighs_each_criterion_and_ignores_stale_answers() -> None:
    items = [
        data.item("skills", " greets the customer ", True),  # case and blanks do not matter
        data.item("SKILLS", "Confirms identity", False),
        data.item("SKILLS", "A question since removed", True),
    ]

    assert score.compute(items, data.CRITERIA) == {
        "overall": round(100 * 1 / 6, 2),
        "categories": {"SKILLS": 25.0, "PROCESS": 0.0},
        "unanswered": 1,
        "ignored": 1,
    }
    assert score.compute([], [])["overall"] == 0.0


def test_form_values_are_read_as_booleans_and_uuids_must_be_canonical() -> None:
    given = fields.validate_input({"task_uuid": data.CALL.upper(), "notes": "n", "isCall": "FALSE"})

    assert (given.task_uuid, given.is_call) == (data.CALL, False)
    with pytest.raises(fields.FieldProblem, match="task_uuid must be a UUID"):
        fields.validate_input(
            {"task_uuid": data.CALL.replace("-", ""), "notes": "n", "isCall": True}
        )
    with pytest.raises(fields.FieldProblem, match="notes must be a string"):
        fields.validate_input({"task_uuid": data.CALL, "notes": 3, "isCall": True})


def test_attachments_are_the_routes_file_parts() -> None:
    given = fields.validate_input(
        {
            "task_uuid": data.CALL,
            "notes": "n",
            "isCall": True,
            "files": [{"field": "evidence", "filename": "b.png"}, {"filename": "a.pdf"}],
        }
    )

    assert given.attachments == ("b.png", "a.pdf")
    with pytest.raises(fields.FieldProblem, match="files must be a list of"):
        fields.validate_input({"task_uuid": data.CALL, "notes": "n", "isCall": True, "files": "x"})


def test_smtp_settings_from_the_environment() -> None:
    env = {
        "SMTP_HOST": "mail.example.com",
        "SMTP_PORT": "587",
        "SMTP_STARTTLS": "true",
        "SMTP_USERNAME": "u",
        "SMTP_PASSWORD": "p",
        "SMTP_BCC": "a@x.com, b@x.com,",
    }

    settings = SmtpSettings.from_env(env)

    assert (settings.host, settings.port, settings.starttls) == ("mail.example.com", 587, True)
    assert settings.bcc == ("a@x.com", "b@x.com")
    with pytest.raises(ValueError) as bad:
        SmtpSettings.from_env({"SMTP_PORT": "x", "SMTP_STARTTLS": "maybe", "SMTP_USERNAME": "u"})
    assert str(bad.value) == (
        "invalid e-mail settings: SMTP_STARTTLS='maybe' must be true or false; "
        "SMTP_USERNAME and SMTP_PASSWORD go together; SMTP_PORT='x' is not a number"
    )


async def test_no_smtp_server_is_a_retryable_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(free_port()))  # nothing listens there

    outcome = await run_task(
        mailer.worker, "email.send", {"to": "a@x.com", "subject": "s", "text": "t"}
    )

    assert outcome.error is not None
    assert (outcome.error.code, outcome.error.retryable) == ("SMTP_UNAVAILABLE", True)


def test_the_shipped_example_store_holds_the_tests_records() -> None:
    shipped = json.loads((ROOT / "orchestrator/blueprints/audit/example_store.json").read_text())

    assert shipped == data.store()


@pytest.mark.parametrize(
    ("raw", "seconds"), [(None, 10.0), ("", 10.0), ("2.5", 2.5), (" 30 ", 30.0)]
)
def test_the_notifier_wait_is_read_from_the_environment(raw: str | None, seconds: float) -> None:
    assert notify_wait_s(raw) == seconds


@pytest.mark.parametrize(
    ("raw", "says"), [("soon", "is not a number"), ("0", "above 0"), ("-1", "above 0")]
)
def test_a_bad_notifier_wait_is_one_clear_line(raw: str, says: str) -> None:
    with pytest.raises(ConfigError, match=f"^AUDIT_NOTIFY_WAIT_S: .*{says}"):
        notify_wait_s(raw)
