"""The chaos soak's audit: every job's view and history, and the workers' marks, checked.

Nothing here talks to a process: ``audit`` takes what the soak collected and returns the
figures and every anomaly it found, each a line naming the job and what is wrong with it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

TERMINAL_STATUSES = {"finished", "failed", "cancelled", "quarantined"}
TERMINAL_EVENTS = {"job_finished", "job_failed", "job_cancelled", "job_quarantined"}
TASKS_OF = {"chaos_one": 1, "chaos_chain": 3, "chaos_fan": 3, "chaos_parent": 0}
"""How many task results a finished job of each blueprint applies."""

Mark = tuple[str, str, int, str]
"""One run of a task on a worker: job id, task id, attempt, worker id."""


@dataclass
class Collected:
    """What the soak gathered: the client's jobs, every job read back, the marks."""

    created: dict[str, str]
    """job id → blueprint, of every create the client got an answer for."""
    unaccepted: int
    """Creates never answered 200/202 before the deadline."""
    views: dict[str, dict[str, Any] | None]
    """job id → its view (``None``: the API answered 404), children included."""
    histories: dict[str, list[dict[str, Any]]]
    listed: set[str]
    """Ids the client's job list names."""
    marks: list[Mark]


@dataclass
class Report:
    jobs: int = 0
    children: int = 0
    finished: int = 0
    lost: int = 0
    duplicated: int = 0
    stuck: int = 0
    wrong: int = 0
    """Jobs that ended other than ``finished``, or whose history breaks another rule."""
    unaccepted: int = 0
    redelivered: int = 0
    """Task runs beyond each task's first (at-least-once at work)."""
    latencies: dict[str, float] = field(default_factory=dict)
    """job id → seconds from its create to its end, of the jobs that finished."""
    problems: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.lost or self.duplicated or self.stuck or self.wrong or self.unaccepted)


def read_marks(folder: Path) -> list[Mark]:
    """Every complete line of every worker's marks file."""
    marks: list[Mark] = []
    for path in sorted(folder.glob("*.marks")):
        text = path.read_text()
        complete = text[: text.rfind("\n") + 1]
        for line in complete.splitlines():
            job_id, task_id, attempt, worker = line.split(" ")
            marks.append((job_id, task_id, int(attempt), worker))
    return marks


