"""Microseconds to decode and check each worker and client body, as the server does it.

    PYTHONPATH=. python bench/wire_decode.py [--rounds 20000]

For each body (a new job, a task result, a heartbeat, a worker registration) it times the
server's validator on the JSON bytes (``orjson.loads`` then ``orchestrator.api.schemas``).
For the task result it also times the bare libraries on the same bytes: msgspec decoding
straight into ``worker_sdk.protocol.TaskResult``, and pydantic v2's ``model_validate_json``
into a model of the same fields (when pydantic is installed: it is no dependency of ours),
and prints what each makes of a bad body, the other half of the choice.

Measured on the shared 2-core sandbox, µs per task result with ``orjson.loads``: the hand
checks 1.35, the Struct checks that replaced them 1.25 (the parse is most of it); msgspec
alone on the bytes 0.37, pydantic alone 1.5, and pydantic takes ``"2"`` as the attempt 2 (lax
by default) where we answer 400, while msgspec names the path (``$.attempt``) we map to our
field. Hence msgspec.
"""

from __future__ import annotations

import argparse
import timeit
from collections.abc import Callable
from typing import Any

import msgspec
import orjson

from orchestrator.api import schemas
from orchestrator.config import Settings
from worker_sdk.protocol import TaskResult

RESULT = {
    "job_id": "0f9c2f3a-job",
    "task_id": "0f9c2f3a-job:greet:1",
    "worker_id": "worker-7",
    "status": "success",
    "attempt": 1,
    "data": {"greeting": "hello, Ada", "took_ms": 12.5, "tags": ["a", "b"]},
    "error": None,
}
BODIES: dict[str, tuple[dict[str, Any], Callable[[object], object]]] = {
    "new job": (
        {"initial_data": {"name": "Ada", "n": 3}, "dispatch_timeout": 30, "result_timeout": 300},
        lambda body: schemas.new_job(body, Settings()),
    ),
    "task result": (RESULT, schemas.task_result),
    "heartbeat": (
        {"load": 2, "capacity": 4, "running_tasks": ["j1:greet:1", "j2:greet:1"]},
        schemas.heartbeat,
    ),
    "registration": (
        {
            "worker_id": "worker-7",
            "supported_skills": ["greet", "resize", "ocr"],
            "capacity": 4,
            "tags": ["gpu"],
            "labels": {"region": "eu"},
            "version": "1.4.0",
        },
        schemas.registration,
    ),
}


def per_body_us(fn: Callable[[], object], rounds: int) -> float:
    best = min(timeit.repeat(fn, number=rounds, repeat=5))
    return best / rounds * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20000)
    rounds = parser.parse_args().rounds
    print(f"{'body':<34} µs per body")
    for name, (body, check) in BODIES.items():
        raw = orjson.dumps(body)
        us = per_body_us(lambda raw=raw, check=check: check(orjson.loads(raw)), rounds)
        print(f"{name + ' (server validator)':<34} {us:6.2f}")
    raw = orjson.dumps(RESULT)
    decoder = msgspec.json.Decoder(TaskResult)
    us = per_body_us(lambda: decoder.decode(raw), rounds)
    print(f"{'task result (msgspec only)':<34} {us:6.2f}")
    try:
        import pydantic
    except ImportError:
        print("pydantic is not installed: no pydantic figure")
        return
    model = pydantic.create_model(
        "Result",
        job_id=(str, ...),
        task_id=(str, ...),
        worker_id=(str, ...),
        status=(str, ...),
        attempt=(int | float | None, None),
        data=(dict[str, Any] | None, None),
        error=(dict[str, Any] | None, None),
    )
    us = per_body_us(lambda: model.model_validate_json(raw), rounds)
    print(f"{'task result (pydantic only)':<34} {us:6.2f}")
    bad = orjson.dumps({**RESULT, "attempt": "2"})
    try:
        decoder.decode(bad)
    except msgspec.ValidationError as exc:
        print(f"msgspec error:  {exc}")
    try:
        # Lax by default: the string "2" passes as the attempt 2, which we refuse.
        print(f"pydantic took it: attempt={model.model_validate_json(bad).attempt!r}")
    except pydantic.ValidationError as exc:
        print(f"pydantic error: {' '.join(str(exc).split())}")


if __name__ == "__main__":
    main()
