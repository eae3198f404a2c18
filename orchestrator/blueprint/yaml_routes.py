"""The ``routes:`` key of a YAML blueprint: the declarations of ``routes.py``, as data.

Example::

    routes:
      statuses:                      # the job's status as the routes name it; first match wins
        - {state: review, value: OPEN}
        - {decision: acknowledge, value: ACKNOWLEDGED}
      start:
        - path: /api/v1/alerts
          job_id_from: [body.id, header.Idempotency-Key]
          form: {isCall: boolean}    # also multipart/form-data, typed fields
          files: attachments         # file parts: job files, listed in initial_data.attachments
          wait: 10                   # seconds to wait for the job's end
          errors: {MISSING_FIELDS: 400}
          result: "{{ result }}"     # bodies: templates, as in the rest of the file
          failure: {success: false, code: "{{ error.code }}", message: "{{ error.message }}"}
          accepted: {...}
      actions:
        - path: /api/v1/alerts/{id}/acknowledge
          decision: acknowledge
          ok: {status: 200, body: {success: true, alertId: "{{ id }}"}}
          not_found: {status: 404, body: {error: Alert not found, alertId: "{{ id }}"}}
          not_waiting: {status: 400, body: {error: Already handled, currentStatus: "{{ status }}"}}
          invalid: {status: 400, body: {error: "{{ error.message }}"}}
          error: {error: "{{ error.message }}"}
      reads:
        - path: /api/v1/alerts/{id}
          ok: {status: 200, body: {id: "{{ id }}", status: "{{ status }}"}}

Each problem is reported as ``file:line: routes: ...``, like the rest of the file.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import yaml

from orchestrator.blueprint.routes import (
    ACCEPTED_BODY,
    FAILURE_BODY,
    ActionRoute,
    ReadRoute,
    Reply,
    Route,
    StartRoute,
    StatusRule,
    problems,
    template_problems,
)
from orchestrator.blueprint.yaml_nodes import Problem, Reader, line_of

START_KEYS = (
    "method",
    "job_id_from",
    "actor_header",
    "form",
    "files",
    "wait",
    "errors",
    "result",
    "failure",
    "accepted",
    "summary",
    "body_schema",
    "result_schema",
)
ACTION_KEYS = (
    "method",
    "decision",
    "ok",
    "not_found",
    "not_waiting",
    "invalid",
    "error",
    "actor_header",
    "summary",
    "body_schema",
    "ok_schema",
)
READ_KEYS = ("ok", "not_found", "error", "summary", "ok_schema")


def load_routes(reader: Reader, node: yaml.Node) -> list[Route]:
    top = reader.fields(node, "routes", (), ("statuses", "start", "actions", "reads"))
    statuses = _statuses(reader, top["statuses"]) if "statuses" in top else None
    found: list[Route] = []
    for group, build in (("start", _start), ("actions", _action), ("reads", _read)):
        if group not in top:
            continue
        items = top[group]
        if not isinstance(items, yaml.SequenceNode):
            raise Problem(line_of(items), f"routes.{group} must be a list")
        for i, item in enumerate(items.value):
            route = build(reader, item, f"routes.{group}[{i}]", statuses)
            broken = problems(route)
            if broken:
                raise Problem(line_of(item), broken[0])
            found.append(route)
    return found


def _statuses(reader: Reader, node: yaml.Node) -> tuple[StatusRule, ...]:
    if not isinstance(node, yaml.SequenceNode):
        raise Problem(line_of(node), "routes.statuses must be a list")
    rules = []
    for i, item in enumerate(node.value):
        what = f"routes.statuses[{i}]"
        keys = reader.fields(item, what, ("value",), ("state", "job_status", "decision"))
        given = {k: reader.string(v, f"{what}.{k}") for k, v in keys.items()}
        if "state" in given:
            reader.state(keys["state"], f"{what}.state")
        rules.append(StatusRule(**given))
    return tuple(rules)


def _body(reader: Reader, node: yaml.Node, what: str) -> Any:
    body = reader.value(node, what)
    broken = template_problems(body)
    if broken:
        raise Problem(line_of(node), f"{what}: {broken[0]}")
    return body


def _reply(reader: Reader, node: yaml.Node, what: str) -> Reply:
    keys = reader.fields(node, what, ("status", "body"))
    status = reader.integer(keys["status"], f"{what}.status", 100, 599)
    return Reply(status, _body(reader, keys["body"], f"{what}.body"))


def _schema(reader: Reader, keys: dict[str, yaml.Node], key: str, what: str) -> Any:
    if key not in keys:
        return None
    schema = reader.value(keys[key], f"{what}.{key}")
    if not isinstance(schema, dict):
        raise Problem(line_of(keys[key]), f"{what}.{key} must be a mapping (a JSON schema)")
    return schema


def _start(reader: Reader, node: yaml.Node, what: str, statuses: Any) -> StartRoute:
    keys = reader.fields(node, what, ("path",), START_KEYS)
    form = None
    if "form" in keys:
        form = {
            k: reader.string(v, f"{what}.form.{k}")
            for k, (_, v) in reader.mapping(keys["form"], f"{what}.form").items()
        }
    errors = {}
    if "errors" in keys:
        for code, (_, v) in reader.mapping(keys["errors"], f"{what}.errors").items():
            errors[code] = reader.integer(v, f"{what}.errors.{code}", 100, 599)
    return StartRoute(
        path=reader.string(keys["path"], f"{what}.path"),
        method=_opt_string(reader, keys, "method", what) or "POST",
        form=form,
        files=_opt_string(reader, keys, "files", what),
        wait_s=reader.number(keys["wait"], f"{what}.wait") if "wait" in keys else 0.0,
        errors=errors,
        result=_body(reader, keys["result"], f"{what}.result")
        if "result" in keys
        else "{{ result }}",
        failure=_body(reader, keys["failure"], f"{what}.failure")
        if "failure" in keys
        else dict(FAILURE_BODY),
        accepted=_body(reader, keys["accepted"], f"{what}.accepted")
        if "accepted" in keys
        else dict(ACCEPTED_BODY),
        job_id_from=tuple(reader.strings(keys["job_id_from"], f"{what}.job_id_from"))
        if "job_id_from" in keys
        else (),
        actor_header=_opt_string(reader, keys, "actor_header", what),
        statuses=statuses,
        summary=_opt_string(reader, keys, "summary", what) or "",
        body_schema=_schema(reader, keys, "body_schema", what),
        result_schema=_schema(reader, keys, "result_schema", what),
    )


def _opt_string(reader: Reader, keys: dict[str, yaml.Node], key: str, what: str) -> str | None:
    return reader.string(keys[key], f"{what}.{key}") if key in keys else None


def _opt_reply(reader: Reader, keys: dict[str, yaml.Node], key: str, what: str) -> Reply | None:
    return _reply(reader, keys[key], f"{what}.{key}") if key in keys else None


def _action(reader: Reader, node: yaml.Node, what: str, statuses: Any) -> ActionRoute:
    keys = reader.fields(node, what, ("path",), ACTION_KEYS)
    route = ActionRoute(
        path=reader.string(keys["path"], f"{what}.path"),
        method=_opt_string(reader, keys, "method", what) or "POST",
        decision=_opt_string(reader, keys, "decision", what),
        not_found=_opt_reply(reader, keys, "not_found", what),
        not_waiting=_opt_reply(reader, keys, "not_waiting", what),
        invalid=_opt_reply(reader, keys, "invalid", what),
        error=_body(reader, keys["error"], f"{what}.error") if "error" in keys else None,
        actor_header=_opt_string(reader, keys, "actor_header", what),
        statuses=statuses,
        summary=_opt_string(reader, keys, "summary", what) or "",
        body_schema=_schema(reader, keys, "body_schema", what),
        ok_schema=_schema(reader, keys, "ok_schema", what),
    )
    ok = _opt_reply(reader, keys, "ok", what)
    return route if ok is None else _replace_ok(route, ok)


def _read(reader: Reader, node: yaml.Node, what: str, statuses: Any) -> ReadRoute:
    keys = reader.fields(node, what, ("path",), READ_KEYS)
    route = ReadRoute(
        path=reader.string(keys["path"], f"{what}.path"),
        not_found=_opt_reply(reader, keys, "not_found", what),
        error=_body(reader, keys["error"], f"{what}.error") if "error" in keys else None,
        statuses=statuses,
        summary=_opt_string(reader, keys, "summary", what) or "",
        ok_schema=_schema(reader, keys, "ok_schema", what),
    )
    ok = _opt_reply(reader, keys, "ok", what)
    return route if ok is None else _replace_ok(route, ok)


def _replace_ok(route: Any, ok: Reply) -> Any:
    return replace(route, ok=ok)
