"""Fixtures of the declared-route tests: the real app over real Redis serving the blueprints
of ``blueprints.py`` and ``alert.yaml``; with S3 on moto for file parts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from orchestrator.blueprint.yaml_loader import load_yaml
from tests.api.conftest import Api, MakeApi, make_api, store_kind  # noqa: F401 (fixtures)
from tests.files.conftest import s3, s3_settings, s3_url  # noqa: F401 (fixtures)
from tests.routes.blueprints import ALL

YAML_ALERT = load_yaml(Path(__file__).with_name("alert.yaml"))
BLUEPRINTS = [*ALL, YAML_ALERT]
BEARER = "Bearer client-token-alice"


@pytest.fixture
async def api(make_api: MakeApi) -> Api:  # noqa: F811
    return await make_api(blueprints=BLUEPRINTS)


@pytest.fixture
async def s3_api(make_api: MakeApi, s3_settings: dict[str, Any]) -> Api:  # noqa: F811
    return await make_api(blueprints=BLUEPRINTS, **s3_settings)
