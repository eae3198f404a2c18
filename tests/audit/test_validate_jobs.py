"""``validate_audit`` through the plain job API, with real worker processes: the store, the
SMTP sender (to aiosmtpd) and the notifier."""

from __future__ import annotations

import re
import uuid

import aiohttp

from tests.audit import data
from tests.audit.client import Audits
from tests.audit.conftest import NO_NOTIFIER_WAIT_S, AuditEnv
from tests.audit.smtp import Delivery

START = "audit-validations"
ISO_MS_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def ask(task_uuid: str, is_call: bool = True, **extra: object) -> dict[str, object]:
    return {
        "task_uuid": task_uuid,
        "notes": "Validación realizada por supervisor",
        "isCall": is_call,
        **extra,
    }


async def test_a_validated_call_mails_everyone_and_answers_the_seeds_body(
    audit_env: AuditEnv, http: aiohttp.ClientSession
) -> None:
    api = Audits(http, audit_env)
    notes = f"Validación {uuid.uuid4()}"  # other tests validate this audit too
    job = await api.run(START, ask(data.CALL, notes=notes))

    assert job["status"] == "finished", job
    details = job["result"]["details"]
    assert job["result"] == {
        "success": True,
        "code": "OK",
        "details": {
            "type": "llamada",
            "task_uuid": data.CALL,
            "sent_to": [data.OPERATOR, *data.SUPERVISORS],
            "bcc": data.BCC,
            "validated_at": details["validated_at"],
        },
    }
    assert ISO_MS_Z.fullmatch(details["validated_at"]), details
    mailbox = audit_env.smtp.mailbox
    for address in [data.OPERATOR, *data.SUPERVISORS]:
        [delivery] = [d for d in mailbox.to(address) if notes in _text(d)]
        assert delivery.mail_from == "auditorias@empresa.com"
        assert delivery.rcpt_tos == [address, *data.BCC]  # Bcc: envelope only
        assert delivery.message["Bcc"] is None
        assert delivery.message["Subject"] == f"Auditoría de llamada validada: {data.CALL}"
        body = _text(delivery)
        # The score against the store's criteria: 1 of 4 SKILLS weight, 2 of 2 PROCESS.
        assert "Puntaje general: 50.0" in body and "SKILLS: 25.0" in body
    # The notification's id comes from the notify task's id (one per task, however many runs).
    [task_id] = [
        e["task_id"]
        for e in await api.history(job["job_id"])
        if e["type"] == "task_queued" and e.get("task_type") == "notify"
    ]
    notice_id = uuid.uuid5(uuid.NAMESPACE_URL, f"task:{task_id}").hex
    mine = await api.notifications(user_id=data.OPERATOR_USER)
    [notice] = [n for n in mine if n["id"] == notice_id]
    assert notice["text"] == f"Auditoría de llamada {data.CALL} validada"
    assert notice["variant"] == "success" and notice["user_id"] == data.OPERATOR_USER


def _text(delivery: Delivery) -> str:
    part = delivery.message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


async def test_a_chat_is_typed_chat(audit_env: AuditEnv, http: aiohttp.ClientSession) -> None:
    job = await Audits(http, audit_env).run(START, ask(data.CHAT, is_call=False))

    assert job["status"] == "finished", job
    assert job["result"]["details"]["type"] == "chat"


async def test_missing_fields_are_all_named(
    audit_env: AuditEnv, http: aiohttp.ClientSession
) -> None:
    api = Audits(http, audit_env)
    job = await api.run(START, {"notes": "  "})

    assert job["status"] == "failed"
    assert job["error"]["code"] == "MISSING_FIELDS"
    assert job["error"]["message"] == "missing required fields: task_uuid, notes, isCall"


async def test_a_bad_uuid_or_type_is_a_validation_error_naming_the_field(
    audit_env: AuditEnv, http: aiohttp.ClientSession
) -> None:
    api = Audits(http, audit_env)
    bad_uuid = await api.run(START, ask("not-a-uuid"))
    bad_flag = await api.run(START, ask(data.CALL, is_call="maybe"))  # type: ignore[arg-type]

    assert bad_uuid["error"]["code"] == "VALIDATION_ERROR"
    assert bad_uuid["error"]["message"] == "task_uuid must be a UUID (got 'not-a-uuid')"
    assert bad_flag["error"]["code"] == "VALIDATION_ERROR"
    assert bad_flag["error"]["message"] == "isCall must be a boolean (got 'maybe')"


async def test_an_unknown_audit_is_not_found(
    audit_env: AuditEnv, http: aiohttp.ClientSession
) -> None:
    api = Audits(http, audit_env)
    absent = await api.run(START, ask(data.ABSENT))
    chat_as_call = await api.run(START, ask(data.CHAT, is_call=True))

    assert absent["error"]["code"] == "NOT_FOUND"
    assert absent["error"]["message"] == f"no llamada audit with task_uuid {data.ABSENT}"
    assert chat_as_call["error"]["code"] == "NOT_FOUND"


