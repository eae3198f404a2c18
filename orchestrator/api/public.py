"""/_public: no token."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import RedisClusterException, RedisError

from orchestrator.api import human_bodies
from orchestrator.api.answers import ApprovalReceived
from orchestrator.api.middleware import read_json
from orchestrator.api.render import json_response, typed_response
from orchestrator.appkeys import DISPATCHER, JOB_WAITERS, RUNNER, STORE
from orchestrator.errors import BadRequest
from orchestrator.shell import human_steps
from orchestrator.storage import cluster

routes = web.RouteTableDef()


@routes.get("/_public/status")
async def status(request: web.Request) -> web.Response:
    redis = request.app[STORE].redis
    nodes: dict[str, Any] = {}
    try:
        if isinstance(redis, RedisCluster):
            # one answering node is not enough: a write fails if its slot's primary is down
            served, nodes = await cluster.health(redis)
            if not served:
                raise RedisClusterException("a hash slot is not served")
        else:
            await request.app[STORE].ping()
    except (RedisError, RedisClusterException, OSError) as exc:
        body = {
            "status": "unavailable",
            "error": {"code": "STORAGE_UNAVAILABLE", "message": str(exc), "details": nodes},
        }
        return json_response(body, status=503)
    return json_response(
        {
            "status": "ok",
            "parked_polls": request.app[DISPATCHER].waiting,
            "parked_job_waits": len(request.app[JOB_WAITERS]),
            **nodes,
        }
    )


@routes.post("/_public/webhooks/approval/{job_id}")
async def approval(request: web.Request) -> web.Response:
    """A person's decision on a job waiting for one. The job's approval token (from its
    status or its ``waiting_for_human`` webhook) comes as ``X-Approval-Token`` or ``token``."""
    body = await read_json(request)
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object", code="VALIDATION_ERROR")
    token = request.headers.get("X-Approval-Token") or body.get("token") or ""
    job_id = request.match_info["job_id"]
    decision = human_bodies.decision(body, webhook=True)  # optional actor, notes, data
    await human_steps.decide(request.app[RUNNER], job_id, decision, client=None, token=str(token))
    return typed_response(ApprovalReceived("approval_received", job_id))
