"""The task_leased frame the one-Redis lease script fills in gives the engine's event."""

from __future__ import annotations

import json

import orjson

from orchestrator.engine.events import task_leased, task_leased_frame


def test_the_frame_filled_in_as_the_lease_script_does_is_the_engines_event() -> None:
    at, task_id, attempt, worker = "1796051045.25", 'j1."b"\n.1', 3, "worker-ü"
    start, after_at, after_task, after_attempt, end = task_leased_frame()

    values = (at, json.dumps(task_id), str(attempt), orjson.dumps(worker).decode())
    pieces = (start, after_at, after_task, after_attempt)
    text = "".join(piece + value for piece, value in zip(pieces, values, strict=True)) + end

    assert json.loads(text) == task_leased(task_id, attempt, worker, float(at))
    assert list(json.loads(text)) == list(task_leased(task_id, attempt, worker, float(at)))
