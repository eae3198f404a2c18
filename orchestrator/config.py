"""``Settings``: one frozen object built at the edge (the CLI) and passed down.

Sources, later ones winning: defaults, the YAML file (``--config`` / ``ORCH_CONFIG``), the
environment (``ORCH_*``), command-line flags. ``docs/configuration.md`` lists every setting.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from orchestrator.errors import ConfigError
from orchestrator.storage.keys import check_name

DEV_CLIENT_TOKEN = "dev-client-token"
DEV_WORKER_TOKEN = "dev-worker-token"


@dataclass(frozen=True)
class ClientToken:
    name: str
    """Who the client is: jobs belong to it, and other clients never see them."""
    token: str


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    redis_url: str | None = None
    """None runs the embedded, in-process store (nothing durable)."""
    key_prefix: str = "orch"
    blueprints: tuple[str, ...] = ()
    """Modules (``pkg.mod`` or ``pkg.mod:attr``) whose blueprints are served."""
    clients: tuple[ClientToken, ...] = ()
    worker_token: str | None = None
    """Token any worker may use."""
    worker_tokens: Mapping[str, str] = field(default_factory=dict)
    """worker id → token bound to that worker id only."""
    dev_mode: bool = False
    """Development mode: dev tokens when none are configured."""
    lease_s: float = 30.0
    heartbeat_interval_s: float = 10.0
    poll_timeout_s: float = 30.0
    worker_ttl_s: float = 60.0
    retention_s: int = 7 * 24 * 3600
    """How long finished jobs stay readable."""
    sweep_interval_s: float = 0.5
    """How often leases, backoffs and timers are checked."""
    max_body_bytes: int = 1024 * 1024
    shutdown_timeout_s: float = 1.5
    log_level: str = "INFO"

    def with_dev_defaults(self) -> Settings:
        if not self.dev_mode:
            return self
        clients = self.clients or (ClientToken("dev", DEV_CLIENT_TOKEN),)
        worker_token = self.worker_token
        if worker_token is None and not self.worker_tokens:
            worker_token = DEV_WORKER_TOKEN
        return dataclasses.replace(self, clients=clients, worker_token=worker_token)

    def check(self) -> Settings:
        problems: list[str] = []
        if not self.clients:
            problems.append("no client tokens: add 'clients' to the config file (or use --dev)")
        if self.worker_token is None and not self.worker_tokens:
            problems.append("no worker token: add 'workers' to the config file (or use --dev)")
        for client in self.clients:
            try:
                check_name("client name", client.name)
            except ValueError as exc:
                problems.append(str(exc))
        try:
            check_name("key prefix", self.key_prefix)
        except ValueError as exc:
            problems.append(str(exc))
        if self.heartbeat_interval_s >= self.lease_s:
            problems.append("heartbeat_interval_s must be shorter than lease_s")
        if problems:
            raise ConfigError("bad configuration:\n" + "\n".join(f"  - {p}" for p in problems))
        return self


def _as_bool(value: object) -> bool:
    if isinstance(value, bool):  # YAML has booleans of its own
        return value
    lowered = str(value).strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError("not a boolean (use true/false)")


_CASTS: dict[str, Callable[[str], Any]] = {
    "host": str,
    "port": int,
    "redis_url": str,
    "key_prefix": str,
    "blueprints": lambda v: tuple(p.strip() for p in v.split(",") if p.strip()),
    "worker_token": str,
    "dev_mode": _as_bool,
    "lease_s": float,
    "heartbeat_interval_s": float,
    "poll_timeout_s": float,
    "worker_ttl_s": float,
    "retention_s": int,
    "sweep_interval_s": float,
    "max_body_bytes": int,
    "shutdown_timeout_s": float,
    "log_level": str.upper,
}

ENV_VARS = {f"ORCH_{name.upper()}": name for name in _CASTS}


def from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    """Settings found in ``ORCH_*`` variables; every bad one is reported in one error."""
    found: dict[str, Any] = {}
    problems: list[str] = []
    for var, name in ENV_VARS.items():
        if var not in environ:
            continue
        try:
            found[name] = _CASTS[name](environ[var])
        except ValueError as exc:
            problems.append(f"{var}={environ[var]!r}: {exc}")
    if problems:
        raise ConfigError("bad environment:\n" + "\n".join(f"  - {p}" for p in problems))
    return found


def from_file(path: Path) -> dict[str, Any]:
    """Settings in a YAML file, including ``clients`` and ``workers`` tokens."""
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"config file {path} must hold a mapping")
    found: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in raw.items():
        if key == "clients":
            found["clients"] = _clients(value, problems)
        elif key == "workers":
            _workers(value, found, problems)
        elif key in _CASTS:
            try:
                found[key] = _CASTS[key](value if not isinstance(value, list) else ",".join(value))
            except (ValueError, TypeError) as exc:
                problems.append(f"{key}: {exc}")
        else:
            problems.append(f"unknown setting {key!r}")
    if problems:
        raise ConfigError(f"bad config file {path}:\n" + "\n".join(f"  - {p}" for p in problems))
    return found


def _clients(value: Any, problems: list[str]) -> tuple[ClientToken, ...]:
    if not isinstance(value, list):
        problems.append("clients: must be a list of {name, token}")
        return ()
    clients = []
    for i, item in enumerate(value):
        if not isinstance(item, dict) or not item.get("name") or not item.get("token"):
            problems.append(f"clients[{i}]: needs a name and a token")
            continue
        clients.append(ClientToken(str(item["name"]), str(item["token"])))
    return tuple(clients)


def _workers(value: Any, found: dict[str, Any], problems: list[str]) -> None:
    if not isinstance(value, dict):
        problems.append("workers: must be a mapping with 'token' and/or 'tokens'")
        return
    if value.get("token"):
        found["worker_token"] = str(value["token"])
    tokens = value.get("tokens") or {}
    if not isinstance(tokens, dict):
        problems.append("workers.tokens: must map worker id to token")
        return
    found["worker_tokens"] = {str(k): str(v) for k, v in tokens.items()}


def load_settings(
    environ: Mapping[str, str], config_file: Path | None = None, **overrides: Any
) -> Settings:
    values: dict[str, Any] = {}
    path = config_file or (Path(environ["ORCH_CONFIG"]) if environ.get("ORCH_CONFIG") else None)
    if path is not None:
        values.update(from_file(path))
    values.update(from_env(environ))
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Settings(**values).with_dev_defaults().check()
