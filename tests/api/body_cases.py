"""Good and bad request bodies of every checked body, and the answer each gets.

``record`` runs them through the validators and returns what each one answered: the value
it returned, or the error's code, message and details. ``body_checks.json`` holds the answers
of the hand-written validators this replaced (``python -m tests.api.body_cases`` wrote it;
the human-step and ticket bodies were recorded before their Structs, the same way),
and ``test_body_checks.py`` holds the typed validators to the very same answers.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from orchestrator.api import human_bodies, schemas, tickets
from orchestrator.config import Settings, Webhooks
from orchestrator.errors import OrchestratorError
from orchestrator.shell.human_steps import Decision

CHECKS = Path(__file__).with_name("body_checks.json")

BIG = 2**53
COUNTS: list[Any] = [611.0, 611, 1, 0, -1, 1.5, BIG - 1, BIG, 2.4e20, True, "2", None]
NAMES: list[Any] = ["w1", "", "a b", "x" * 129, "ok\n", 7, None, ["w"]]
TEXTS: list[Any] = ["j", "", 3, None, True, {}, []]
OBJECTS: list[Any] = [{}, {"a": 1}, None, [], "x", 3]
SECONDS: list[Any] = [0, 0.5, 1, 315360000, 315360001, -1, True, "3", None, 1e300]
NOT_OBJECTS: list[Any] = [None, [], "x", 3, True]

RESULT = {"job_id": "j1", "task_id": "t1", "worker_id": "w1", "status": "success"}
DECLINE = {"job_id": "j1", "task_id": "t1", "worker_id": "w1", "attempt": 1}
REGISTRATION = {"worker_id": "w1", "supported_skills": ["greet"]}


def _vary(base: dict[str, Any], field: str, values: list[Any]) -> list[Any]:
    missing = {k: v for k, v in base.items() if k != field}
    return [missing, *({**base, field: v} for v in values)]


def _result_bodies() -> list[Any]:
    bodies: list[Any] = [*NOT_OBJECTS, RESULT, {**RESULT, "extra": [1]}]
    for field in ("job_id", "task_id", "worker_id", "status"):
        bodies += _vary(RESULT, field, TEXTS)
    bodies += _vary(RESULT, "data", OBJECTS)
    bodies += _vary(RESULT, "attempt", COUNTS)
    bodies += _vary(RESULT, "error", OBJECTS)
    errors: list[Any] = [
        {"code": 3},
        {"code": "E", "message": 3},
        {"retryable": 1},
        {"retryable": True, "retry_after_s": 5},
        *({"retry_after_s": v} for v in [0, 2.5, 1e9, 999999999, -1, True, "1", None]),
        {"code": "E", "retryable": "yes", "retry_after_s": -1},
    ]
    bodies += [{**RESULT, "error": e} for e in errors]
    bodies += [{"job_id": 1, "status": ""}, {**RESULT, "job_id": "", "attempt": 0}]
    bodies += [{"worker_id": "w", "status": 1, "data": []}]
    return bodies


def _decline_bodies() -> list[Any]:
    bodies: list[Any] = [*NOT_OBJECTS, DECLINE, {**DECLINE, "extra": 1}]
    for field in ("job_id", "task_id", "worker_id"):
        bodies += _vary(DECLINE, field, TEXTS)
    bodies += _vary(DECLINE, "attempt", COUNTS)
    bodies += _vary(DECLINE, "reason", ["why", "", "x" * 200, "x" * 201, 3, None])
    return bodies


def _progress_bodies() -> list[Any]:
    bodies: list[Any] = [*NOT_OBJECTS, DECLINE]
    bodies += _vary(DECLINE, "attempt", COUNTS)
    bodies += _vary(DECLINE, "fraction", [0, 0.5, 1, 1.01, -0.1, True, "0.5", None])
    bodies += _vary(DECLINE, "message", ["m", "x" * 200, "x" * 201, 3, None])
    bodies += _vary(DECLINE, "data", [{"a": "x" * 4000}, {"a": "x" * 4100}, [], None])
    return bodies


def _registration_bodies() -> list[Any]:
    bodies: list[Any] = [*NOT_OBJECTS, REGISTRATION, {**REGISTRATION, "version": "1"}]
    bodies += _vary(REGISTRATION, "worker_id", NAMES)
    skills: list[Any] = [[], ["b", "a", "b"], [3], ["a b"], "greet", None, [None], ["ok", "x\n"]]
    bodies += _vary(REGISTRATION, "supported_skills", skills)
    bodies += _vary(REGISTRATION, "capacity", COUNTS)
    bodies += _vary(REGISTRATION, "tags", [["gpu"], [], [1], "gpu", None, {}])
    bodies += _vary(REGISTRATION, "labels", [{"r": "eu"}, {}, {"r": 1}, [], None, "x"])
    bodies += [{"worker_id": "", "supported_skills": [], "capacity": 0}]
    return bodies


def _heartbeat_bodies() -> list[Any]:
    bodies: list[Any] = [None, [], "x", 3, True, {}, {"load": 1, "worker_id": "x", "cpu": 3}]
    for field in ("load", "capacity"):
        bodies += [{field: v} for v in COUNTS]
    bodies += [{"running_tasks": v} for v in [[], ["t"], [1], "t", None, {}]]
    bodies += [{"supported_skills": v} for v in [[], ["b", "a"], [3], ["a b"], None]]
    bodies += [{"tags": v} for v in [["a"], [2], None]]
    bodies += [{"labels": v} for v in [{"a": "b"}, {"a": 2}, None]]
    bodies += [{"load": -1, "capacity": 0}, {"registered_at": 5, "load": 2}]
    return bodies


def _new_job_bodies() -> list[Any]:
    bodies: list[Any] = [None, {}, [], "x", 3, {"nope": 1}, {"zz": 1, "aa": 2, "initial_data": 3}]
    bodies += [{"initial_data": v} for v in OBJECTS]
    for field in ("dispatch_timeout", "result_timeout"):
        bodies += [{field: v} for v in SECONDS]
    urls: list[Any] = [
        None,
        "https://hooks.example.com/x",
        "http://10.0.0.1:8080/p?q=1",
        "https://evil.test/x",
        "ftp://example.com",
        "https://a b.com",
        "https://example.com:0/",
        "https://[::1]/",
        "https://example.com/" + "x" * 2048,
        3,
        "",
    ]
    bodies += [{"webhook_url": u} for u in urls]
    bodies += [{"initial_data": [], "dispatch_timeout": -1}]
    return bodies


ACTORS: list[Any] = ["a", "", "x" * 256, "x" * 257, 3, None, ["a"]]
LONG_TEXTS: list[Any] = ["n", "", "x" * 10000, "x" * 10001, 3, None, {}]
ROLES: list[Any] = [["a"], [], "a", [1], None, {}, ["a", None]]


def _decision_bodies() -> list[Any]:
    base = {"decision": "approve"}
    bodies: list[Any] = [*NOT_OBJECTS, {}, base, {**base, "token": "t"}, {"zz": 1, "aa": 2}]
    bodies += _vary(base, "decision", [3, None, "", ["a"], {}])
    bodies += _vary(base, "actor_roles", ROLES)
    bodies += _vary(base, "data", OBJECTS)
    bodies += _vary(base, "actor", ACTORS)
    bodies += _vary(base, "notes", LONG_TEXTS)
    bodies += _vary(base, "state", ACTORS)
    bodies += [
        {"state": 3, "notes": 3, "actor": 3, "data": [], "actor_roles": 1},
        {"state": 3, "notes": 3, "actor": 3, "data": []},
        {"state": 3, "notes": 3, "actor": 3},
        {"state": 3, "notes": 3},
        {"actor_roles": [1], "zz": 1},
    ]
    return bodies


def _assignment_bodies() -> list[Any]:
    base = {"role": "r"}
    bodies: list[Any] = [*NOT_OBJECTS, {}, base, {"assignee": "a"}, {"role": "r", "assignee": "a"}]
    bodies += [{"zz": 1}, {"role": None}, {"role": None, "assignee": None, "actor": 3}]
    bodies += [{"actor": 3}, {"notes": 3, "zz": 1}, {"role": 3, "assignee": 3, "actor": 3}]
    bodies += _vary(base, "role", NAMES)
    bodies += _vary({"assignee": "a"}, "role", NAMES)
    bodies += _vary(base, "assignee", NAMES)
    bodies += _vary(base, "actor", ACTORS)
    bodies += _vary(base, "notes", LONG_TEXTS)
    return bodies


def _escalation_bodies() -> list[Any]:
    bodies: list[Any] = [*NOT_OBJECTS, {}, {"zz": 1}, {"actor": 3, "reason": 3}]
    bodies += _vary({}, "actor", ACTORS)
    bodies += _vary({}, "reason", LONG_TEXTS)
    bodies += [{"actor": "a", "reason": "r", "decision": "x"}]
    return bodies


def _ticket_bodies() -> list[Any]:
    base = {"transition": "go"}
    bodies: list[Any] = [*NOT_OBJECTS, {}, base, {"zz": 1}, {"transition": "", "zz": 1}]
    bodies += [{**base, "decision": "x"}, {**base, "state": "s"}, {**base, "data": {}}]
    bodies += [{"transition": 3, "actor": 3}, {**base, "actor": 3, "actor_roles": 3}]
    bodies += [{**base, "notes": 3, "actor": 3}]
    bodies += _vary(base, "transition", ["", 3, None, ["a"], "x" * 300])
    bodies += _vary(base, "actor_roles", ROLES)
    bodies += _vary(base, "actor", ACTORS)
    bodies += _vary(base, "notes", LONG_TEXTS)
    numbered = {"transition_id": 5, "notes": "done"}
    bodies += [numbered, {**numbered, "transition": "go"}, {**numbered, "transition": None}]
    bodies += _vary(numbered, "transition_id", [0, -1, 1.5, 5.0, "5", True, None, 10**20])
    return bodies


def _ticket_transition(body: Any) -> object:
    """The transition as the decision it is taken as (by name; a number is read against the
    ticket's step, which a body alone does not have)."""
    given = tickets.transition_body(body)
    if given.transition_id is not None:
        return {"transition_id": given.transition_id, "notes": given.notes}
    return Decision(given.transition, given.actor, given.actor_roles, given.notes)


def _settings(secret: str, hosts: tuple[str, ...] = ()) -> Settings:
    return Settings(webhooks=Webhooks(secret=secret, allowed_hosts=hosts))


def validators() -> dict[str, tuple[Callable[[Any], object], list[Any]]]:
    """Each validator under a name, with the bodies it is judged on."""
    no_hooks, hooks = _settings(""), _settings("s3cret")
    allowed = _settings("s3cret", ("hooks.example.com", "*.example.org", "10.0.0.1"))
    jobs = _new_job_bodies()
    return {
        "task_result": (schemas.task_result, _result_bodies()),
        "task_decline": (schemas.task_decline, _decline_bodies()),
        "task_progress": (schemas.task_progress, _progress_bodies()),
        "registration": (schemas.registration, _registration_bodies()),
        "heartbeat": (schemas.heartbeat, _heartbeat_bodies()),
        "new_job": (lambda body: schemas.new_job(body, no_hooks), jobs),
        "new_job_webhooks": (lambda body: schemas.new_job(body, hooks), jobs),
        "new_job_allowed_hosts": (lambda body: schemas.new_job(body, allowed), jobs),
        "decision": (human_bodies.decision, _decision_bodies()),
        "decision_webhook": (
            lambda body: human_bodies.decision(body, webhook=True),
            _decision_bodies(),
        ),
        "assignment": (human_bodies.assignment, _assignment_bodies()),
        "escalation": (human_bodies.escalation, _escalation_bodies()),
        "ticket_transition": (_ticket_transition, _ticket_bodies()),
    }


def answer(check: Callable[[Any], object], body: Any) -> dict[str, Any]:
    """What ``check`` made of ``body``, as JSON."""
    try:
        value = check(body)
    except OrchestratorError as exc:
        return {
            "error": {
                "status": exc.status,
                "code": exc.code,
                "message": exc.message,
                "details": exc.details,
            }
        }
    if hasattr(value, "__dataclass_fields__"):
        value = {k: getattr(value, k) for k in value.__dataclass_fields__}
    return {"ok": value}


def record() -> dict[str, list[dict[str, Any]]]:
    return {
        name: [{"body": body, "answer": answer(check, body)} for body in bodies]
        for name, (check, bodies) in validators().items()
    }


if __name__ == "__main__":
    CHECKS.write_text(json.dumps(record(), indent=1, sort_keys=True) + "\n")
    sys.stdout.write(f"wrote {CHECKS}\n")
