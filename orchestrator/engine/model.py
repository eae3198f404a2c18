"""Job and task records. Frozen: every change makes a new record through ``replace``."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from enum import StrEnum
from typing import Any

JSON = dict[str, Any]


class JobStatus(StrEnum):
    """A job's status. ``pending`` and ``running`` are never stored: a step writes once the
    job waits or ends."""

    PENDING = "pending"
    RUNNING = "running"
    WAITING_FOR_WORKER = "waiting_for_worker"
    WAITING_FOR_HUMAN = "waiting_for_human"
    WAITING_FOR_PARALLEL = "waiting_for_parallel"
    WAITING_FOR_CHILD = "waiting_for_child"
    FINISHED = "finished"
    FAILED = "failed"
    CANCELLED = "cancelled"
    QUARANTINED = "quarantined"


TERMINAL = frozenset(
    {
        JobStatus.FINISHED,
        JobStatus.FAILED,
        JobStatus.CANCELLED,
        JobStatus.QUARANTINED,
    }
)


class TaskStatus(StrEnum):
    QUEUED = "queued"
    """In a ready or delayed queue, waiting for a worker."""
    LEASED = "leased"
    """Handed to a worker; the lease lives while the worker heartbeats."""


@dataclass(frozen=True)
class RetryPolicy:
    """How a task is retried after a retryable failure or a lost lease."""

    max_attempts: int = 4
    """Attempts in all, the first included."""
    initial_interval_s: float = 1.0
    backoff_coefficient: float = 2.0
    max_interval_s: float = 60.0
    jitter: float = 0.1
    """Fraction of the delay added or removed at random."""
    non_retryable: tuple[str, ...] = ()
    """Error codes that end the task at once, even when the worker said retryable."""


@dataclass(frozen=True)
class Task:
    """The task a job is waiting on."""

    task_id: str
    task_type: str
    params: JSON
    transitions: dict[str, str]
    priority: int
    attempt: int
    retry: RetryPolicy
    timeout_s: float | None
    dispatch_timeout_s: float | None
    queued_at: float
    status: TaskStatus = TaskStatus.QUEUED
    worker: str | None = None
    leased_at: float | None = None
    catch: dict[str, str] = field(default_factory=dict)
    """Final error code → state, taken instead of failing the job."""
    result_schema: JSON | None = None
    """Shape a success result must have; a result that breaks it quarantines the job."""
    requires: str = ""
    """What a worker needs to take the task, encoded (``engine/requires.py``); "" for any."""

    @classmethod
    def restore(cls, state: dict[str, Any]) -> Task:
        """As ``Job.restore``: every field given, no generated ``__init__``."""
        if state.keys() != _TASK_FIELDS:
            return cls(**state)
        new = object.__new__(cls)
        new.__dict__.update(state)
        return new

    @property
    def queue(self) -> str:
        """The ready queue the task waits in: its type, and its requirement set if it has one."""
        return f"{self.task_type}#{self.requires}" if self.requires else self.task_type

    @property
    def branch(self) -> bool:
        """A branch of a parallel fan-out (ids ``job.seq.i``) rather than the job's one task."""
        return self.task_id.count(".") == 2

    @property
    def ref(self) -> str:
        """Queue member naming this delivery: job, task, attempt and priority."""
        return f"{self.job_id}|{self.task_id}|{self.attempt}|{self.priority}"

    @property
    def job_id(self) -> str:
        return self.task_id.split(".", 1)[0]

    def payload(self) -> JSON:
        """What a worker receives."""
        return {
            "job_id": self.job_id,
            "task_id": self.task_id,
            "task_type": self.task_type,
            "params": self.params,
            "attempt": self.attempt,
            "max_attempts": self.retry.max_attempts,
            "timeout_s": self.timeout_s,
        }


@dataclass(frozen=True)
class Job:
    id: str
    blueprint: str
    blueprint_version: str
    client: str
    status: JobStatus
    state: str
    created_at: float
    updated_at: float
    initial_data: JSON
    rev: int = 0
    finished_at: float | None = None
    results: JSON = field(default_factory=dict)
    """Task result data by the state that dispatched the task."""
    context: JSON = field(default_factory=dict)
    """Every task result merged, later keys over earlier ones: what handlers ask for by name."""
    state_history: list[JSON] = field(default_factory=list)
    task: Task | None = None
    task_seq: int = 0
    last_task: JSON | None = None
    """Outcome of the last finished task, so a repeated result gets the same answer."""
    result: Any = None
    error: JSON | None = None
    webhook_url: str | None = None
    dispatch_timeout_s: float | None = None
    result_timeout_s: float | None = None
    history: list[JSON] = field(default_factory=list)
    """Every event of the job, oldest first; ids count from 1."""
    branches: dict[str, Task] = field(default_factory=dict)
    """Parallel branches still out (task id → task)."""
    parallel: JSON | None = None
    """The fan-out being waited on: aggregate_into, failure_policy, order, results."""
    human: JSON | None = None
    """The human decision being waited on: state, decisions, deadline, on_timeout, seq."""
    child: JSON | None = None
    """The child job being waited on: job_id, blueprint, transitions."""
    parent: JSON | None = None
    """For a child job: the parent's job id."""

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def result_deadline(self) -> float | None:
        if self.result_timeout_s is None:
            return None
        return self.created_at + self.result_timeout_s

    @classmethod
    def restore(cls, state: dict[str, Any]) -> Job:
        """The job whose fields are ``state``, every one of them (a stored job read back):
        made as ``evolve`` makes its copies, without the generated ``__init__``. A ``state``
        that misses or adds a name goes through ``__init__`` for its error."""
        if state.keys() != _JOB_FIELDS:
            return cls(**state)
        new = object.__new__(cls)
        new.__dict__.update(state)
        return new

    def evolve(self, **changes: Any) -> Job:
        # ``replace`` re-runs the generated ``__init__`` over all 27 fields on every step
        # (~7 % of orchestrator CPU); Job has no ``__post_init__``, so copying the instance
        # dict gives the same record. Unknown names still go through ``replace`` for its error.
        if not changes.keys() <= _JOB_FIELDS:
            return replace(self, **changes)
        new = object.__new__(type(self))
        state = new.__dict__
        state.update(self.__dict__)
        state.update(changes)
        return new


_JOB_FIELDS = frozenset(f.name for f in fields(Job))
_TASK_FIELDS = frozenset(f.name for f in fields(Task))
