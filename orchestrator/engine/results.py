"""What a worker's result means for its task: a failure or not, under which code, and whether
another attempt is due. The job's one task (``machine.on_result``) and a parallel branch
(``machine.branch_failed``) are judged by this one rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.engine.model import JSON, Task
from orchestrator.engine.retry import can_retry


@dataclass(frozen=True)
class Verdict:
    code: str
    """The error code the result carries, ``TASK_FAILED`` when it names none."""
    failure: bool
    """The worker sent an error, or the status ``failure``."""
    retryable: bool
    """The worker called the error retryable and the task's policy does not exclude its code."""
    again: bool
    """Retryable, and the policy has an attempt left: the task runs again."""


def judge(task: Task, status: str, err: JSON | None) -> Verdict:
    code = str((err or {}).get("code") or "TASK_FAILED")
    failure = bool(err) or status == "failure"
    retryable = bool(err and err.get("retryable")) and code not in task.retry.non_retryable
    again = retryable and can_retry(task.retry, task.attempt)
    return Verdict(code, failure, retryable, again)
