"""The operations settings: rate limits, trusted proxies, log format; from file and env."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from orchestrator.config import ClientToken, RateLimit, Settings
from orchestrator.config_sources import from_env, load_settings
from orchestrator.errors import ConfigError

BASE = """
    workers:
      token: w0rker
"""


def load(tmp_path: Path, body: str, environ: dict[str, str] | None = None) -> Settings:
    path = tmp_path / "orchestrator.yaml"
    path.write_text(textwrap.dedent(BASE + body))
    return load_settings(environ or {}, path)


def test_per_client_limits_and_defaults_from_the_file(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        """
    clients:
      - {name: shop, token: s3cret, rate_limit: {rate: 1, burst: 2}}
      - {name: crm, token: t0ken}
    rate_limits:
      enabled: true
      client: {rate: 50, burst: 100}
      ip: {rate: 80, burst: 160}
    trusted_proxies: [10.0.0.0/8, 192.168.1.1]
    log_format: json
    """,
    )

    assert settings.auth.clients == (
        ClientToken("shop", "s3cret", RateLimit(1.0, 2)),
        ClientToken("crm", "t0ken"),
    )
    assert (settings.rate_limits.client_rate_per_s, settings.rate_limits.client_burst) == (
        50.0,
        100,
    )
    assert (settings.rate_limits.ip_rate_per_s, settings.rate_limits.ip_burst) == (80.0, 160)
    assert settings.http.trusted_proxies == ("10.0.0.0/8", "192.168.1.1")
    assert settings.logs.format == "json"


def test_limits_can_be_turned_off_in_the_file_or_the_environment(tmp_path: Path) -> None:
    clients = "    clients: [{name: shop, token: s3cret}]\n"

    from_file = load(tmp_path, clients + "    rate_limits: {enabled: false}\n")
    from_environ = load(tmp_path, clients, {"ORCH_RATE_LIMITS_ENABLED": "off"})

    assert from_file.rate_limits.enabled is False
    assert from_environ.rate_limits.enabled is False


def test_environment_variables() -> None:
    environ = {
        "ORCH_CLIENT_RATE_PER_S": "10.5",
        "ORCH_CLIENT_BURST": "20",
        "ORCH_IP_RATE_PER_S": "30",
        "ORCH_IP_BURST": "60",
        "ORCH_TRUSTED_PROXIES": "10.0.0.1, ::1",
        "ORCH_LOG_FORMAT": "JSON",
    }

    assert from_env(environ) == {
        "client_rate_per_s": 10.5,
        "client_burst": 20,
        "ip_rate_per_s": 30.0,
        "ip_burst": 60,
        "trusted_proxies": ("10.0.0.1", "::1"),
        "log_format": "json",
    }


def test_every_bad_value_is_reported_at_once(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load(
            tmp_path,
            """
    clients:
      - {name: shop, token: s3cret, rate_limit: {rate: 1}}
      - {name: crm, token: t0ken, rate_limit: {rate: 0, burst: 5}}
    rate_limits: {client: {rate: fast, burst: 1}, global: {rate: 1, burst: 1}}
    trusted_proxies: [nonsense]
    log_format: xml
    log_level: chatty
    """,
        )

    message = str(caught.value)
    for expected in (
        "clients[0].rate_limit: must be {rate",
        "rate_limits.client:",
        "unknown setting rate_limits.global",
    ):
        assert expected in message
    with pytest.raises(ConfigError) as checked:
        Settings.from_flat(
            clients=(ClientToken("crm", "t0ken", RateLimit(0, 5)),),
            worker_token="w",
            ip_burst=0,
            trusted_proxies=("nonsense",),
            log_format="xml",
            log_level="CHATTY",
        ).check()
    message = str(checked.value)
    for expected in (
        "rate limit of client 'crm'",
        "rate limit of ip",
        "'nonsense' is not an IP",
        "log_format must be one of",
        "log_level must be one of",
    ):
        assert expected in message


def test_tokens_stay_out_of_the_settings_repr() -> None:
    settings = Settings.from_flat(
        clients=(ClientToken("shop", "s3cret"),), worker_token="w0rker", worker_tokens={"w": "t1"}
    )

    assert not any(secret in repr(settings) for secret in ("s3cret", "w0rker", "t1"))
