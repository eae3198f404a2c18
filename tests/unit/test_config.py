"""config.py: settings from file, environment and flags, and the checks on the result."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from orchestrator.config import DEV_CLIENT_TOKEN, DEV_WORKER_TOKEN, ClientToken, Settings
from orchestrator.config_sources import from_env, from_file, load_settings
from orchestrator.errors import ConfigError

TOKENS = """
    clients:
      - {name: shop, token: s3cret}
    workers:
      token: w0rker
"""


def config_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "orchestrator.yaml"
    path.write_text(textwrap.dedent(body))
    return path


def test_file_then_environment_then_overrides(tmp_path: Path) -> None:
    path = config_file(tmp_path, TOKENS + "    port: 1000\n    host: 0.0.0.0\n    lease_s: 40\n")
    environ = {"ORCH_PORT": "2000", "ORCH_LEASE_S": "50"}

    settings = load_settings(environ, path, port=3000, host=None)

    assert settings.http.port == 3000  # flag over env over file
    assert settings.workers.lease_s == 50.0  # env over file
    assert settings.http.host == "0.0.0.0"  # file over default; a None flag does not count
    assert settings.workers.poll_timeout_s == Settings().workers.poll_timeout_s


def test_the_config_file_may_come_from_the_environment(tmp_path: Path) -> None:
    path = config_file(tmp_path, TOKENS + "    key_prefix: shop\n")

    settings = load_settings({"ORCH_CONFIG": str(path)})

    assert settings.redis.key_prefix == "shop"
    assert settings.auth.clients == (ClientToken("shop", "s3cret"),)


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"ORCH_PORT": "9000"}, {"port": 9000}),
        ({"ORCH_LEASE_S": "2.5"}, {"lease_s": 2.5}),
        ({"ORCH_DEV_MODE": "yes"}, {"dev_mode": True}),
        ({"ORCH_DEV_MODE": "off"}, {"dev_mode": False}),
        ({"ORCH_LOG_LEVEL": "debug"}, {"log_level": "DEBUG"}),
        ({"ORCH_BLUEPRINTS": " a.b , c:d ,"}, {"blueprints": ("a.b", "c:d")}),
        ({"ORCH_REDIS_URL": "redis://r:6379/1"}, {"redis_url": "redis://r:6379/1"}),
        ({"HOME": "/root", "ORCH_UNKNOWN": "1"}, {}),
    ],
)
def test_environment_values_are_typed(environ: dict[str, str], expected: dict[str, Any]) -> None:
    assert from_env(environ) == expected


def test_every_bad_variable_is_reported_in_one_error() -> None:
    environ = {
        "ORCH_PORT": "eighty",
        "ORCH_LEASE_S": "long",
        "ORCH_DEV_MODE": "maybe",
        "ORCH_HOST": "fine",
    }

    with pytest.raises(ConfigError) as caught:
        from_env(environ)

    message = str(caught.value)
    assert "ORCH_PORT='eighty'" in message
    assert "ORCH_LEASE_S='long'" in message
    assert "ORCH_DEV_MODE='maybe': not a boolean" in message
    assert "ORCH_HOST" not in message


def test_yaml_holds_client_and_worker_tokens(tmp_path: Path) -> None:
    path = config_file(
        tmp_path,
        """
        clients:
          - {name: shop, token: a}
          - {name: crm, token: b}
        workers:
          token: shared
          tokens: {w-1: one, w-2: two}
        dev_mode: true
        blueprints: [pkg.audit, pkg.alerts]
        """,
    )

    found = from_file(path)

    assert found == {
        "clients": (ClientToken("shop", "a"), ClientToken("crm", "b")),
        "worker_token": "shared",
        "worker_tokens": {"w-1": "one", "w-2": "two"},
        "dev_mode": True,
        "blueprints": ("pkg.audit", "pkg.alerts"),
    }


def test_every_bad_file_entry_is_reported(tmp_path: Path) -> None:
    path = config_file(
        tmp_path,
        """
        prot: 8080
        port: many
        clients:
          - {name: shop}
        workers:
          tokens: [a, b]
        """,
    )

    with pytest.raises(ConfigError) as caught:
        from_file(path)

    message = str(caught.value)
    assert "unknown setting 'prot'" in message
    assert "port:" in message
    assert "clients[0]: needs a name and a token" in message
    assert "workers.tokens: must map worker id to token" in message


@pytest.mark.parametrize(
    ("body", "message"),
    [("- a\n- b\n", "must hold a mapping"), ("a: [\n", "is not valid YAML")],
)
def test_a_file_that_is_not_a_mapping_is_refused(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        from_file(config_file(tmp_path, body))


def test_a_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        from_file(tmp_path / "absent.yaml")


def test_an_empty_file_is_no_settings(tmp_path: Path) -> None:
    assert from_file(config_file(tmp_path, "")) == {}


def test_without_tokens_and_dev_mode_the_check_lists_both() -> None:
    with pytest.raises(ConfigError) as caught:
        Settings().check()

    message = str(caught.value)
    assert "no client tokens" in message
    assert "no worker token" in message


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"key_prefix": "my prefix"}, "key prefix 'my prefix'"),
        ({"clients": (ClientToken("{bad}", "t"),)}, "client name '{bad}'"),
        ({"heartbeat_interval_s": 30.0, "lease_s": 30.0}, "heartbeat_interval_s must be shorter"),
    ],
)
def test_check_refuses_bad_values(changes: dict[str, Any], message: str) -> None:
    base = {"clients": (ClientToken("shop", "t"),), "worker_token": "w"}

    with pytest.raises(ConfigError, match=message):
        Settings.from_flat(**{**base, **changes}).check()


def test_worker_tokens_alone_are_enough() -> None:
    settings = Settings.from_flat(clients=(ClientToken("shop", "t"),), worker_tokens={"w-1": "x"})

    assert settings.check() is settings


def test_dev_mode_fills_in_dev_tokens() -> None:
    settings = load_settings({"ORCH_DEV_MODE": "1"})

    assert settings.auth.clients == (ClientToken("dev", DEV_CLIENT_TOKEN),)
    assert settings.auth.worker_token == DEV_WORKER_TOKEN


def test_dev_mode_keeps_configured_tokens(tmp_path: Path) -> None:
    path = config_file(tmp_path, TOKENS)

    settings = load_settings({}, path, dev_mode=True)

    assert settings.auth.clients == (ClientToken("shop", "s3cret"),)
    assert settings.auth.worker_token == "w0rker"


def test_dev_mode_leaves_per_worker_tokens_alone() -> None:
    settings = Settings.from_flat(dev_mode=True, worker_tokens={"w-1": "x"}).with_dev_defaults()

    assert settings.auth.worker_token is None
    assert settings.auth.clients == (ClientToken("dev", DEV_CLIENT_TOKEN),)


def test_without_dev_mode_no_defaults_are_added() -> None:
    settings = Settings()

    assert settings.with_dev_defaults() is settings


def test_too_few_redis_connections_are_refused() -> None:
    # the pub/sub connection, the hot round trips' (storage/wire.py), the stall watch's ping
    with pytest.raises(ConfigError, match="redis_max_connections must be >= 4"):
        Settings.from_flat(redis_max_connections=3).check()
    assert "redis_max_connections" not in "".join(
        Settings.from_flat(redis_max_connections=4).redis.problems()
    )
