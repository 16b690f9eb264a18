"""A local SMTP server that keeps every message it receives, for the dev box and the tests.

With no CITYCERT_SMTP_URL, `citycert dev` starts one (aiosmtpd) on 127.0.0.1 and points the relay
at it, so a newcomer sees the mails the demo produces: `citycert mail list|show` reads the folder it
keeps them in (`<data dir>/mail`, one `.eml` file per message, 0600). It delivers nothing onwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, cast

from aiosmtpd.smtp import SMTP, Envelope, Session

from runtime.settings import Settings


def sink_folder(settings: Settings) -> Path:
    """Where the dev box's sink keeps the mails it receives."""
    return settings.data_dir / "mail"


@dataclass(frozen=True, slots=True)
class KeptMail:
    path: Path
    message: EmailMessage

    @property
    def message_id(self) -> str:
        return self.header("Message-ID")

    def header(self, name: str) -> str:
        """A header's value on one line (a long one, such as a Message-ID, arrives folded)."""
        return " ".join(str(self.message.get(name, "")).split())


class MailFolder:
    """The messages a sink received, oldest first; each in a file of its own, written whole."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def keep(self, content: bytes) -> Path:
        self.path.mkdir(parents=True, exist_ok=True, mode=0o700)
        name = f"{time.time_ns():020d}-{hashlib.sha256(content).hexdigest()[:12]}.eml"
        partial = self.path / f".{name}.partial"
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(content)
        return partial.replace(self.path / name)  # a reader never sees half a message

    def messages(self) -> list[KeptMail]:
        if not self.path.is_dir():
            return []
        return [
            KeptMail(path, message_from_bytes(path.read_bytes(), policy=policy.default))
            for path in sorted(self.path.glob("*.eml"))
        ]


class _Keeper:
    def __init__(self, folder: MailFolder) -> None:
        self.folder = folder

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        await asyncio.to_thread(self.folder.keep, content)
        return "250 Message kept"


@contextlib.asynccontextmanager
async def running_sink(folder: MailFolder, *, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[int]:
    """An SMTP server on this event loop keeping what it receives in `folder`; yields its port."""
    keeper = _Keeper(folder)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: cast(Any, SMTP(keeper, hostname="citycert-sink")), host, port)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()
