"""The chaos audit finds what it is there to find: a clean run passes, and each kind of fault,
written into a history or the marks by hand, is counted under its name."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from tests.e2e.chaos_audit import Collected, audit, read_marks

JOB = "job-1"
TASK = f"{JOB}.1"
VIEW: dict[str, Any] = {
    "job_id": JOB,
    "blueprint": "chaos_one",
    "status": "finished",
    "current_state": "one_done",
    "created_at": "2026-12-01T10:00:00.000Z",
    "finished_at": "2026-12-01T10:00:01.500Z",
    "error": None,
    "result": {"ran": {"task": TASK, "attempt": 2, "worker": "w1"}},
}
HISTORY: list[dict[str, Any]] = [
    {"type": "job_created"},
    {"type": "state_entered", "state": "run_one"},
    {"type": "task_queued", "task_id": TASK, "attempt": 1},
    {"type": "task_leased", "task_id": TASK, "attempt": 1, "worker": "w0"},
    {"type": "lease_expired", "task_id": TASK, "attempt": 1, "worker": "w0"},
    {"type": "task_leased", "task_id": TASK, "attempt": 2, "worker": "w1"},
    {"type": "task_result", "task_id": TASK, "attempt": 2, "worker": "w1", "status": "success"},
    {"type": "state_entered", "state": "one_done"},
    {"type": "job_finished"},
]


def _collected() -> Collected:
    return Collected(
        created={JOB: "chaos_one"},
        unaccepted=0,
        views={JOB: copy.deepcopy(VIEW)},
        histories={JOB: copy.deepcopy(HISTORY)},
        listed={JOB},
        marks=[(JOB, TASK, 1, "w0"), (JOB, TASK, 2, "w1")],
    )


def test_a_clean_run_with_a_redelivery_passes() -> None:
    report = audit(_collected())
    assert report.problems == []
    assert report.clean
    assert (report.finished, report.redelivered) == (1, 1)
    assert report.latencies == {JOB: 1.5}


def test_a_result_applied_twice_is_duplicated() -> None:
    c = _collected()
    c.histories[JOB].insert(7, dict(HISTORY[6]))
    report = audit(c)
    assert report.duplicated == 1
    assert "result of task" in report.problems[0]


def test_a_job_the_api_does_not_know_is_lost_and_one_still_waiting_is_stuck() -> None:
    c = _collected()
    c.views[JOB] = None
    assert audit(c).lost == 1
    c = _collected()
    c.views[JOB] = {**VIEW, "status": "waiting_for_worker"}
    assert audit(c).stuck == 1


def test_a_result_of_an_older_attempt_or_run_by_no_worker_is_wrong() -> None:
    c = _collected()
    c.histories[JOB][6] = {**HISTORY[6], "attempt": 1, "worker": "w0"}
    assert audit(c).wrong == 1
    c = _collected()
    c.marks.remove((JOB, TASK, 2, "w1"))
    report = audit(c)
    assert report.wrong == 1
    assert "no worker ran" in report.problems[0]


def test_the_same_attempt_run_twice_counts_unless_it_was_released_between() -> None:
    c = _collected()
    c.marks.append((JOB, TASK, 2, "w2"))
    assert audit(c).duplicated == 1
    c.histories[JOB].insert(6, {"type": "task_released", "task_id": TASK, "attempt": 2})
    assert audit(c).duplicated == 0


def test_a_listed_job_nobody_created_is_duplicated() -> None:
    c = _collected()
    c.listed.add("job-2")
    assert audit(c).duplicated == 1


def test_marks_skip_a_line_cut_by_a_kill(tmp_path: Path) -> None:
    (tmp_path / "w0.marks").write_text(f"{JOB} {TASK} 1 w0\n{JOB} {TASK} 2 w")
    assert read_marks(tmp_path) == [(JOB, TASK, 1, "w0")]
