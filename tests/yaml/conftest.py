"""Fixtures for the YAML blueprint tests: the real app, serving YAML blueprints, over real
Redis, driven by the HTTP helpers of ``tests/api`` (which also play the worker)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from orchestrator import BlueprintRegistry, create_app
from orchestrator.blueprint.yaml_loader import load_yaml
from orchestrator.storage.redis_store import RedisStore
from tests.api.conftest import Api, make_settings
from tests.conftest import delete_prefix
from tests.helpers import ROOT

HERE = Path(__file__).resolve().parent
GREETING_YAML = ROOT / "orchestrator" / "examples" / "greeting.yaml"
ROUTING_YAML = HERE / "routing.yaml"


@pytest.fixture
async def yaml_api(aiohttp_client: Any, redis_url: str, prefix: str) -> AsyncIterator[Api]:
    """The app serving ``orchestrator/examples/greeting.yaml`` and ``tests/yaml/routing.yaml``."""
    registry = BlueprintRegistry([load_yaml(GREETING_YAML), load_yaml(ROUTING_YAML)])
    store = RedisStore(aioredis.Redis.from_url(redis_url), prefix)
    app = create_app(make_settings(), store, registry)
    api = Api(client=await aiohttp_client(app), app=app, store=store)
    yield api
    await asyncio.wait_for(api.client.close(), 10)
    await delete_prefix(redis_url, prefix)
