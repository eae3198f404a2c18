"""``orchestrator jobs ...``: a small HTTP client of the /api group."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

import aiohttp
import orjson

from orchestrator.engine.model import TERMINAL

WATCH_INTERVAL_S = 0.2


class ApiError(Exception):
    """The orchestrator answered with an error, or could not be reached."""


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
                raise ApiError(f"{resp.status} {err.get('code', '')}: {err.get('message', raw)}")
            return payload if isinstance(payload, dict) else {"value": payload}
    except aiohttp.ClientConnectionError as exc:
        raise ApiError(f"cannot reach the orchestrator at {url}: {exc}") from exc


async def wait_for_end(
    session: aiohttp.ClientSession, base: str, job_id: str, *, echo: bool, timeout_s: float = 600
) -> dict[str, Any]:
    last = None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        job = await _call(session, "GET", f"{base}/api/v1/jobs/{job_id}")
        seen = (job["status"], job["current_state"])
        if echo and seen != last:
            print(f"{job['status']:<20} state={job['current_state']}", file=sys.stderr)
            last = seen
        if job["status"] in TERMINAL:
            return job
        if loop.time() > deadline:
            raise ApiError(f"job {job_id} did not end within {timeout_s:.0f}s")
        await asyncio.sleep(WATCH_INTERVAL_S)


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
