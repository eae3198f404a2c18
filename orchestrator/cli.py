"""The ``orchestrator`` command: serve, jobs, graph, demo."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import orjson

from orchestrator.config_sources import ENV_VARS, load_settings
from orchestrator.errors import BlueprintError, ConfigError, StartupError
from orchestrator.intake.specs import load_blueprints

T = TypeVar("T")

DESCRIPTION = """\
Blueprint orchestrator: runs jobs through state-machine blueprints, hands tasks to workers.

  orchestrator serve --dev --blueprints orchestrator.examples.greeting  # embedded store, dev tokens
  orchestrator serve --redis-url redis://localhost:6379/0 --config orchestrator.yaml
  orchestrator jobs start v1/greeting --data '{"name": "Ada"}' --wait
  orchestrator graph greeting --blueprints orchestrator.examples.greeting
  orchestrator graph greeting --blueprints orchestrator/examples/greeting.yaml  # YAML blueprint
  orchestrator demo                                     # the whole thing, end to end
"""


def _serve_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    env_list = ", ".join(sorted(ENV_VARS))
    p = sub.add_parser(
        "serve",
        help="run the orchestrator HTTP server",
        description="Run the orchestrator. Without --redis-url it runs on the embedded "
        "in-process store, which keeps nothing when it stops.",
        epilog=f"Every setting can also come from the environment: {env_list}, "
        "or from a YAML file (--config / ORCH_CONFIG), which is where client and worker "
        "tokens live. Flags win over the environment, which wins over the file.",
    )
    p.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port to listen on (default 8080)")
    p.add_argument("--redis-url", help="redis://host:port/db; omit for the embedded store")
    p.add_argument("--config", type=Path, help="YAML config file (tokens, limits, ...)")
    p.add_argument(
        "--blueprints",
        action="append",
        help="module (or module:attr) holding blueprints, or a YAML blueprint file or "
        "directory; repeat or comma-separate",
    )
    p.add_argument("--prefix", dest="key_prefix", help="Redis key prefix (default orch)")
    p.add_argument(
        "--dev",
        action="store_true",
        default=None,
        dest="dev_mode",
        help="development mode: tokens dev-client-token / dev-worker-token unless configured",
    )
    p.add_argument("--log-level", help="DEBUG, INFO, WARNING, ERROR (default INFO)")
    p.add_argument(
        "--log-format", choices=["text", "json"], help="json: one object a line (default text)"
    )


def _client_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--url",
        default=os.environ.get("ORCH_URL", "http://127.0.0.1:8080"),
        help="orchestrator base URL (env ORCH_URL)",
    )
    p.add_argument(
        "--token",
        default=os.environ.get("ORCH_CLIENT_TOKEN", "dev-client-token"),
        help="client token (env ORCH_CLIENT_TOKEN; default the --dev token)",
    )


JOBS_DESCRIPTION = """\
A client of the HTTP API, with the client token of --token (or ORCH_CLIENT_TOKEN; by default
the --dev server's) at --url (or ORCH_URL; by default http://127.0.0.1:8080).

  orchestrator jobs start v1/greeting --data '{"name": "Ada"}' --wait
  orchestrator jobs get <job id>
  orchestrator jobs watch <job id>

The job's status is printed as JSON on stdout; status changes, with what a stalled job waits
for, on stderr. Exit codes: 0 the job finished (start without --wait: it was accepted; get:
it has ended, however it ended), 1 it ended otherwise, it is still going (get) or the
orchestrator refused the request, 2 bad usage.
"""


def _jobs_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "jobs",
        help="start, inspect and watch jobs over the HTTP API",
        description=JOBS_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    jobs = p.add_subparsers(dest="jobs_command", required=True, metavar="{start,get,watch}")
    start = jobs.add_parser(
        "start",
        help="start a job: jobs start v1/ENDPOINT --data JSON",
        description=JOBS_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    start.add_argument("route", help="API version and blueprint endpoint, e.g. v1/greeting")
    start.add_argument("--data", default="{}", help="initial_data as JSON (default {})")
    start.add_argument("--wait", action="store_true", help="wait for the job to end, print it")
    _client_args(start)
    get = jobs.add_parser("get", help="print a job's status")
    get.add_argument("job_id", help="the job's id (jobs start prints it)")
    _client_args(get)
    watch = jobs.add_parser("watch", help="print a job's status changes until it ends")
    watch.add_argument("job_id", help="the job's id (jobs start prints it)")
    _client_args(watch)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="orchestrator",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _serve_parser(sub)
    _jobs_parser(sub)
    graph = sub.add_parser("graph", help="print a blueprint's graph as DOT")
    graph.add_argument("blueprint", help="blueprint name")
    graph.add_argument(
        "--blueprints",
        action="append",
        required=True,
        help="module, module:attr, YAML file or directory holding the blueprint",
    )
    demo = sub.add_parser(
        "demo",
        help="run seed 001's alert process: orchestrator, investigation worker, one alert",
        description="Starts an orchestrator on the embedded store and a free port serving the "
        "alert process (seed 001), starts the example investigation worker as a separate "
        "process, raises an alert, acknowledges it, and prints it RESOLVED with the "
        "investigation's findings. Nothing to set up first.",
    )
    demo.add_argument("--title", default="Unusual transfer volume", help="the sample alert's title")
    return root


NO_BLUEPRINT = (
    "serving no blueprint, so no job can start: give one with --blueprints my_flow "
    "(my_flow.py in this directory; pkg.module, module:attr or a YAML file also work), "
    "or ORCH_BLUEPRINTS"
)


def _import_from_cwd() -> None:
    """Put the current directory on ``sys.path``, as ``python -m`` and ``worker run`` do: the
    ``orchestrator`` console script does not, and ``--blueprints my_flow`` names my_flow.py
    here."""
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())


def _split(values: list[str] | None) -> tuple[str, ...] | None:
    if not values:
        return None
    return tuple(p.strip() for v in values for p in v.split(",") if p.strip())


def _run_serve(args: argparse.Namespace) -> int:
    from orchestrator.logs import configure_logging
    from orchestrator.server import build_app, serve

    settings = load_settings(
        os.environ,
        args.config,
        host=args.host,
        port=args.port,
        redis_url=args.redis_url,
        blueprints=_split(args.blueprints),
        key_prefix=args.key_prefix,
        dev_mode=args.dev_mode,
        log_level=args.log_level.upper() if args.log_level else None,
        log_format=args.log_format,
    )
    configure_logging(settings)
    if not settings.blueprints:
        logging.getLogger("orchestrator").warning(NO_BLUEPRINT)
    app = build_app(settings)
    run(serve(app, settings.http.host, settings.http.port, settings.http.shutdown_timeout_s))
    return 0


def run(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run``, on uvloop when it is installed (the ``fast`` extra): it serves HTTP
    with markedly less CPU per request."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


def _run_graph(args: argparse.Namespace) -> int:
    specs = _split(args.blueprints) or ()
    if not specs:
        print("error: --blueprints names nothing: give a module or a YAML file", file=sys.stderr)
        return 2
    found = load_blueprints(specs)
    for bp in found:
        if bp.name == args.blueprint:
            bp.validate()
            print(bp.to_dot(), flush=True)  # a closed pipe fails here, inside main's try
            return 0
    names = ", ".join(sorted(bp.name for bp in found))
    where = ", ".join(specs)
    print(
        f"error: no blueprint {args.blueprint!r} in {where} (blueprints found: {names})",
        file=sys.stderr,
    )
    return 2


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command in ("serve", "graph"):
        _import_from_cwd()
    try:
        if args.command == "serve":
            return _run_serve(args)
        if args.command == "graph":
            return _run_graph(args)
        if args.command == "jobs":
            from orchestrator.client_cli import run_jobs_command

            return asyncio.run(run_jobs_command(args))
        if args.command == "demo":
            from orchestrator.demo import run_demo

            return asyncio.run(run_demo(args.title))
    except (ConfigError, BlueprintError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except StartupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader left (`orchestrator graph ... | head`): stop quietly. Point stdout at
        # devnull first, or the interpreter's last flush at exit fails on the pipe again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        return 130
    return 2


def dumps(value: object) -> str:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
