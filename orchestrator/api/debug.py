"""/_public/debug: routes that exist only in dev mode (``create_app`` adds them)."""

from __future__ import annotations

import logging

from aiohttp import web

from orchestrator.api.answers import Flushed
from orchestrator.api.render import typed_response
from orchestrator.appkeys import JOB_WAITERS, STORE

log = logging.getLogger("orchestrator.api")

routes = web.RouteTableDef()


@routes.post("/_public/debug/flush_db")
async def flush_db(request: web.Request) -> web.Response:
    store = request.app[STORE]
    deleted = await store.delete_all()
    request.app[JOB_WAITERS].forget_jobs()
    log.warning("dev mode: deleted %d keys under prefix %r", deleted, store.keys.prefix)
    return typed_response(Flushed("db_flushed", deleted))
