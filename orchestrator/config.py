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

from orchestrator.config_checks import TaskLimit, ops_problems, s3_problems, task_limits
from orchestrator.errors import ConfigError
from orchestrator.storage.keys import check_name

DEV_CLIENT_TOKEN = "dev-client-token"
DEV_WORKER_TOKEN = "dev-worker-token"
DEV_WEBHOOK_SECRET = "dev-webhook-secret"


@dataclass(frozen=True)
class RateLimit:
    """A token bucket: ``burst`` requests at once, refilled at ``rate_per_s``."""

    rate_per_s: float
    burst: int


@dataclass(frozen=True)
class ClientToken:
    name: str
    """Who the client is: jobs belong to it, and other clients never see them."""
    token: str = field(repr=False)  # settings get printed while debugging; tokens must not
    rate_limit: RateLimit | None = None
    """This client's own /api limit; None takes ``client_rate_per_s`` / ``client_burst``."""
    can_manage_blueprints: bool = False
    """May register, replace and retire blueprints over HTTP (``POST /api/v1/blueprints``)."""
    can_manage_workers: bool = False
    """May drain workers (``POST /api/v1/workers/{id}/drain``): an operator's right."""


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
    worker_token: str | None = field(default=None, repr=False)
    """Token any worker may use."""
    worker_tokens: Mapping[str, str] = field(default_factory=dict, repr=False)
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
    """How often leases, backoffs and timers are checked while there is work."""
    sweep_idle_interval_s: float = 5.0
    """How often they are checked with nothing due (at most ``lease_s``, at least
    ``sweep_interval_s``): how late a process picks up what a dead one left due."""
    redis_max_connections: int = 32
    """Redis connections one process opens at most, its pub/sub connection included."""
    max_body_bytes: int = 1024 * 1024
    shutdown_timeout_s: float = 1.5
    log_level: str = "INFO"
    approval_secret: str = field(default="", repr=False)
    """Key of the per-job approval tokens; every process must share it. Empty: derived from
    the configured tokens (set it explicitly in production)."""
    log_format: str = "text"
    """``text`` for people, ``json`` (one object a line) for log collectors."""
    rate_limits_enabled: bool = True
    client_rate_per_s: float = 5000.0
    """/api requests a second per client, over time (defaults: ``docs/operations.md``)."""
    client_burst: int = 10000
    ip_rate_per_s: float = 10000.0
    """/api requests a second per client IP, over time."""
    ip_burst: int = 20000
    trusted_proxies: tuple[str, ...] = ()
    """Peers (IPs or CIDR networks) whose ``X-Forwarded-For`` names the client's IP."""
    s3_bucket: str | None = None
    """Bucket for job files; unset turns the files endpoints off (501). ``docs/files.md``."""
    s3_endpoint_url: str | None = None
    """An S3-compatible server (MinIO, moto...); unset means AWS."""
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None
    """Unset: botocore's usual chain (``AWS_*`` variables, profile, instance role)."""
    s3_secret_access_key: str | None = field(default=None, repr=False)
    s3_key_prefix: str = "jobs"
    """Object keys are ``{s3_key_prefix}/{job_id}/{filename}``."""
    s3_presign_expires_s: int = 3600
    s3_max_expires_s: int = 7 * 24 * 3600
    """Longest link validity a client may ask for; SigV4 signatures last 7 days at most."""
    s3_max_upload_bytes: int = 5 * 1024**3
    """Largest body the streaming upload accepts; it bypasses ``max_body_bytes``."""
    webhook_secret: str = field(default="", repr=False)
    """Key of the webhook signatures (``docs/webhooks.md``); empty turns webhooks off."""
    webhook_allowed_hosts: tuple[str, ...] = ()
    """Hosts a ``webhook_url`` may name (``*.example.com``: its subdomains); empty: any."""
    webhook_timeout_s: float = 10.0
    webhook_max_attempts: int = 10
    webhook_backoff_s: float = 1.0
    """Delay before the second attempt; it doubles each time, up to ``webhook_backoff_max_s``."""
    webhook_backoff_max_s: float = 300.0
    webhook_max_in_flight: int = 256
    """Webhook deliveries one process has under way at once."""
    webhook_max_per_host: int = 64
    """Of those, deliveries to one receiver (host and port): a slow one holds only these."""
    console_enabled: bool = True
    """Serve the web console at ``/console/`` (``docs/console.md``); false: those paths 404."""
    task_types: Mapping[str, TaskLimit] = field(default_factory=dict)
    """Per task type ``max_in_flight`` / ``max_per_second`` (config file only), enforced at
    each claim: a change takes effect as each orchestrator process restarts."""

    def with_dev_defaults(self) -> Settings:
        if not self.dev_mode:
            return self
        clients = self.clients or (ClientToken("dev", DEV_CLIENT_TOKEN),)
        worker_token = self.worker_token
        if worker_token is None and not self.worker_tokens:
            worker_token = DEV_WORKER_TOKEN
        secret = self.webhook_secret or DEV_WEBHOOK_SECRET
        return dataclasses.replace(
            self, clients=clients, worker_token=worker_token, webhook_secret=secret
        )

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
        problems.extend(ops_problems(self))
        problems.extend(s3_problems(self))
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
    "console_enabled": _as_bool,
    "lease_s": float,
    "heartbeat_interval_s": float,
    "poll_timeout_s": float,
    "worker_ttl_s": float,
    "retention_s": int,
    "sweep_interval_s": float,
    "sweep_idle_interval_s": float,
    "redis_max_connections": int,
    "max_body_bytes": int,
    "shutdown_timeout_s": float,
    "log_level": str.upper,
    "approval_secret": str,
    "log_format": str.lower,
    "rate_limits_enabled": _as_bool,
    "client_rate_per_s": float,
    "client_burst": int,
    "ip_rate_per_s": float,
    "ip_burst": int,
    "trusted_proxies": lambda v: tuple(p.strip() for p in v.split(",") if p.strip()),
    "s3_bucket": str,
    "s3_endpoint_url": str,
    "s3_region": str,
    "s3_access_key_id": str,
    "s3_secret_access_key": str,
    "s3_key_prefix": str,
    "s3_presign_expires_s": int,
    "s3_max_expires_s": int,
    "s3_max_upload_bytes": int,
    "webhook_secret": str,
    "webhook_allowed_hosts": lambda v: tuple(h.strip().lower() for h in v.split(",") if h.strip()),
    "webhook_timeout_s": float,
    "webhook_max_attempts": int,
    "webhook_backoff_s": float,
    "webhook_backoff_max_s": float,
    "webhook_max_in_flight": int,
    "webhook_max_per_host": int,
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
        elif key == "rate_limits":
            _rate_limits(value, found, problems)
        elif key == "task_types":
            found["task_types"] = task_limits(value, problems)
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
        limit = None
        if item.get("rate_limit") is not None:
            limit = _rate_limit(f"clients[{i}].rate_limit", item["rate_limit"], problems)
        manage = item.get("can_manage_blueprints") is True  # only an explicit true grants it
        workers = item.get("can_manage_workers") is True
        clients.append(ClientToken(str(item["name"]), str(item["token"]), limit, manage, workers))
    return tuple(clients)


