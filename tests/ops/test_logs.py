"""Logging: JSON or text lines, the level respected, request ids, secrets redacted."""

from __future__ import annotations

import logging

import orjson

from orchestrator.api.access import AccessLogger
from orchestrator.logs import Redact
from tests.api.conftest import CLIENT_TOKEN, W1_TOKEN, WORKER_TOKEN, client_headers
from tests.helpers import wait_for
from tests.ops.conftest import LogStream, ServeLogged

SECRETS = (CLIENT_TOKEN, WORKER_TOKEN, W1_TOKEN)
log = logging.getLogger("orchestrator.test")


def records(stream: LogStream) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in stream.text.splitlines()]


async def test_json_access_lines_carry_the_request_id_and_never_a_token(
    serve_logged: ServeLogged, log_stream: LogStream
) -> None:
    settings = log_stream.configure(log_format="json")
    client = await serve_logged(settings)
    headers = {**client_headers(), "X-Request-Id": "req-42"}

    resp = await client.get("/api/v1/jobs?limit=5", headers=headers)
    assert resp.status == 200
    await wait_for(lambda: '"req-42"' in log_stream.text, what="the access line")

    access = [r for r in records(log_stream) if r["request_id"] == "req-42"]
    assert len(access) == 1
    line = access[0]
    assert line["logger"] == "orchestrator.access"
    assert line["level"] == "INFO"
    assert {k: line[k] for k in ("method", "path", "status", "client")} == {
        "method": "GET",
        "path": "/api/v1/jobs",
        "status": 200,
        "client": "alice",
    }
    assert isinstance(line["duration_ms"], float)
    assert str(line["time"]).endswith("+00:00")
    assert not any(secret in log_stream.text for secret in SECRETS)


async def test_records_logged_while_serving_carry_its_request_id(
    serve_logged: ServeLogged, log_stream: LogStream
) -> None:
    settings = log_stream.configure(log_format="json", dev_mode=True)
    client = await serve_logged(settings)

    resp = await client.post("/_public/debug/flush_db", headers={"X-Request-Id": "flush-1"})
    assert resp.status == 200
    await wait_for(lambda: "orchestrator.access" in log_stream.text, what="the access line")

    by_logger = {r["logger"]: r for r in records(log_stream) if r["request_id"] == "flush-1"}
    assert "deleted" in str(by_logger["orchestrator.api"]["message"])  # logged by the handler
    assert by_logger["orchestrator.access"]["client"] == "-"


async def test_an_unusable_request_id_is_replaced(
    serve_logged: ServeLogged, log_stream: LogStream
) -> None:
    client = await serve_logged(log_stream.configure())

    resp = await client.get("/_public/status", headers={"X-Request-Id": "x" * 65})

    assert resp.status == 200
    assert len(resp.headers["X-Request-Id"]) == 16


def test_configured_tokens_are_redacted_wherever_they_appear(log_stream: LogStream) -> None:
    log_stream.configure(log_format="json")

    log.warning("client sent %s", CLIENT_TOKEN)
    log.warning("headers: {'X-Worker-Token': 'not-configured-but-a-token'}")
    log.warning("worker", extra={"token_field": f"Bearer {W1_TOKEN}"})
    try:
        raise ValueError(f"bad token {WORKER_TOKEN}")
    except ValueError:
        log.exception("failed")

    lines = records(log_stream)
    assert lines[0]["message"] == "client sent ***"
    assert "not-configured-but-a-token" not in str(lines[1]["message"])
    assert lines[2]["token_field"] == "Bearer ***"
    assert "bad token ***" in str(lines[3]["exc_info"])
    assert not any(secret in log_stream.text for secret in SECRETS)


def test_the_level_is_respected(log_stream: LogStream) -> None:
    log_stream.configure(log_level="WARNING")

    log.info("quiet")
    log.warning("loud")

    assert "quiet" not in log_stream.text
    assert "loud" in log_stream.text
    assert not AccessLogger(logging.getLogger(), "").enabled  # no access lines at WARNING


def test_text_lines_name_the_request_id(log_stream: LogStream) -> None:
    log_stream.configure(log_format="text")

    log.warning("outside any request")

    assert "WARNING orchestrator.test [-] outside any request" in log_stream.text


def test_a_bad_format_string_does_not_break_the_caller() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%d", ("nan",), None)

    assert Redact([CLIENT_TOKEN]).filter(record)
