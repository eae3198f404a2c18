"""A real SMTP server for the tests (aiosmtpd, in a thread of the test process) that keeps
every message it accepts and refuses the addresses a test tells it to."""

from __future__ import annotations

import email
import email.policy
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.helpers import free_port


@dataclass(frozen=True)
class Delivery:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class Mailbox:
    """aiosmtpd's handler: ``refuse`` (address → SMTP answer) is read at each RCPT."""

    refuse: dict[str, str] = field(default_factory=dict)
    defer_once: set[str] = field(default_factory=set)
    """Addresses answered ``451`` at their next RCPT only."""
    deliveries: list[Delivery] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(  # aiosmtpd calls its hooks by these names
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        with self.lock:
            answer = self.refuse.get(address)
            if address in self.defer_once:
                self.defer_once.discard(address)
                answer = "451 4.3.0 try again later"
        if answer:
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # aiosmtpd calls its hooks by these names
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        raw = envelope.original_content or b""
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        with self.lock:
            self.deliveries.append(
                Delivery(str(envelope.mail_from), list(envelope.rcpt_tos), parsed)
            )
        return "250 Message accepted"

    def to(self, address: str) -> list[Delivery]:
        """The messages whose To header is ``address``."""
        with self.lock:
            return [d for d in self.deliveries if d.message["To"] == address]


class SmtpServer:
    def __init__(self) -> None:
        self.mailbox = Mailbox()
        self.port = free_port()
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()
