"""WorkerSettings: defaults, validation, and reading the environment."""

from __future__ import annotations

import os
import socket

import pytest

from worker_sdk import Worker, WorkerSettings


def test_defaults() -> None:
    settings = WorkerSettings()
    assert settings.url == "http://127.0.0.1:8080"
    assert settings.worker_id == f"{socket.gethostname()}-{os.getpid()}"
    assert (settings.capacity, settings.poll_timeout_s, settings.tags) == (4, 30.0, ())


def test_from_env_reads_every_variable() -> None:
    settings = WorkerSettings.from_env(
        {
            "ORCH_URL": "https://orch.example:9000",
            "ORCH_WORKER_TOKEN": "s3cret",
            "WORKER_ID": "w-7",
            "WORKER_CAPACITY": "8",
            "WORKER_POLL_TIMEOUT_S": "12.5",
            "WORKER_TAGS": "gpu, eu ,",
            "WORKER_LABELS": "region=eu, zone = b,",
            "WORKER_SHUTDOWN_GRACE_S": "3",
        }
    )
    assert settings == WorkerSettings(
        url="https://orch.example:9000",
        token="s3cret",
        worker_id="w-7",
        capacity=8,
        poll_timeout_s=12.5,
        tags=("gpu", "eu"),
        labels={"region": "eu", "zone": "b"},
        shutdown_grace_s=3.0,
    )
    assert "s3cret" not in repr(settings)


def test_from_env_reports_every_bad_variable_at_once() -> None:
    environ = {
        "ORCH_URL": "ftp://nowhere",
        "WORKER_ID": "a/b",
        "WORKER_CAPACITY": "lots",
        "WORKER_POLL_TIMEOUT_S": "-1",
        "WORKER_LABELS": "region",
        "ORCH_WORKER_TOKEN": "fine",
    }
    with pytest.raises(ValueError) as info:
        WorkerSettings.from_env(environ)
    message = str(info.value)
    for var in (
        "ORCH_URL",
        "WORKER_ID",
        "WORKER_CAPACITY",
        "WORKER_POLL_TIMEOUT_S",
        "WORKER_LABELS",
    ):
        assert var in message
    assert "ORCH_WORKER_TOKEN" not in message


def test_from_env_keeps_given_defaults_for_unset_variables() -> None:
    base = WorkerSettings(capacity=16, worker_id="from-code")
    settings = WorkerSettings.from_env({"WORKER_ID": "from-env"}, defaults=base)
    assert (settings.capacity, settings.worker_id) == (16, "from-env")


def test_direct_construction_is_validated() -> None:
    with pytest.raises(ValueError, match="capacity") as info:
        WorkerSettings(capacity=0, poll_timeout_s=0)
    assert "poll_timeout_s" in str(info.value)


def test_worker_keywords_override_settings() -> None:
    worker = Worker(WorkerSettings(capacity=2, url="http://a:1"), capacity=5)
    assert (worker.settings.capacity, worker.settings.url) == (5, "http://a:1")
