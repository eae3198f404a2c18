"""The SDK reads the orchestrator's answers with the Structs the OpenAPI document is generated
from (``worker_sdk.protocol``), and still reads an answer not quite of that shape (an older
orchestrator's) for what it holds; the WebSocket's messages as the tagged Structs both sides
use, a command it cannot read ignored."""

from __future__ import annotations

from typing import Any

import pytest

from worker_sdk.commands import _read
from worker_sdk.protocol import (
    CancelCommand,
    DrainCommand,
    Hello,
    Refused,
    ResultAck,
    ResultRefused,
)
from worker_sdk.wire import Beat, CancelledTask, Registration

REGISTERED: list[tuple[dict[str, Any], tuple[float, float, float]]] = [
    (
        {"status": "registered", "heartbeat_interval_s": 2, "lease_s": 6.5, "poll_timeout_s": 1},
        (2.0, 6.5, 1.0),
    ),
    ({"status": "registered", "lease_s": -1, "extra": [1]}, (10.0, 30.0, 30.0)),
    ({"heartbeat_interval_s": 3, "lease_s": "soon"}, (3.0, 30.0, 30.0)),  # no status, a text
    ({}, (10.0, 30.0, 30.0)),
]


@pytest.mark.parametrize(("body", "timings"), REGISTERED)
def test_the_register_answer(body: dict[str, Any], timings: tuple[float, float, float]) -> None:
    got = Registration.from_wire(body)
    assert (got.heartbeat_interval_s, got.lease_s, got.poll_timeout_s) == timings


def test_a_heartbeat_answer_names_the_attempts_to_stop() -> None:
    body = {
        "status": "ttl_refreshed",
        "cancelled_tasks": [
            {"type": "cancel_task", "job_id": "j1", "task_id": "j1.1", "attempt": 2},
            {"job_id": "j2", "task_id": "j2.1"},  # stored by an older version: every attempt
        ],
        "draining": True,
    }
    beat = Beat.from_wire(body)
    assert beat.cancelled == [CancelledTask("j1", "j1.1", 2), CancelledTask("j2", "j2.1", None)]
    assert beat.draining is True


def test_an_odd_heartbeat_answer_is_read_for_what_it_holds() -> None:
    body = {
        "cancelled_tasks": [
            {"job_id": "j1", "task_id": "j1.1", "attempt": True},
            "junk",
            {"job_id": "j3"},
        ],
        "draining": "yes",
    }
    beat = Beat.from_wire(body)
    assert beat.cancelled == [CancelledTask("j1", "j1.1", None)]
    assert beat.draining is False


COMMANDS = [
    (b'{"type": "drain_worker"}', DrainCommand()),
    (
        b'{"type": "cancel_task", "job_id": "j", "task_id": "j.1", "attempt": 3}',
        CancelCommand(job_id="j", task_id="j.1", attempt=3),
    ),
    (b'{"type": "cancel_task", "task_id": "j.1"}', CancelCommand(task_id="j.1")),
    (
        b'{"type": "hello", "accepts": ["result"], "max_message_bytes": 9}',
        Hello(accepts=["result"], max_message_bytes=9),
    ),
    (b'{"type": "result_ack", "id": 4, "status": "ok"}', ResultAck(id=4, status="ok")),
    (
        b'{"type": "result_error", "id": 4, "http_status": 409, "code": "TASK_NOT_HELD", '
        b'"message": "m", "details": {}}',
        ResultRefused(id=4, http_status=409, code="TASK_NOT_HELD", message="m", details={}),
    ),
    (b'{"type": "error", "id": null, "message": "?"}', Refused(message="?")),
    (b'{"type": "reboot"}', None),  # a newer orchestrator's command
    (b'{"type": "cancel_task", "job_id": "j"}', None),  # names no task
    (b'{"type": "result_ack", "id": true}', None),
    (b"[1]", None),
    (b"not json", None),
]


@pytest.mark.parametrize(("message", "command"), COMMANDS)
def test_the_websocket_messages_are_read_as_their_structs(message: bytes, command: object) -> None:
    assert _read(message) == command
