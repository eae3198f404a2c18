"""The signature receivers check, and the webhook settings."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from typing import Any

import pytest

from orchestrator.config import DEV_WEBHOOK_SECRET, Settings
from orchestrator.config_sources import from_env, from_file, load_settings
from orchestrator.errors import ConfigError
from orchestrator.webhooks.signing import Signer, signature, verify

SECRET = "s3cret"
BODY = b'{"event":"job.finished","job_id":"j1"}'
NOW = 1_767_225_600


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    digest = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()

    assert signature(SECRET, NOW, BODY) == f"v1={digest}"


def test_a_signature_verifies() -> None:
    assert verify(SECRET, str(NOW), signature(SECRET, NOW, BODY), BODY, now=NOW + 10)


@pytest.mark.parametrize(
    ("timestamp", "header", "body", "secret"),
    [
        (str(NOW), signature(SECRET, NOW, BODY), BODY + b" ", SECRET),
        (str(NOW + 1), signature(SECRET, NOW, BODY), BODY, SECRET),
        (str(NOW), signature(SECRET, NOW, BODY), BODY, "other"),
        (str(NOW), signature(SECRET, NOW, BODY).replace("v1=", "v0="), BODY, SECRET),
        (str(NOW), "", BODY, SECRET),
        ("soon", signature(SECRET, NOW, BODY), BODY, SECRET),
    ],
    ids=["body changed", "timestamp changed", "wrong secret", "scheme", "no signature", "nan"],
)
def test_any_change_fails_verification(
    timestamp: str, header: str, body: bytes, secret: str
) -> None:
    assert not verify(secret, timestamp, header, body, now=NOW)


def test_an_old_or_future_timestamp_is_refused() -> None:
    header = signature(SECRET, NOW, BODY)

    assert verify(SECRET, str(NOW), header, BODY, now=NOW + 300)
    assert not verify(SECRET, str(NOW), header, BODY, now=NOW + 301)
    assert not verify(SECRET, str(NOW), header, BODY, now=NOW - 301)
    assert verify(SECRET, str(NOW), header, BODY, tolerance_s=3600, now=NOW + 3000)


def test_one_matching_value_among_several_is_enough() -> None:
    header = f"{signature('old', NOW, BODY)}, {signature(SECRET, NOW, BODY)}"

    assert verify(SECRET, str(NOW), header, BODY, now=NOW)


# -- settings -------------------------------------------------------------------------------

TOKENS: dict[str, Any] = {"dev_mode": True}


def test_webhook_settings_come_from_the_environment() -> None:
    found = from_env(
        {
            "ORCH_WEBHOOK_SECRET": "abc",
            "ORCH_WEBHOOK_ALLOWED_HOSTS": "Hooks.Example.com, *.corp.example",
            "ORCH_WEBHOOK_TIMEOUT_S": "5",
            "ORCH_WEBHOOK_MAX_ATTEMPTS": "4",
            "ORCH_WEBHOOK_BACKOFF_S": "0.5",
            "ORCH_WEBHOOK_BACKOFF_MAX_S": "60",
            "ORCH_WEBHOOK_MAX_IN_FLIGHT": "500",
            "ORCH_WEBHOOK_MAX_PER_HOST": "20",
        }
    )

    assert found == {
        "webhook_secret": "abc",
        "webhook_allowed_hosts": ("hooks.example.com", "*.corp.example"),
        "webhook_timeout_s": 5.0,
        "webhook_max_attempts": 4,
        "webhook_backoff_s": 0.5,
        "webhook_backoff_max_s": 60.0,
        "webhook_max_in_flight": 500,
        "webhook_max_per_host": 20,
    }


def test_allowed_hosts_are_a_list_in_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "orchestrator.yaml"
    path.write_text('webhook_allowed_hosts: ["A.example", "*.b.example"]\nwebhook_secret: x\n')

    found = from_file(path)

    assert found["webhook_allowed_hosts"] == ("a.example", "*.b.example")
    assert found["webhook_secret"] == "x"


def test_dev_mode_has_a_dev_webhook_secret_unless_one_is_set() -> None:
    assert load_settings({}, dev_mode=True).webhooks.secret == DEV_WEBHOOK_SECRET
    assert load_settings({"ORCH_WEBHOOK_SECRET": "mine"}, dev_mode=True).webhooks.secret == "mine"


def test_the_secret_is_not_in_the_settings_repr() -> None:
    assert "hush" not in repr(Settings.from_flat(webhook_secret="hush"))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"webhook_timeout_s": 0}, "webhook_timeout_s"),
        ({"webhook_backoff_s": -1}, "webhook_backoff_s"),
        ({"webhook_max_attempts": 0}, "webhook_max_attempts"),
        ({"webhook_backoff_s": 10, "webhook_backoff_max_s": 5}, "webhook_backoff_max_s"),
        ({"webhook_backoff_max_s": float("inf")}, "webhook_backoff_max_s"),
        ({"webhook_max_in_flight": 0}, "webhook_max_in_flight"),
        ({"webhook_max_per_host": 0}, "webhook_max_per_host"),
    ],
)
def test_bad_webhook_settings_are_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings({}, **TOKENS, **changes)


def test_the_sender_signs_as_signature_does() -> None:
    sign = Signer("whsec-a")
    for timestamp, body in [(1767225600, b'{"a": 1}'), (0, b""), (1767225601, b'{"a": 1}')]:
        assert sign(timestamp, body) == signature("whsec-a", timestamp, body)
    assert Signer("whsec-b")(1, b"x") != sign(1, b"x")
