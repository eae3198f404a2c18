"""Where settings come from, later ones winning: the defaults, the YAML file (``--config`` /
``ORCH_CONFIG``), the environment (``ORCH_*``), command-line flags. Each source gives values by
flat name (``config.FLAT``), and reports all of its bad values in one error.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from orchestrator.config import FLAT, ClientToken, RateLimit, Settings, TaskLimit
from orchestrator.errors import ConfigError
from orchestrator.names import check_name

_CASTS = {name: cast for name, (_, cast) in FLAT.items() if cast is not None}
"""The settings that are text (in the environment, or a scalar in the file), and how to read it."""
_EXPECTED: dict[Any, str] = {int: "expected a whole number", float: "expected a number"}
ENV_VARS = {f"ORCH_{name.upper()}": name for name in _CASTS}


def load_settings(
    environ: Mapping[str, str], config_file: Path | None = None, **flags: Any
) -> Settings:
    """Checked settings from every source; ``flags`` go by flat name (None: not given)."""
    values: dict[str, Any] = {}
    path = config_file or (Path(environ["ORCH_CONFIG"]) if environ.get("ORCH_CONFIG") else None)
    if path is not None:
        values.update(from_file(path))
    values.update(from_env(environ))
    values.update({k: v for k, v in flags.items() if v is not None})
    return _with_approval_secret(Settings.from_flat(**values).with_dev_defaults().check())


def from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    problems: list[str] = []
    for var, name in ENV_VARS.items():
        try:
            if var in environ:
                found[name] = _read(name, environ[var])
        except ValueError as exc:
            problems.append(f"{var}={environ[var]!r}: {exc}")
    if problems:
        raise ConfigError.listing("bad environment", problems)
    return found


def from_file(path: Path) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)  # the parser's own message spans lines
        where = f" (line {mark.line + 1})" if mark else ""
        why = getattr(exc, "problem", None) or exc
        raise ConfigError(f"config file {path} is not valid YAML{where}: {why}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"config file {path} must hold a mapping")
    found: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in raw.items():
        if key in _SECTIONS:
            found.update(_SECTIONS[key](value, problems))
        elif key not in _CASTS:
            problems.append(f"unknown setting {key!r}")
        else:
            try:
                found[key] = _read(key, value)
            except ValueError as exc:
                problems.append(f"{key}: {exc}, got {value!r}")
    if problems:
        raise ConfigError.listing(f"bad config file {path}", problems)
    return found


def _read(name: str, value: Any) -> Any:
    """The value of setting ``name`` from text or YAML (a list as the comma-separated text),
    or a ValueError that says what was expected."""
    cast = _CASTS[name]
    if isinstance(value, list):
        value = ",".join(map(str, value))
    try:
        return cast(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(_EXPECTED.get(cast, str(exc))) from None


def _clients(value: Any, problems: list[str]) -> dict[str, Any]:
    """``clients: [{name, token, rate_limit?, can_manage_blueprints?, can_manage_workers?}]``."""
    if not isinstance(value, list):
        problems.append("clients: must be a list of {name, token}")
        return {}
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
    return {"clients": tuple(clients)}


def _rate_limit(where: str, value: Any, problems: list[str]) -> RateLimit | None:
    if not isinstance(value, dict) or "rate" not in value or "burst" not in value:
        problems.append(f"{where}: must be {{rate: requests a second, burst: requests}}")
        return None
    try:
        return RateLimit(float(value["rate"]), int(value["burst"]))
    except (TypeError, ValueError):
        problems.append(f"{where}: rate must be a number and burst a whole number")
        return None


def _rate_limits(value: Any, problems: list[str]) -> dict[str, Any]:
    """``rate_limits: {enabled, client: {rate, burst}, ip: {rate, burst}}``."""
    if not isinstance(value, dict):
        problems.append("rate_limits: must be a mapping with 'enabled', 'client' and/or 'ip'")
        return {}
    found: dict[str, Any] = {}
    for key, item in value.items():
        if key == "enabled":
            try:
                found["rate_limits_enabled"] = _read("rate_limits_enabled", item)
            except ValueError as exc:
                problems.append(f"rate_limits.enabled: {exc}")
        elif key in ("client", "ip"):
            limit = _rate_limit(f"rate_limits.{key}", item, problems)
            if limit:
                found[f"{key}_rate_per_s"], found[f"{key}_burst"] = limit.rate_per_s, limit.burst
        else:
            problems.append(f"unknown setting rate_limits.{key}")
    return found


def _workers(value: Any, problems: list[str]) -> dict[str, Any]:
    """``workers: {token, tokens: {worker id: token}}``."""
    if not isinstance(value, dict):
        problems.append("workers: must be a mapping with 'token' and/or 'tokens'")
        return {}
    found = {"worker_token": str(value["token"])} if value.get("token") else {}
    tokens = value.get("tokens") or {}
    if not isinstance(tokens, dict):
        problems.append("workers.tokens: must map worker id to token")
        return found
    return {**found, "worker_tokens": {str(k): str(v) for k, v in tokens.items()}}


def task_limits(value: Any, problems: list[str]) -> dict[str, TaskLimit]:
    """``task_types: {send_email: {max_in_flight: 5, max_per_second: 10}}``."""
    if not isinstance(value, dict):
        problems.append("task_types: must map task type to {max_in_flight, max_per_second}")
        return {}
    found = {}
    for task_type, item in value.items():
        where = f"task_types.{task_type}"
        try:
            check_name("task type", str(task_type))
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
            continue
        if not isinstance(item, dict) or not item or set(item) - _LIMIT_KEYS:
            problems.append(f"{where}: must be a mapping of max_in_flight and/or max_per_second")
            continue
        in_flight, rate = item.get("max_in_flight", 0), item.get("max_per_second", 0)
        if isinstance(in_flight, bool) or not isinstance(in_flight, int) or in_flight < 0:
            problems.append(f"{where}.max_in_flight: must be a whole number >= 1 (0: no limit)")
        elif isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate < 1e9:
            problems.append(f"{where}.max_per_second: must be a number > 0 (0: no limit)")
        else:
            found[str(task_type)] = TaskLimit(in_flight, float(rate))
    return found


_LIMIT_KEYS = {"max_in_flight", "max_per_second"}

_SECTIONS: dict[str, Callable[[Any, list[str]], dict[str, Any]]] = {
    "clients": _clients,
    "workers": _workers,
    "rate_limits": _rate_limits,
    "task_types": lambda value, problems: {"task_types": task_limits(value, problems)},
}
"""The file's structures, each read into flat names."""


def _with_approval_secret(settings: Settings) -> Settings:
    """Unless set, an ``approval_secret`` derived from the tokens: alike on every process
    configured alike."""
    auth = settings.auth
    if auth.approval_secret:
        return settings
    tokens = [c.token for c in auth.clients] + [auth.worker_token or ""]
    material = "|".join(tokens + sorted(auth.worker_tokens.values()))
    derived = hashlib.sha256(f"approval:{material}".encode()).hexdigest()
    return dataclasses.replace(settings, auth=dataclasses.replace(auth, approval_secret=derived))
