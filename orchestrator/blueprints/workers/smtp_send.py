"""Delivering one message over SMTP: its recipient first, then the BCC list.

The conversation is spelled out (rather than ``aiosmtplib.send``) for one rule: when the
server refuses the recipient, nobody gets the message, so the retry that follows does not
hand the BCC list a second copy. A BCC address the server refuses is logged and left out.
"""

from __future__ import annotations

import email.policy
import logging
from email.message import EmailMessage

import aiosmtplib

from orchestrator.blueprints.workers.smtp_settings import SmtpSettings
from worker_sdk import RetryLater, TaskError

log = logging.getLogger(__name__)


def refused(code: int, message: str) -> TaskError:
    """A ``5xx`` answer is final (``EMAIL_REJECTED``); any other may pass: retry."""
    if code >= 500:
        return TaskError("EMAIL_REJECTED", f"{code} {message}")
    return RetryLater(f"{code} {message}", code="SMTP_UNAVAILABLE")


async def deliver(settings: SmtpSettings, message: EmailMessage, to: str) -> list[str]:
    """Send ``message`` to ``to`` and the BCC list; the BCC addresses the server accepted."""
    client = aiosmtplib.SMTP(
        hostname=settings.host,
        port=settings.port,
        start_tls=settings.starttls,
        username=settings.username,
        password=settings.password,
        timeout=settings.timeout_s,
        cert_bundle=settings.ca_file,
    )
    try:
        async with client:  # connects, upgrades with STARTTLS and logs in as configured
            await client.mail(settings.sender)
            await client.rcpt(to)
            bcc = [address for address in settings.bcc if await _accepts(client, address)]
            await client.data(message.as_bytes(policy=email.policy.SMTP))
    except aiosmtplib.SMTPRecipientRefused as exc:
        raise refused(exc.code, f"{exc.recipient}: {exc.message}") from None
    except aiosmtplib.SMTPResponseException as exc:
        raise refused(exc.code, exc.message) from None
    except (aiosmtplib.SMTPException, OSError) as exc:
        where = f"{settings.host}:{settings.port}"
        raise RetryLater(f"{where}: {exc}", code="SMTP_UNAVAILABLE") from None
    return bcc


async def _accepts(client: aiosmtplib.SMTP, address: str) -> bool:
    try:
        await client.rcpt(address)
    except aiosmtplib.SMTPRecipientRefused as exc:
        log.warning("BCC address %s refused: %s %s", address, exc.code, exc.message)
        return False
    return True
