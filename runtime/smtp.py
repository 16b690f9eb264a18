"""Sending one message by SMTP (aiosmtplib), to the server CITYCERT_SMTP_URL names.

    smtp://host:25                     plain; STARTTLS when the server offers it
    smtp://user:password@host:587?starttls=required
    smtps://user:password@host:465     TLS from the first byte

A failure says whether trying again may help: a server that did not answer, dropped the
connection or answered 4xx is temporary (the relay retries with backoff); a 5xx answer (no such
mailbox, refused sender, authentication refused) is permanent, and an operator must look at it.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

_SCHEMES = {"smtp": 25, "smtps": 465}


class SmtpUrlError(ValueError):
    """A CITYCERT_SMTP_URL that cannot name a server."""


class MailNotSent(Exception):
    """The server did not take the message; `permanent` when trying again cannot help."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


@dataclass(frozen=True, slots=True)
class SmtpServer:
    host: str
    port: int
    implicit_tls: bool = False
    starttls_required: bool = False
    username: str | None = None
    password: str | None = None

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        parts = urlsplit(url.strip())
        if parts.scheme not in _SCHEMES:
            raise SmtpUrlError(f"{url!r} is not an SMTP URL: it starts with smtp:// or smtps://")
        if not parts.hostname:
            raise SmtpUrlError(f"{url!r} names no host, e.g. smtp://mail.example.org:587")
        try:
            port = parts.port or _SCHEMES[parts.scheme]
        except ValueError:
            raise SmtpUrlError(f"{url!r} has a port that is not a number from 1 to 65535") from None
        starttls = parse_qs(parts.query).get("starttls", [""])[0].lower()
        if starttls not in ("", "required", "true"):
            raise SmtpUrlError(f"{url!r}: starttls may only be 'required'")
        if starttls and parts.scheme == "smtps":
            raise SmtpUrlError(f"{url!r}: smtps:// is TLS already; STARTTLS is for smtp://")
        return cls(
            host=parts.hostname,
            port=port,
            implicit_tls=parts.scheme == "smtps",
            starttls_required=bool(starttls),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )

    def __str__(self) -> str:
        """Where, never the password (for logs and errors)."""
        scheme = "smtps" if self.implicit_tls else "smtp"
        user = f"{self.username}@" if self.username else ""
        return f"{scheme}://{user}{self.host}:{self.port}"

    async def send(self, message: EmailMessage, *, timeout: float = 30) -> None:
        """Hand the message to the server; MailNotSent saying why, and whether for good."""
        try:
            await aiosmtplib.send(
                message,
                hostname=self.host,
                port=self.port,
                username=self.username,
                password=self.password,
                use_tls=self.implicit_tls,
                # None: upgrade if the server offers it; True: refuse to send in the clear.
                start_tls=True if self.starttls_required else (False if self.implicit_tls else None),
                timeout=timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as e:
            codes = [r.code for r in e.recipients]
            detail = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in e.recipients)
            raise MailNotSent(f"{self} refused the recipient: {detail}", permanent=min(codes) >= 500) from e
        except aiosmtplib.SMTPResponseException as e:
            raise MailNotSent(f"{self} answered {e.code} {e.message}", permanent=e.code >= 500) from e
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as e:
            raise MailNotSent(f"{self} could not be reached: {e}", permanent=False) from e
