"""The seed's routes, ``POST /api/v1/validate-audit`` (JSON and multipart) and
``POST /api/v1/compute-audit-results``: every code of seed 000 with its HTTP status."""

from __future__ import annotations

import json
import re
import uuid
from email.message import EmailMessage
from typing import Any

import aiohttp

from orchestrator.api.openapi.declared import declared_paths
from orchestrator.blueprints.audit import compute_audit_results, validate_audit
from tests.audit import data
from tests.audit.client import Audits
from tests.audit.conftest import AuditEnv

VALIDATE = "/api/v1/validate-audit"
COMPUTE = "/api/v1/compute-audit-results"
NOTES = "Validación realizada por supervisor"


def form(
    fields: dict[str, str], files: dict[str, tuple[str, bytes, str]] | None = None
) -> aiohttp.FormData:
    built = aiohttp.FormData()
    for name, value in fields.items():
        built.add_field(name, value)
    for name, (filename, content, content_type) in (files or {}).items():
        built.add_field(name, content, filename=filename, content_type=content_type)
    return built


async def post_form(api: Audits, fields: dict[str, str], files: Any = None) -> tuple[int, Any]:
    async with api.session.post(
        api.env.url + VALIDATE, data=form(fields, files), headers=api.auth
    ) as r:
        return r.status, await r.json()


