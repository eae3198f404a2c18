"""engine/machine.released: a leased task nobody received goes back, same attempt."""

from __future__ import annotations

from dataclasses import replace

from orchestrator.engine import machine
from orchestrator.engine.actions import Actions
from orchestrator.engine.model import Job, JobStatus, TaskStatus


def _leased_job() -> Job:
    job = Job("j1", "bp", "v0", "c", JobStatus.RUNNING, "start", 1.0, 1.0, {})
    actions = Actions()
    actions.dispatch_task("echo", {"n": 1}, transitions={"success": "done"}, priority=3)
    assert actions.chosen is not None
    job, _ = machine.enter(job, frozenset({"start", "done"}), actions.chosen, 1.0)
    assert job.task is not None
    task = replace(job.task, status=TaskStatus.LEASED, worker="w1", leased_at=2.0)
    return job.evolve(task=task)


def test_released_task_is_queued_again_with_the_same_attempt() -> None:
    job = _leased_job()
    assert job.task is not None
    ref = job.task.ref
    released, effects = machine.released(job, job.task, 3.0)
    assert released.task is not None
    assert (released.task.status, released.task.attempt) == (TaskStatus.QUEUED, 1)
    assert released.task.worker is None and released.task.leased_at is None
    assert effects.enqueue == [("echo", ref, 3)]
    assert effects.release == [("echo", ref)]
    assert released.history[-1]["type"] == "task_released"
    assert released.status == JobStatus.WAITING_FOR_WORKER