def _rate_limit(where: str, value: Any, problems: list[str]) -> RateLimit | None:
    if not isinstance(value, dict) or "rate" not in value or "burst" not in value:
        problems.append(f"{where}: must be {{rate: requests a second, burst: requests}}")
        return None
    try:
        return RateLimit(float(value["rate"]), int(value["burst"]))
    except (TypeError, ValueError) as exc:
        problems.append(f"{where}: {exc}")
        return None


def _rate_limits(value: Any, found: dict[str, Any], problems: list[str]) -> None:
    """``rate_limits: {enabled, client: {rate, burst}, ip: {rate, burst}}``."""
    if not isinstance(value, dict):
        problems.append("rate_limits: must be a mapping with 'enabled', 'client' and/or 'ip'")
        return
    for key, item in value.items():
        if key == "enabled":
            try:
                found["rate_limits_enabled"] = _as_bool(item)
            except ValueError as exc:
                problems.append(f"rate_limits.enabled: {exc}")
        elif key in ("client", "ip"):
            limit = _rate_limit(f"rate_limits.{key}", item, problems)
            if limit is not None:
                found[f"{key}_rate_per_s"] = limit.rate_per_s
                found[f"{key}_burst"] = limit.burst
        else:
            problems.append(f"unknown setting rate_limits.{key}")


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
    return _with_approval_secret(Settings(**values).with_dev_defaults().check())


def _with_approval_secret(settings: Settings) -> Settings:
    if settings.approval_secret:
        return settings
    import hashlib

    material = "|".join(
        [c.token for c in settings.clients]
        + [settings.worker_token or ""]
        + sorted(settings.worker_tokens.values())
    )
    derived = hashlib.sha256(f"approval:{material}".encode()).hexdigest()
    return dataclasses.replace(settings, approval_secret=derived)
