"""The audit store worker: audits and the current criteria in one JSON file.

``AUDIT_STORE_PATH`` names the file (see ``docs/processes.md`` for its shape). It is read
again by every task, so an edit to the criteria counts from the next task on, and written
back (through a temporary file and a rename, so a crash never leaves half a file) by the
tasks that change an audit.

Tasks: ``audit.load``, ``audit.mark_validated``, ``audit.update`` (``file_name`` optional: a
validation with new answers keeps the stored one). A task may run more than
once (``docs/guarantees.md``): the two that write remember the task id that wrote, and a
second run answers what the first wrote.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path
from typing import Any

import orjson

from orchestrator.blueprints.audit.fields import kind
from orchestrator.blueprints.audit.score import compute
from orchestrator.blueprints.workers.clock import now_iso
from worker_sdk import TaskContext, TaskError, Worker

PATH_VAR = "AUDIT_STORE_PATH"

worker = Worker()
_lock = asyncio.Lock()  # one read-modify-write at a time within this process


def _path() -> Path:
    raw = os.environ.get(PATH_VAR)
    if not raw:
        raise TaskError("STORE_NOT_CONFIGURED", f"set {PATH_VAR} to the audit store's JSON file")
    return Path(raw)


def _read(path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise TaskError("STORE_UNREADABLE", f"{path}: {exc}", retryable=True) from None
    return data


def _write(path: Path, data: dict[str, Any]) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "wb") as out:
        out.write(orjson.dumps(data, option=orjson.OPT_INDENT_2))
    os.replace(tmp, path)


def _record(data: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    task_uuid = params["task_uuid"]
    records = data.get("calls" if params["is_call"] else "chats") or {}
    record = records.get(task_uuid)
    if not isinstance(record, dict):
        what = kind(params["is_call"])
        raise TaskError("NOT_FOUND", f"no {what} audit with task_uuid {task_uuid}")
    return record


def _view(data: dict[str, Any], params: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    """The audit as the blueprint sees it, scored against the file's criteria of now."""
    return {
        **record,
        "task_uuid": params["task_uuid"],
        "type": kind(params["is_call"]),
        "score": compute(record.get("audit") or [], data.get("criteria") or []),
    }


@worker.task("audit.load")
async def load(params: dict[str, Any]) -> dict[str, Any]:
    async with _lock:
        data = await asyncio.to_thread(_read, _path())
    return {"audit": _view(data, params, _record(data, params))}


@worker.task("audit.mark_validated")
async def mark_validated(params: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
    path = _path()
    async with _lock:
        data = await asyncio.to_thread(_read, path)
        record = _record(data, params)
        done = record.get("validation") or {}
        if done.get("task_id") != ctx.task_id:
            record["validation"] = {
                "notes": params.get("notes", ""),
                "validated_at": now_iso(),
                "validated_by": params.get("validated_by"),
                "task_id": ctx.task_id,
            }
            await asyncio.to_thread(_write, path, data)
    return {"validated_at": record["validation"]["validated_at"]}


@worker.task("audit.update")
async def update(params: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
    path = _path()
    async with _lock:
        data = await asyncio.to_thread(_read, path)
        record = _record(data, params)
        if record.get("updated_by_task") != ctx.task_id:
            record["audit"] = params["audit"]
            record["file_name"] = params.get("file_name", record.get("file_name"))
            record["updated_at"] = now_iso()
            record["updated_by"] = params.get("updated_by")
            record["updated_by_task"] = ctx.task_id
            await asyncio.to_thread(_write, path, data)
    return {"audit": _view(data, params, record)}
