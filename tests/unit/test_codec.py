"""storage/codec.py: a job survives the trip through the fields of its hash."""

from __future__ import annotations

import dataclasses

import msgspec
import orjson
import pytest

from orchestrator.engine import machine
from orchestrator.engine.actions import Finish
from orchestrator.engine.model import Job, JobStatus, RetryPolicy
from orchestrator.storage import codec
from tests.builders import NOW, dispatch, leased, new_job, waiting_job
from worker_sdk.protocol import Task, wire


def as_redis_hash(fields: dict[str, str | bytes]) -> dict[bytes, bytes]:
    """What HGETALL answers for a hash written with ``fields``."""
    return {k.encode(): v if isinstance(v, bytes) else v.encode() for k, v in fields.items()}


def finished_job() -> Job:
    job, _ = waiting_job("j-done")
    out = machine.on_result(
        leased(job), status="success", data={"score": 9, "é": [1.5, None]}, err=None, now=NOW + 2
    )
    done, _ = machine.enter(out.job, frozenset({"done"}), Finish({"ok": True}), NOW + 3)
    return done.evolve(rev=4)


def queued_job() -> Job:
    policy = RetryPolicy(max_attempts=6, initial_interval_s=0.25, jitter=0.0)
    action = dispatch("resize", priority=7, retry_policy=policy, dispatch_timeout=4.0)
    job, _ = waiting_job(
        "j-q", action=action, webhook_url="https://hook.example/x", result_timeout_s=99.0
    )
    return job.evolve(rev=1)


@pytest.mark.parametrize(
    "job",
    [
        new_job(),
        queued_job(),
        leased(queued_job(), "worker-9", at=NOW + 0.123456789),
        finished_job(),
        new_job(status=JobStatus.QUARANTINED, error={"code": "X", "message": "m", "details": {}}),
    ],
    ids=["new", "queued-task", "leased-task", "finished", "quarantined"],
)
def test_decode_of_encode_gives_the_same_job(job: Job) -> None:
    fields = codec.encode(job)

    assert codec.decode(as_redis_hash(fields)) == job


def test_the_fields_lua_reads_are_scalar() -> None:
    job = leased(queued_job(), "worker-9", at=NOW + 1)

    fields = codec.encode(job)

    assert fields["rev"] == "1"
    assert fields["status"] == "waiting_for_worker"
    assert (fields["t_id"], fields["t_att"], fields["t_status"]) == ("j-q.1", "1", "leased")
    assert fields["t_worker"] == "worker-9"
    assert float(fields["t_leased"]) == NOW + 1


def test_a_job_without_task_has_empty_task_fields() -> None:
    fields = codec.encode(finished_job())

    assert fields["status"] == "finished"
    assert [fields[f] for f in ("t_id", "t_status", "t_payload")] == [""] * 3
    assert "t_worker" not in fields


def test_the_payload_field_is_what_a_worker_receives() -> None:
    job = queued_job()

    payload = orjson.loads(codec.encode(job)["t_payload"])

    assert payload == {
        "job_id": "j-q",
        "task_id": "j-q.1",
        "task_type": "resize",
        "params": {"n": 1},
        "attempt": 1,
        "max_attempts": 6,
        "timeout_s": None,
    }
    # The engine writes the worker's task as a dict: it is the shared Task, field for field.
    assert wire(msgspec.convert(payload, Task)) == payload


@pytest.mark.parametrize("fields", [{}, {b"rev": b"3"}])
def test_a_missing_job_decodes_to_none(fields: dict[bytes, bytes]) -> None:
    assert codec.decode(fields) is None


def test_a_decoded_job_holds_exactly_its_fields_and_a_short_state_is_refused() -> None:
    # decode makes the Job and its Task without their __init__ (Job.restore): each must
    # hold every field and nothing else, as the generated __init__ would have made them
    decoded = codec.decode(as_redis_hash(codec.encode(leased(queued_job(), "w-1", at=NOW))))
    assert decoded is not None and decoded.task is not None
    assert vars(decoded).keys() == {f.name for f in dataclasses.fields(Job)}
    assert vars(decoded.task).keys() == {f.name for f in dataclasses.fields(decoded.task)}
    state = dict(vars(decoded))
    del state["rev"]
    assert Job.restore(state).rev == 0  # short: the generated __init__ fills the default
    state["no_such_field"] = 1
    with pytest.raises(TypeError):
        Job.restore(state)
    stored = as_redis_hash(codec.encode(decoded))
    stored[b"status"] = b"no-such-status"
    with pytest.raises(ValueError):
        codec.decode(stored)