async def test_a_refused_recipient_fails_the_job_naming_only_that_recipient(
    audit_env: AuditEnv, http: aiohttp.ClientSession
) -> None:
    mailbox = audit_env.smtp.mailbox
    with mailbox.lock:
        mailbox.refuse[data.SUPERVISORS[1]] = "550 5.1.1 mailbox unavailable"
    try:
        job = await Audits(http, audit_env).run(START, ask(data.CHAT, is_call=False))
    finally:
        with mailbox.lock:
            mailbox.refuse.clear()

    assert job["status"] == "failed"
    assert job["error"]["code"] == "EMAIL_SEND_ERROR"
    message = job["error"]["message"]
    assert message.startswith(
        f"could not send the e-mail to {data.SUPERVISORS[1]} (EMAIL_REJECTED: 550"
    )
    assert data.OPERATOR not in message and data.SUPERVISORS[0] not in message


async def test_a_server_that_keeps_deferring_fails_after_the_retries(
    audit_env: AuditEnv, http: aiohttp.ClientSession
) -> None:
    mailbox = audit_env.smtp.mailbox
    with mailbox.lock:
        mailbox.refuse[data.OPERATOR] = "451 4.3.0 try again later"
    try:
        api = Audits(http, audit_env)
        job_id = await api.start(START, ask(data.CALL))
        job = await api.ended(job_id)
    finally:
        with mailbox.lock:
            mailbox.refuse.clear()

    assert job["error"]["code"] == "EMAIL_SEND_ERROR"
    assert f"could not send the e-mail to {data.OPERATOR} (" in job["error"]["message"]
    assert "451" in job["error"]["message"]
    # The operator's branch was tried three times (SEND_RETRIES), the others once.
    leases = [e for e in await api.history(job_id) if e["type"] == "task_leased"]
    assert sorted(e["attempt"] for e in leases) == [1, 1, 1, 1, 2, 3]


async def test_a_missing_attachment_fails_every_recipient_by_name(
    audit_env: AuditEnv, http: aiohttp.ClientSession
) -> None:
    job = await Audits(http, audit_env).run(
        START, ask(data.CALL, files=[{"field": "evidence", "filename": "nope.pdf"}])
    )

    assert job["error"]["code"] == "EMAIL_SEND_ERROR"
    reason = "(ATTACHMENT_NOT_FOUND: the job has no file nope.pdf)"
    assert job["error"]["message"] == "could not send the e-mail to " + "; ".join(
        f"{address} {reason}" for address in [data.OPERATOR, *data.SUPERVISORS]
    )


async def test_without_a_notifier_the_validation_still_ends_validated(
    no_notifier_env: AuditEnv, http: aiohttp.ClientSession
) -> None:
    api = Audits(http, no_notifier_env)
    job_id = await api.start(START, ask(data.CALL))
    job = await api.ended(job_id, timeout=NO_NOTIFIER_WAIT_S + 20)

    assert job["status"] == "finished", job
    assert job["result"]["details"]["sent_to"] == [data.OPERATOR, *data.SUPERVISORS]
    history = await api.history(job_id)
    [timeout] = [e for e in history if e["type"] == "timeout"]
    assert timeout["kind"] == "dispatch"
    assert [e["state"] for e in history if e["type"] == "state_entered"][-2:] == [
        "notify",
        "validated",
    ]


async def test_a_deferred_recipient_is_retried_and_everyone_gets_one_message(
    audit_env: AuditEnv, http: aiohttp.ClientSession
) -> None:
    mailbox = audit_env.smtp.mailbox
    notes = f"reintento {uuid.uuid4()}"
    with mailbox.lock:
        mailbox.defer_once.add(data.SUPERVISORS[0])
    api = Audits(http, audit_env)
    job_id = await api.start(START, ask(data.CALL, notes=notes))
    job = await api.ended(job_id)

    assert job["status"] == "finished", job
    with mailbox.lock:
        mine = [d for d in mailbox.deliveries if notes in _text(d)]
    # The refused first attempt sent nothing, not even the BCC copy: one message each.
    copies = [d for d in mine if d.message["To"] == data.SUPERVISORS[0]]
    assert [d.rcpt_tos for d in copies] == [[data.SUPERVISORS[0], *data.BCC]]
    leases = [e["attempt"] for e in await api.history(job_id) if e["type"] == "task_leased"]
    # load, three sends (one of them twice), mark_validated, notify
    assert sorted(leases) == [1, 1, 1, 1, 1, 1, 2]
