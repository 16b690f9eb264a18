"""Sending by SMTP to real aiosmtpd servers on 127.0.0.1: one that keeps what it receives (the dev
box's sink), one that refuses a mailbox for good, one that says "try later", and none at all."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from runtime.mail_sink import MailFolder, running_sink
from runtime.smtp import MailNotSent, SmtpServer


def message(to: str = "ana@example.org") -> EmailMessage:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = "citycert <noreply@example.org>", to, "Lakeside: hello"
    mail["Message-ID"] = "<n1.per_1@citycert>"
    mail.set_content("Dear Ana,\n")
    return mail


class _Refusing:
    def __init__(self, answer: str) -> None:
        self.answer = answer

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        return self.answer


@contextlib.asynccontextmanager
async def refusing(answer: str) -> AsyncIterator[int]:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(_Refusing(answer)), "127.0.0.1", 0)  # type: ignore[arg-type]
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


async def test_a_message_sent_to_the_sink_is_kept_whole(tmp_path: Path) -> None:
    folder = MailFolder(tmp_path / "mail")
    async with running_sink(folder) as port:
        await SmtpServer("127.0.0.1", port).send(message())
    [kept] = folder.messages()
    assert kept.message_id == "<n1.per_1@citycert>"
    assert kept.message["Subject"] == "Lakeside: hello" and kept.message["To"] == "ana@example.org"
    assert kept.path.stat().st_mode & 0o777 == 0o600


async def test_a_mailbox_refused_for_good_is_a_permanent_failure() -> None:
    async with refusing("550 5.1.1 no such mailbox") as port:
        with pytest.raises(MailNotSent, match=r"550 5\.1\.1 no such mailbox") as failed:
            await SmtpServer("127.0.0.1", port).send(message("nobody@example.org"))
    assert failed.value.permanent


async def test_try_later_is_a_temporary_failure() -> None:
    async with refusing("451 4.3.0 try again later") as port:
        with pytest.raises(MailNotSent, match="451") as failed:
            await SmtpServer("127.0.0.1", port).send(message())
    assert not failed.value.permanent


async def test_a_server_that_is_down_is_a_temporary_failure() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # free once closed: nothing listens there
    with pytest.raises(MailNotSent, match="could not be reached") as failed:
        await SmtpServer("127.0.0.1", port).send(message(), timeout=5)
    assert not failed.value.permanent