async def test_json_answers_the_seeds_body(
    audit_env: AuditEnv, http: aiohttp.ClientSession
) -> None:
    status, body = await Audits(http, audit_env).call(
        "POST", VALIDATE, {"task_uuid": data.CALL, "notes": NOTES, "isCall": True}
    )

    assert status == 200, body
    assert body == {
        "success": True,
        "code": "OK",
        "details": {
            "type": "llamada",
            "task_uuid": data.CALL,
            "sent_to": [data.OPERATOR, *data.SUPERVISORS],
            "bcc": data.BCC,
            "validated_at": body["details"]["validated_at"],
        },
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", body["details"]["validated_at"])


async def test_a_form_with_files_mails_them_as_attachments(
    audit_env: AuditEnv, http: aiohttp.ClientSession
) -> None:
    pdf = b"%PDF-1.4 evidence " + bytes(range(256)) * 40
    status, body = await post_form(
        Audits(http, audit_env),
        {"task_uuid": data.CHAT, "notes": "con adjuntos", "isCall": "false"},
        {
            "evidence": ("evidencia.pdf", pdf, "application/pdf"),
            "transcript": ("chat.txt", "hola, ¿en qué puedo ayudar?".encode(), "text/plain"),
        },
    )

    assert status == 200, body
    assert body["details"]["type"] == "chat"
    assert body["details"]["sent_to"] == [data.OPERATOR, *data.SUPERVISORS]
    for address in [data.OPERATOR, *data.SUPERVISORS]:
        [delivery] = [
            d
            for d in audit_env.smtp.mailbox.to(address)
            if "con adjuntos" in d.message.get_body(("plain",)).get_content()
        ]
        assert delivery.rcpt_tos == [address, *data.BCC]
        attached = {a.get_filename(): a for a in delivery.message.iter_attachments()}
        assert set(attached) == {"evidencia.pdf", "chat.txt"}
        assert attached["evidencia.pdf"].get_content_type() == "application/pdf"
        assert attached["evidencia.pdf"].get_content() == pdf
        # Text travels as text: mail ends its lines with CRLF.
        assert attached["chat.txt"].get_content() == "hola, ¿en qué puedo ayudar?\r\n"


async def test_each_error_code_with_its_status(
    audit_env: AuditEnv, http: aiohttp.ClientSession
) -> None:
    api = Audits(http, audit_env)
    ok = {"task_uuid": data.CALL, "notes": NOTES, "isCall": True}
    cases: list[tuple[dict[str, str], Any, int, str]] = [
        ({}, ok, 401, "MISSING_AUTH_HEADER"),
        ({"Authorization": "Bearer nope"}, ok, 401, "UNAUTHORIZED"),
        (api.auth, {"notes": NOTES}, 400, "MISSING_FIELDS"),
        (api.auth, {**ok, "task_uuid": "25a95214"}, 400, "VALIDATION_ERROR"),
        (api.auth, {**ok, "isCall": "sí"}, 400, "VALIDATION_ERROR"),
        (api.auth, {**ok, "task_uuid": data.ABSENT}, 404, "NOT_FOUND"),
        (api.auth, {**ok, "task_uuid": data.LONELY}, 500, "INTERNAL_ERROR"),
    ]
    for headers, body, want_status, code in cases:
        async with http.post(audit_env.url + VALIDATE, json=body, headers=headers) as r:
            answer = await r.json()
        assert (r.status, answer["success"], answer["code"]) == (want_status, False, code), answer
        assert isinstance(answer["message"], str) and answer["message"]


async def test_a_form_is_checked_like_json(
    audit_env: AuditEnv, http: aiohttp.ClientSession
) -> None:
    api = Audits(http, audit_env)
    missing = await post_form(api, {"task_uuid": data.CALL})
    bad = await post_form(api, {"task_uuid": "x", "notes": "n", "isCall": "true"})

    assert missing == (
        400,
        {
            "success": False,
            "code": "MISSING_FIELDS",
            "message": "missing required fields: notes, isCall",
        },
    )
    assert bad == (
        400,
        {
            "success": False,
            "code": "VALIDATION_ERROR",
            "message": "task_uuid must be a UUID (got 'x')",
        },
    )


async def test_a_send_failure_is_502_email_send_error(
    audit_env: AuditEnv, http: aiohttp.ClientSession
) -> None:
    mailbox = audit_env.smtp.mailbox
    with mailbox.lock:
        mailbox.refuse[data.OPERATOR] = "550 5.1.1 no such user"
    try:
        status, body = await Audits(http, audit_env).call(
            "POST", VALIDATE, {"task_uuid": data.CALL, "notes": NOTES, "isCall": True}
        )
    finally:
        with mailbox.lock:
            mailbox.refuse.clear()

    assert status == 502, body
    assert body["success"] is False and body["code"] == "EMAIL_SEND_ERROR"
    assert body["message"].startswith(
        f"could not send the e-mail to {data.OPERATOR} (EMAIL_REJECTED: 550"
    )


async def test_compute_audit_results_answers_the_score(
    audit_env: AuditEnv, http: aiohttp.ClientSession
) -> None:
    api = Audits(http, audit_env)
    items = [data.item(c["category"], c["question"], True) for c in data.CRITERIA]
    status, body = await api.call(
        "POST",
        COMPUTE,
        {"task_uuid": data.CHAT, "file_name": "chat-0001.json", "isCall": False, "audit": items},
    )
    missing_status, missing = await api.call("POST", COMPUTE, {"task_uuid": data.CHAT})

    assert status == 200, body
    assert body["details"]["score"]["overall"] == 100.0
    assert (body["success"], body["code"], body["details"]["type"]) == (True, "OK", "chat")
    assert (missing_status, missing["code"]) == (400, "MISSING_FIELDS")


async def test_new_answers_with_the_validation_are_stored_and_mailed_scored(
    audit_env: AuditEnv, http: aiohttp.ClientSession
) -> None:
    items = [data.item(c["category"], c["question"], False) for c in data.CRITERIA]
    notes = f"nuevas respuestas {uuid.uuid4()}"
    status, body = await post_form(
        Audits(http, audit_env),
        {
            "task_uuid": data.CALL_TO_RESCORE,
            "notes": notes,
            "isCall": "true",
            "audit": json.dumps(items),  # a form's json field
        },
    )

    assert status == 200, body
    [text] = [
        t for d in audit_env.smtp.mailbox.to(data.OPERATOR) if notes in (t := _text(d.message))
    ]
    assert "Puntaje general: 0.0" in text
    stored = json.loads(audit_env.store_path.read_text())["calls"][data.CALL_TO_RESCORE]
    assert [i["complies"] for i in stored["audit"]] == [False, False, False]
    assert stored["validation"]["notes"] == notes


def _text(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


async def test_the_x_username_header_is_recorded_with_the_change_and_the_validation(
    audit_env: AuditEnv, http: aiohttp.ClientSession
) -> None:
    # seed 000's compute-audit-results call carries ``-H 'x-username: admin'``: who acted
    api = Audits(http, audit_env)
    items = [data.item(c["category"], c["question"], True) for c in data.CRITERIA]
    ask = {"task_uuid": data.CHAT, "file_name": "chat-0001.json", "isCall": False, "audit": items}

    status, computed = await api.call("POST", COMPUTE, ask, headers={"x-username": "admin"})
    vstatus, validated = await api.call(
        "POST",
        VALIDATE,
        {"task_uuid": data.CHAT, "notes": NOTES, "isCall": False},
        headers={"x-username": "sup1"},
    )

    assert status == 200, computed
    assert computed["details"]["updated_by"] == "admin"
    assert vstatus == 200, validated
    # the seed's validate answer keeps its shape; who validated is kept in the store
    assert set(validated["details"]) == {"type", "task_uuid", "sent_to", "bcc", "validated_at"}
    stored = json.loads(audit_env.store_path.read_text())["chats"][data.CHAT]
    assert stored["updated_by"] == "admin"
    assert stored["validation"]["validated_by"] == "sup1"
    assert stored["validation"]["validated_at"] == validated["details"]["validated_at"]


def test_the_openapi_document_lists_the_x_username_header_of_both_audit_routes() -> None:
    paths = declared_paths([compute_audit_results, validate_audit])

    for path in (COMPUTE, VALIDATE):
        params = paths[path]["post"].get("parameters", [])
        assert {"name": "x-username", "in": "header"}.items() <= next(
            p for p in params if p["name"] == "x-username"
        ).items()
