"""Command line: ``worker run module:attr`` runs a ``Worker`` defined in a module.

This is the only place that reads the environment.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import os
import sys
from collections.abc import Coroutine, Sequence
from dataclasses import replace
from typing import Any

from .config import ENV_VARS, WorkerSettings
from .errors import ApiError, AuthError
from .loading import import_failure, missing_module_hint
from .worker import Worker

__all__ = ["main"]

logger = logging.getLogger("worker_sdk")

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")

_ENV_HELP = {
    "url": "orchestrator base URL (default http://127.0.0.1:8080)",
    "token": "worker token sent as X-Worker-Token",
    "worker_id": "unique worker id (default <hostname>-<pid>)",
    "capacity": "tasks run at once (default 4)",
    "poll_timeout_s": "longest wait of one long-poll, in seconds (default 30)",
    "tags": "comma-separated tags; a task whose requires lists tags needs all of them",
    "labels": "comma-separated key=value labels; each other key of a task's requires must match",
    "shutdown_grace_s": "seconds running tasks get to finish when draining (default 30)",
}

DESCRIPTION = """\
Run a worker_sdk Worker: register with the orchestrator, long-poll for tasks, run them with
the handlers registered on the worker, and send back their results.

  worker run orchestrator.examples.echo_worker:worker --url http://localhost:8080

The target is `module:attribute`, where the attribute is a worker_sdk.Worker. The module is
imported with the current directory on sys.path. Settings come from the worker object, then
the environment, then the flags (each overriding the previous).

Draining: SIGTERM or SIGINT, or an operator's POST /api/v1/workers/<id>/drain on the
orchestrator, stops the worker gracefully. It takes no new tasks and shows as draining on the
orchestrator; running tasks get WORKER_SHUTDOWN_GRACE_S seconds to finish and report; tasks
still running then are cancelled and handed back, so another worker takes them at once (same
attempt); then the worker deregisters and exits 0. A second signal cuts the grace short.
"""


class CliError(Exception):
    """A mistake on the command line, reported as one line with exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    """The ``worker`` argument parser."""
    env_lines = "\n".join(f"  {ENV_VARS[name]:<24} {text}" for name, text in _ENV_HELP.items())
    epilog = (
        f"environment variables:\n{env_lines}\n  {'WORKER_LOG_LEVEL':<24} default --log-level\n\n"
        "exit codes: 0 stopped, 1 refused by the orchestrator (e.g. bad token),\n"
        "            2 bad usage or settings"
    )
    parser = argparse.ArgumentParser(
        prog="worker",
        description=DESCRIPTION,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser(
        "run",
        help="run a worker until SIGTERM/SIGINT",
        description=DESCRIPTION,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("target", metavar="module:attr", help="where the Worker object lives")
    run.add_argument("--url", help="orchestrator base URL (ORCH_URL)")
    run.add_argument(
        "--token",
        help="worker token (ORCH_WORKER_TOKEN; prefer the variable: flags show up in `ps`)",
    )
    run.add_argument("--worker-id", help="unique worker id (WORKER_ID)")
    run.add_argument("--capacity", type=_positive_int, help="tasks run at once (WORKER_CAPACITY)")
    run.add_argument(
        "--log-level",
        type=str.upper,
        choices=LOG_LEVELS,
        default=None,
        help="logging level (WORKER_LOG_LEVEL, default INFO)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``worker`` and ``python -m worker_sdk``; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    level = args.log_level or os.environ.get("WORKER_LOG_LEVEL", "INFO").upper()
    if level not in LOG_LEVELS:
        return _usage_error(f"WORKER_LOG_LEVEL={level!r}: expected one of {', '.join(LOG_LEVELS)}")
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        worker = load_worker(args.target)
        worker.settings = _settings(worker.settings, args)
    except CliError as exc:
        return _usage_error(str(exc))
    except Exception:
        logger.exception("cannot load %s", args.target)
        return 2
    if not worker.settings.token:
        logger.warning("no worker token set (ORCH_WORKER_TOKEN or --token)")
    try:
        _run(worker.run(handle_signals=True))
    except AuthError:
        return 1  # already logged with the orchestrator's message
    except ApiError as exc:
        logger.error("the orchestrator refused this worker: %s", exc)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


def load_worker(target: str) -> Worker:
    """Import ``module:attr`` and return the ``Worker`` it names.

    Raises:
        CliError: The target is malformed, the module or attribute does not exist, or the
            attribute is not a ``Worker``.
    """
    module_name, sep, attr = target.partition(":")
    if not sep or not module_name or not attr:
        raise CliError(
            f"expected module:attr (e.g. orchestrator.examples.echo_worker:worker), got {target!r}"
        )
    # The `worker` console script does not put the current directory on sys.path.
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if module_name == missing or module_name.startswith(missing + "."):
            hint = missing_module_hint(module_name, attr)
            raise CliError(f"cannot import module {module_name!r}: {exc}{hint}") from None
        raise CliError(f"cannot import module {module_name!r}: {import_failure(exc)}") from None
    except Exception as exc:
        # A mistake in the module itself: its line, not importlib's frames.
        raise CliError(f"cannot import module {module_name!r}: {import_failure(exc)}") from None
    obj: Any = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise CliError(f"module {module_name!r} has no attribute {attr!r}") from None
    if not isinstance(obj, Worker):
        raise CliError(f"{target} is a {type(obj).__name__}, not a worker_sdk.Worker")
    if not obj.task_types:
        raise CliError(f"{target} has no task handler (decorate one with @worker.task(...))")
    return obj


def _settings(base: WorkerSettings, args: argparse.Namespace) -> WorkerSettings:
    flags = {
        "url": args.url,
        "token": args.token,
        "worker_id": args.worker_id,
        "capacity": args.capacity,
    }
    try:
        settings = WorkerSettings.from_env(os.environ, defaults=base)
        return replace(settings, **{k: v for k, v in flags.items() if v is not None})
    except ValueError as exc:
        raise CliError(str(exc)) from None


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1: {value}")
    return value


def _usage_error(message: str) -> int:
    print(f"worker: error: {message}", file=sys.stderr)
    return 2


def _run(main: Coroutine[Any, Any, None]) -> None:
    """``asyncio.run``, on uvloop when installed (the ``fast`` extra): less CPU per task."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
        return
    uvloop.run(main)
