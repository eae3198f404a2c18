"""/api: live workers and the dashboard's aggregated numbers (the whole deployment)."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from orchestrator.api.render import iso, json_response
from orchestrator.appkeys import METRICS, SETTINGS, STATS, STORE
from orchestrator.dispatch.fleet import unroutable
from orchestrator.human import inbox

routes = web.RouteTableDef()


_BOOKKEEPING = frozenset({"running_tasks", "running_at"})
"""Heartbeat fields kept for lease checks, not a description of the worker (and task ids name
other clients' jobs)."""


def worker_view(info: dict[str, Any], seen: float) -> dict[str, Any]:
    """The worker as it described itself (seed 002 registers "ID, skills, resources, etc."),
    under the fields the orchestrator vouches for, which win over any of the same name."""
    registered = info.get("registered_at")
    described = {k: v for k, v in info.items() if k not in _BOOKKEEPING}
    return described | {
        "worker_id": info.get("worker_id"),
        "supported_skills": info.get("supported_skills", []),
        "capacity": info.get("capacity", 1),
        "load": info.get("load", 0),
        "tags": info.get("tags", []),
        "draining": bool(info.get("draining")),
        "labels": info.get("labels", {}),
        "registered_at": iso(registered) if registered else None,
        "last_heartbeat": iso(seen),
    }


@routes.get("/api/v1/workers")
async def list_workers(request: web.Request) -> web.Response:
    """Workers seen within ``worker_ttl_s``; the store forgets older ones on the way."""
    live = await request.app[STORE].live_workers(request.app[SETTINGS].workers.ttl_s)
    views = sorted((worker_view(info, seen) for info, seen in live), key=lambda w: w["worker_id"])
    return json_response(views)


@routes.get("/api/v1/dashboard")
async def dashboard(request: web.Request) -> web.Response:
    """Reads counters that every process keeps up to date in Redis: no job is scanned."""
    snap = await request.app[METRICS].cluster.read()
    store = request.app[STORE]
    last_minute, last_hour = await request.app[STATS].finished_recently()
    jobs = {
        blueprint: {status: n for status, n in sorted(by_status.items()) if n}
        for blueprint, by_status in sorted(snap.jobs.items())
    }
    return json_response(
        {
            "jobs": {blueprint: counts for blueprint, counts in jobs.items() if counts},
            "queues": dict(sorted(snap.queues.items())),
            "queue_oldest_s": {
                task_type: None if age is None else round(age, 3)
                for task_type, age in (await store.queue_oldest(snap.queues, time.time())).items()
            },
            "unroutable": await unroutable(store, request.app[SETTINGS].workers.ttl_s),
            "workers": {
                "active": snap.workers_active,
                "busy": snap.workers_busy,
                "draining": snap.workers_draining,
            },
            "finished": {"last_minute": last_minute, "last_hour": last_hour},
            "finished_per_minute": await request.app[STATS].finished_per_minute(),
            "human_tasks": await _human_tasks(request),
        }
    )


async def _human_tasks(request: web.Request) -> dict[str, Any]:
    """Waiting and overdue human steps by role, from the inbox indexes (``human/inbox.py``)."""
    clients = [c.name for c in request.app[SETTINGS].auth.clients]
    by_role = await inbox.counts(request.app[STORE], clients)
    return {
        "waiting": sum(n["waiting"] for n in by_role.values()),
        "overdue": sum(n["overdue"] for n in by_role.values()),
        "by_role": {role: n for role, n in sorted(by_role.items()) if n["waiting"]},
    }
