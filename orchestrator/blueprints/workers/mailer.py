"""The e-mail sender worker: task ``email.send`` over real SMTP (aiosmtplib).

Params: ``to`` (one address), ``subject``, ``text`` and ``attachments`` (names of the job's
files, fetched from the orchestrator with ``JobFiles``). The sender, the server and the BCC
list come from ``SmtpSettings`` (the environment), so the BCC list is the same on every
message and the result reports the BCC addresses the server accepted.

Errors: a ``5xx`` refusal of the recipient or the message is final (``EMAIL_REJECTED``);
a server away, a timeout or a ``4xx`` answer may pass, so the task is retried
(``SMTP_UNAVAILABLE``) within the blueprint's retry policy. A task may run twice: its
``Message-ID`` comes from the task id, so copies of one message are recognisable.
"""

from __future__ import annotations

import mimetypes
import os
import tempfile
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Any

import aiohttp

from orchestrator.blueprints.workers.smtp_send import deliver
from orchestrator.blueprints.workers.smtp_settings import SmtpSettings
from worker_sdk import JobFiles, RetryLater, TaskContext, TaskError, Worker
from worker_sdk.errors import OrchestratorError

worker = Worker()


def _message(settings: SmtpSettings, params: dict[str, Any], ctx: TaskContext) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = params["to"]
    message["Subject"] = params.get("subject", "")
    message["Date"] = formatdate(usegmt=True)
    domain = settings.sender.rpartition("@")[2] or "localhost"
    message["Message-ID"] = f"<{ctx.task_id}@{domain}>"
    # Bcc is never a header: its addresses are envelope recipients only (smtp_send.py).
    message.set_content(params.get("text", ""))
    return message


async def _attach(message: EmailMessage, names: list[str], ctx: TaskContext) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with JobFiles(worker.settings, ctx.job_id) as files:
            for name in names:
                try:
                    path = await files.download(name, Path(tmp) / name)
                except OrchestratorError as exc:
                    if exc.code == "FILE_NOT_FOUND":
                        missing = f"the job has no file {name}"
                        raise TaskError("ATTACHMENT_NOT_FOUND", missing) from None
                    raise RetryLater(f"{name}: {exc}", code="FILES_UNAVAILABLE") from None
                except aiohttp.ClientError as exc:
                    raise RetryLater(f"{name}: {exc}", code="FILES_UNAVAILABLE") from None
                _add(message, name, path.read_bytes())


def _add(message: EmailMessage, name: str, content: bytes) -> None:
    kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
    maintype, _, subtype = kind.partition("/")
    if maintype == "text":
        # Text goes as text with its charset, so that mail readers show it as written.
        try:
            message.add_attachment(content.decode(), subtype=subtype, filename=name)
            return
        except UnicodeDecodeError:
            maintype, subtype = "application", "octet-stream"
    message.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)


@worker.task("email.send")
async def send_email(params: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
    to = params.get("to")
    if not isinstance(to, str) or "@" not in to:
        raise TaskError("VALIDATION_ERROR", f"to must be an e-mail address (got {to!r})")
    try:
        settings = SmtpSettings.from_env(os.environ)
    except ValueError as exc:
        raise TaskError("SMTP_NOT_CONFIGURED", str(exc)) from None
    message = _message(settings, params, ctx)
    names = params.get("attachments") or []
    if names:
        await _attach(message, names, ctx)
    bcc = await deliver(settings, message, to)
    return {"to": to, "bcc": bcc, "message_id": message["Message-ID"], "attachments": names}
