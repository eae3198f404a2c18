"""The e-mail sender's settings, from the environment (``docs/processes.md``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True)
class SmtpSettings:
    host: str = "127.0.0.1"
    port: int = 25
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    sender: str = "auditorias@localhost"
    bcc: tuple[str, ...] = ()
    timeout_s: float = 30.0
    ca_file: str | None = None
    """CA certificates (PEM) to check the server's with, instead of the system's."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> SmtpSettings:
        """``SMTP_HOST``, ``SMTP_PORT``, ``SMTP_STARTTLS``, ``SMTP_USERNAME``,
        ``SMTP_PASSWORD``, ``SMTP_FROM``, ``SMTP_BCC`` (comma-separated), ``SMTP_TIMEOUT_S``,
        ``SMTP_CA_FILE``.

        Raises ``ValueError`` naming every bad variable at once."""
        problems: list[str] = []

        def number(var: str, default: float, parse: type[int] | type[float]) -> float:
            raw = environ.get(var, "").strip()
            try:
                value = parse(raw) if raw else default
            except ValueError:
                problems.append(f"{var}={raw!r} is not a number")
                return default
            if value <= 0:
                problems.append(f"{var}={raw!r} must be positive")
            return value

        starttls = environ.get("SMTP_STARTTLS", "").strip().lower()
        if starttls not in TRUE | FALSE:
            problems.append(f"SMTP_STARTTLS={starttls!r} must be true or false")
        username = environ.get("SMTP_USERNAME") or None
        password = environ.get("SMTP_PASSWORD") or None
        if (username is None) != (password is None):
            problems.append("SMTP_USERNAME and SMTP_PASSWORD go together")
        settings = cls(
            host=environ.get("SMTP_HOST", cls.host).strip() or cls.host,
            port=int(number("SMTP_PORT", cls.port, int)),
            starttls=starttls in TRUE,
            username=username,
            password=password,
            sender=environ.get("SMTP_FROM", cls.sender).strip() or cls.sender,
            bcc=tuple(a.strip() for a in environ.get("SMTP_BCC", "").split(",") if a.strip()),
            timeout_s=number("SMTP_TIMEOUT_S", cls.timeout_s, float),
            ca_file=environ.get("SMTP_CA_FILE") or None,
        )
        if problems:
            raise ValueError("invalid e-mail settings: " + "; ".join(problems))
        return settings
