"""The e-mail sender against an SMTP server that requires STARTTLS and a login (aiosmtpd with
a certificate made for the test): it upgrades, logs in with the settings' credentials, and a
wrong password is a final ``EMAIL_REJECTED``."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from orchestrator.blueprints.workers import mailer
from tests.audit.smtp import Mailbox
from tests.certificates import self_signed
from tests.helpers import free_port
from worker_sdk.testing import run_task

USER, PASSWORD = "mailer", "s3cret"


def _authenticate(
    server: Any, session: Any, envelope: Any, mechanism: str, data: Any
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    # handled=False: aiosmtpd answers the refusal itself (535).
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[Mailbox, int, Path]]:
    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    mailbox, port = Mailbox(), free_port()
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        authenticator=_authenticate,
        auth_required=True,
        auth_require_tls=True,
    )
    controller.start()
    try:
        yield mailbox, port, cert
    finally:
        controller.stop()


def _settings(monkeypatch: pytest.MonkeyPatch, port: int, cert: Path, password: str) -> None:
    for name, value in {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(port),
        "SMTP_STARTTLS": "true",
        "SMTP_CA_FILE": str(cert),
        "SMTP_USERNAME": USER,
        "SMTP_PASSWORD": password,
        "SMTP_BCC": "archive@empresa.com",
    }.items():
        monkeypatch.setenv(name, value)


async def test_starttls_and_login(
    tls_server: tuple[Mailbox, int, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    mailbox, port, cert = tls_server
    _settings(monkeypatch, port, cert, PASSWORD)

    outcome = await run_task(
        mailer.worker, "email.send", {"to": "ana@x.com", "subject": "hola", "text": "t"}
    )

    assert outcome.ok, outcome.error
    assert outcome.data is not None and outcome.data["bcc"] == ["archive@empresa.com"]
    [delivery] = mailbox.deliveries
    assert delivery.rcpt_tos == ["ana@x.com", "archive@empresa.com"]
    assert delivery.message["Subject"] == "hola"


async def test_a_wrong_password_is_final(
    tls_server: tuple[Mailbox, int, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    mailbox, port, cert = tls_server
    _settings(monkeypatch, port, cert, "wrong")

    outcome = await run_task(mailer.worker, "email.send", {"to": "ana@x.com", "text": "t"})

    assert outcome.error is not None
    assert (outcome.error.code, outcome.error.retryable) == ("EMAIL_REJECTED", False)
    assert outcome.error.message.startswith("535")
    assert mailbox.deliveries == []