def _ts(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def _duplicates(history: list[dict[str, Any]]) -> list[str]:
    """Whatever the history records twice that a job without loops does once."""
    counts: Counter[str] = Counter()
    for e in history:
        if e["type"] in TERMINAL_EVENTS:
            counts["terminal event"] += 1
        elif e["type"] == "state_entered":
            counts[f"state {e['state']} entered"] += 1
        elif e["type"] == "task_result":
            counts[f"result of task {e['task_id']}"] += 1
        elif e["type"] in ("child_started", "child_ended"):
            counts[e["type"]] += 1
    return [f"{what} x{n}" for what, n in counts.items() if n > 1]


def _misapplied(history: list[dict[str, Any]], ran: set[Mark], job_id: str) -> list[str]:
    """Results not of the attempt leased last, not run by a worker, or after the end."""
    problems = []
    leased: dict[str, tuple[int, str]] = {}
    ended = False
    for e in history:
        if ended:
            problems.append(f"{e['type']} after the terminal event")
        if e["type"] in TERMINAL_EVENTS:
            ended = True
        elif e["type"] == "task_leased":
            leased[e["task_id"]] = (e["attempt"], e["worker"])
        elif e["type"] == "task_result":
            held = (e["attempt"], e["worker"])
            if leased.get(e["task_id"]) != held:
                problems.append(
                    f"result of {e['task_id']} {held} but leased {leased.get(e['task_id'])}"
                )
            if (job_id, e["task_id"], *held) not in ran:
                problems.append(f"result of {e['task_id']} {held} that no worker ran")
    return problems


def _ran_in_result(result: Any) -> list[dict[str, Any]]:
    """The task answers a job's result carries (``{"task", "attempt", "worker"}``)."""
    if isinstance(result, dict):
        if {"task", "attempt", "worker"} <= result.keys():
            return [result]
        return [r for v in result.values() for r in _ran_in_result(v)]
    if isinstance(result, list):
        return [r for v in result for r in _ran_in_result(v)]
    return []


def _result_matches(view: dict[str, Any], history: list[dict[str, Any]]) -> list[str]:
    """The end handler's result names the attempt and worker whose result was applied."""
    if view["blueprint"] == "chaos_parent":
        return []  # its result is the child's, checked on the child
    applied = {
        (e["task_id"], e["attempt"], e["worker"]) for e in history if e["type"] == "task_result"
    }
    results = [e for e in history if e["type"] == "task_result"]
    problems = []
    if len(results) != TASKS_OF[view["blueprint"]]:
        problems.append(f"{len(results)} task results, {TASKS_OF[view['blueprint']]} expected")
    for ran in _ran_in_result(view["result"]):
        if (ran["task"], ran["attempt"], ran["worker"]) not in applied:
            problems.append(f"result names {ran} but the history applied {sorted(applied)}")
    return problems


def _check_job(report: Report, job_id: str, c: Collected, ran: set[Mark]) -> list[str]:
    view = c.views.get(job_id)
    if view is None:
        report.lost += 1
        return ["lost: the API does not know it"]
    if view["status"] not in TERMINAL_STATUSES:
        report.stuck += 1
        return [f"stuck in {view['status']} at {view['current_state']}"]
    history = c.histories.get(job_id, [])
    doubled = _duplicates(history)
    if doubled:
        report.duplicated += 1
        return [f"duplicated: {', '.join(doubled)}"]
    if view["status"] == "finished":
        report.finished += 1
        report.latencies[job_id] = _ts(view["finished_at"]) - _ts(view["created_at"])
    problems = _misapplied(history, ran, job_id)
    if view["status"] != "finished":
        problems.append(f"ended {view['status']}: {view['error']}")
    elif not problems:
        problems = _result_matches(view, history)
    if problems:
        report.wrong += 1
    return problems


def _children(c: Collected) -> dict[str, str]:
    """child id → parent id, from the parents' histories."""
    return {
        e["child_id"]: parent
        for parent, kind in c.created.items()
        if kind == "chaos_parent"
        for e in c.histories.get(parent, [])
        if e["type"] == "child_started"
    }


def _check_marks(report: Report, c: Collected, known: set[str]) -> None:
    runs = Counter((m[1], m[2]) for m in c.marks)
    report.redelivered = len(c.marks) - len({m[1] for m in c.marks})
    for (task_id, attempt), n in runs.items():
        if n == 1:
            continue
        job_id = task_id.split(".", 1)[0]
        released = any(
            e["type"] == "task_released" and e["task_id"] == task_id and e["attempt"] == attempt
            for e in c.histories.get(job_id, [])
        )
        if not released:  # the same attempt given out twice with no release between
            report.duplicated += 1
            report.problems.append(f"{job_id}: attempt {attempt} of {task_id} ran {n} times")
    for job_id in sorted({m[0] for m in c.marks} - known):
        report.wrong += 1
        report.problems.append(f"{job_id}: a worker ran a task of a job nobody created")


def audit(c: Collected) -> Report:
    report = Report(unaccepted=c.unaccepted)
    children = _children(c)
    known = set(c.created) | set(children)
    report.jobs, report.children = len(c.created), len(children)
    ran = set(c.marks)
    for job_id in sorted(known):
        for problem in _check_job(report, job_id, c, ran):
            report.problems.append(f"{job_id}: {problem}")
    for job_id in sorted(c.listed - known):
        report.duplicated += 1
        report.problems.append(f"{job_id}: listed, but neither created nor a child")
    for child, parent in children.items():
        view = c.views.get(child)
        if view is not None and view.get("parent_job_id") != parent:
            report.wrong += 1
            report.problems.append(f"{child}: parent {view.get('parent_job_id')}, not {parent}")
    _check_marks(report, c, known)
    return report
