"""``orchestrator jobs ...``: a small HTTP client of the /api group."""

from __future__ import annotations

import argparse
import asyncio
import difflib
import sys
from typing import Any

import aiohttp
import orjson
from yarl import URL

from orchestrator.engine.model import TERMINAL
from worker_sdk.client import unreachable_reason

WATCH_INTERVAL_S = 0.2
STALL_NOTICE_S = 3.0
"""How long a job may wait on the same thing before ``--wait`` says what it waits for."""
UNAVAILABLE_BACKOFF_S = (0.5, 5.0)
"""First and longest pause between asks while the orchestrator is unavailable."""
PASSING_STATUSES = frozenset({502, 503, 504})
"""Answers that say the orchestrator (or its storage) is away for now: 503 while its Redis is
down, 502/504 from a proxy in front while it restarts."""


class ApiError(Exception):
    """The orchestrator answered with an error, or could not be reached (``status`` None)."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


async def _call(
    session: aiohttp.ClientSession, method: str, url: str, body: Any = None
) -> dict[str, Any]:
    data = orjson.dumps(body) if body is not None else None
    headers = {"Content-Type": "application/json"} if data is not None else {}
    try:
        async with session.request(method, url, data=data, headers=headers) as resp:
            raw = await resp.read()
            payload = orjson.loads(raw) if raw else {}
            if resp.status >= 400:
                err = payload.get("error", {}) if isinstance(payload, dict) else {}
                raise ApiError(
                    f"{resp.status} {err.get('code', '')}: {err.get('message', raw)}", resp.status
                )
            return payload if isinstance(payload, dict) else {"value": payload}
    except aiohttp.ClientConnectionError as exc:
        hint = unreachable_reason(exc).partition("; ")[2]
        text = f"cannot reach the orchestrator at {_shown(url)}: {exc}"
        raise ApiError(f"{text}; {hint}" if hint else text) from exc


def _shown(url: str) -> str:
    """``url`` without the credentials a proxy in front may take in it (``user:pw@``)."""
    parsed = URL(url)
    if parsed.user is None and parsed.password is None:
        return url
    return str(parsed.with_password(None).with_user("***"))


async def wait_for_end(
    session: aiohttp.ClientSession, base: str, job_id: str, *, echo: bool, timeout_s: float = 600
) -> dict[str, Any]:
    shown: tuple[str, str] | None = None
    waiting: tuple[Any, ...] | None = None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    since = loop.time()
    noticed = False
    drawn: Any = None
    reached = False
    while True:
        job = await _job_when_available(session, f"{base}/api/v1/jobs/{job_id}", reached=reached)
        reached = True
        if echo and (job["status"], job["current_state"]) != shown:
            shown = (job["status"], job["current_state"])
            print(f"{job['status']:<20} state={job['current_state']}", file=sys.stderr)
        task = job.get("task") or {}
        progress = task.get("progress")
        if echo and progress and progress != drawn:
            drawn = progress
            print(progress_bar(progress), file=sys.stderr)
        # A new attempt, or a task leased then queued again, is a new wait: time it afresh.
        now_waiting = (job["status"], job["current_state"], task.get("attempt"), task.get("status"))
        if now_waiting != waiting:
            waiting, since, noticed = now_waiting, loop.time(), False
        if job["status"] in TERMINAL:
            return job
        if echo and not noticed and loop.time() - since >= STALL_NOTICE_S:
            noticed = True
            notice = await _stall_notice(session, base, job, loop.time() - since)
            if notice:
                print(f"notice: {notice}", file=sys.stderr)
        if loop.time() > deadline:
            raise ApiError(f"job {job_id} did not end within {timeout_s:.0f}s")
        await asyncio.sleep(WATCH_INTERVAL_S)


async def _job_when_available(
    session: aiohttp.ClientSession, url: str, *, reached: bool
) -> dict[str, Any]:
    """The job, asked again (backing off) while the orchestrator is unavailable: its Redis
    down, or (once it has answered this watch) the process itself restarting, is no reason
    to stop following a long job. A first ask that cannot connect stops at once: that is a
    wrong URL far more often than a restart."""
    pause, longest = UNAVAILABLE_BACKOFF_S
    said = False
    while True:
        try:
            job = await _call(session, "GET", url)
        except ApiError as exc:
            if exc.status not in PASSING_STATUSES and not (reached and exc.status is None):
                raise
            if not said:
                said = True
                what = "the orchestrator" + ("'s storage" if exc.status == 503 else "")
                print(
                    f"{what} is unavailable ({exc}); asking again until it answers (Ctrl-C stops)",
                    file=sys.stderr,
                )
            await asyncio.sleep(pause)
            pause = min(pause * 2, longest)
            continue
        if said:
            print("the orchestrator answers again", file=sys.stderr)
        return job


def progress_bar(progress: dict[str, Any], width: int = 20) -> str:
    """``[##########----------]  50% step 1 of 2``: a task's latest ``ctx.progress`` report.

    One line per report rather than a bar redrawn in place: the output stays readable when
    piped to a file or a CI log.
    """
    fraction = progress.get("fraction")
    if isinstance(fraction, int | float):
        done = round(fraction * width)
        bar = f"[{'#' * done}{'-' * (width - done)}] {fraction:4.0%}"
    else:
        bar = f"[{'?' * width}]     "
    message = progress.get("message")
    return f"progress {bar} {message}" if message else f"progress {bar}"


async def _stall_notice(
    session: aiohttp.ClientSession, base: str, job: dict[str, Any], waited_s: float
) -> str | None:
    """Why a job has not moved for a while, from what the API shows: a new user's job waits
    silently for a worker nobody started, or for a person nobody told."""
    where = f"job {job['job_id']} has waited {waited_s:.0f}s in state {job['current_state']!r}"
    task = job.get("task")
    if job["status"] == "waiting_for_worker" and task and task["status"] == "queued":
        task_type = task["task_type"]
        try:
            workers = await _call(session, "GET", f"{base}/api/v1/workers")
        except ApiError:
            return f"{where} for a worker to take a {task_type!r} task"
        serving = [
            w for w in workers.get("value", []) if task_type in w.get("supported_skills", [])
        ]
        if not serving:
            skills = {s for w in workers.get("value", []) for s in w.get("supported_skills", [])}
            near = difflib.get_close_matches(task_type, sorted(skills), n=1, cutoff=0.75)
            what = (
                f"; a live worker serves {near[0]!r}: is one of the two names misspelt?"
                if near
                else ": start one (worker run module:worker --token ...)"
            )
            return (
                f"{where} for a worker to take a {task_type!r} task, and no live worker serves "
                f"{task_type!r}{what}"
            )
        busy = sum(1 for w in serving if w.get("load", 0) >= w.get("capacity", 1))
        return (
            f"{where} for a worker to take a {task_type!r} task; {len(serving)} live "
            f"worker(s) serve it, {busy} of them busy"
        )
    if job["status"] == "waiting_for_human":
        approval = job.get("approval") or {}
        decisions = ", ".join(approval.get("decisions", []))
        how = f": POST {approval['url']} with the job's approval token" if "url" in approval else ""
        return f"{where} for a person to decide ({decisions}){how}"
    return None


def _print(value: Any) -> None:
    print(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode())


async def run_jobs_command(args: argparse.Namespace) -> int:
    base = args.url.rstrip("/")
    headers = {"X-Client-Token": args.token}
    async with aiohttp.ClientSession(headers=headers) as session:
        try:
            if args.jobs_command == "start":
                try:
                    data = orjson.loads(args.data)
                except orjson.JSONDecodeError as exc:
                    print(f"error: --data is not valid JSON: {exc}", file=sys.stderr)
                    return 2
                route = args.route.strip("/")
                created = await _call(
                    session, "POST", f"{base}/api/{route}", {"initial_data": data}
                )
                if not args.wait:
                    _print(created)
                    return 0
                job = await wait_for_end(session, base, created["job_id"], echo=True)
            elif args.jobs_command == "get":
                job = await _call(session, "GET", f"{base}/api/v1/jobs/{args.job_id}")
            else:
                job = await wait_for_end(session, base, args.job_id, echo=True)
        except ApiError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    _print(job)
    return (
        0 if job["status"] in ("finished", *(() if args.jobs_command != "get" else TERMINAL)) else 1
    )
