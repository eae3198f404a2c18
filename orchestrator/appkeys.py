"""Typed keys for what the application holds."""

from __future__ import annotations

import asyncio

from aiohttp import web

from orchestrator.blueprint.registry import BlueprintRegistry
from orchestrator.config import Settings
from orchestrator.dispatch.bus import Bus
from orchestrator.dispatch.fleet import Claims
from orchestrator.dispatch.job_waiters import JobWaiters
from orchestrator.dispatch.profiles import Profiles
from orchestrator.dispatch.sockets import SocketTable
from orchestrator.dispatch.waiters import Dispatcher
from orchestrator.metrics import Metrics
from orchestrator.shell.jobs import JobRunner
from orchestrator.storage.redis_store import RedisStore
from orchestrator.storage.stats import JobStats

SETTINGS = web.AppKey("settings", Settings)
STORE = web.AppKey("store", RedisStore)
REGISTRY = web.AppKey("registry", BlueprintRegistry)
RUNNER = web.AppKey("runner", JobRunner)
DISPATCHER = web.AppKey("dispatcher", Dispatcher)
PROFILES = web.AppKey("worker_profiles", Profiles)
"""Each worker's skills, tags and labels, so that a long-poll costs no Redis read
(``dispatch/profiles.py``)."""
CLAIMS = web.AppKey("claims", Claims)
BUS = web.AppKey("bus", Bus)
SOCKETS = web.AppKey("sockets", SocketTable)
JOB_WAITERS = web.AppKey("job_waiters", JobWaiters)
LOOPS = web.AppKey("loops", list[asyncio.Task[None]])
METRICS = web.AppKey("metrics", Metrics)
STATS = web.AppKey("stats", JobStats)
