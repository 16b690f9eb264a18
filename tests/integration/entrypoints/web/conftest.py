"""The portal over a real PostgreSQL, the time-skipping Temporal server with a real worker, and a
real SMTP server (aiosmtpd) that keeps what it receives: a visitor is an httpx client on the ASGI
app, with its own cookies, and the mail relay is run when a test wants the mail delivered."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.people import add_person
from app.relay import MailRelay
from domain.people import new_person
from entrypoints.http import create_app
from eventstore import EventStore
from runtime.mail_sink import KeptMail, MailFolder, running_sink
from runtime.smtp import SmtpServer
from tests.integration.entrypoints.http.conftest import Api, api_settings
from tests.integration.workflows.harness import running_worker
from tests.temporal_env import time_skipping_environment

SIGN_IN_KEY = "portal-tests-sign-in-key-of-32-characters-or-more"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
LINK = re.compile(r"(https?://\S+/sign-in/link\?token=[A-Za-z0-9_-]+)")


def csrf_of(page: str) -> str:
    found = CSRF.search(page)
    assert found, "the page has a form with a CSRF token"
    return found[1]


@dataclass
class Portal:
    api: Api  # the JSON API on the same app: registering cities, walking them through a cycle
    app: Any
    mail: MailFolder
    smtp_port: int

    def visitor(self, *, base_url: str = "http://citycert.test", **headers: str) -> httpx.AsyncClient:
        """A browser of its own (its own cookies), following no redirects unless asked."""
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url=base_url, headers=headers
        )

    async def person(self, name: str, email: str, language: str, role: str = "city", **more: str) -> str:
        added = await add_person(
            self.api.store,
            new_person({"name": name, "email": email, "language": language, "role": role, **more}),
        )
        return added.id

    async def deliver(self) -> list[KeptMail]:
        """Run the relay once, as the worker does every few seconds; every mail kept so far."""
        relay = MailRelay(
            self.api.store,
            SmtpServer("127.0.0.1", self.smtp_port),
            mail_from="citycert <noreply@example.org>",
            sign_in_key=SIGN_IN_KEY.encode(),
        )
        await relay.run_once()
        return self.mail.messages()

    async def mailed_link(self, to: str) -> str:
        """The sign-in link of the latest mail to `to`, delivering what is queued first."""
        mails = [m for m in await self.deliver() if m.header("To") == to]
        assert mails, f"a mail reached {to}"
        body = mails[-1].message.get_body(("plain",))
        assert body is not None
        found = LINK.search(body.get_content())
        assert found, "the mail holds a sign-in link"
        return found[1]


async def sign_in(portal: Portal, visitor: httpx.AsyncClient, email: str) -> httpx.Response:
    """Ask for a link as a person does, open it, continue: the answer to the last step."""
    form = await visitor.get("/")
    asked = await visitor.post("/sign-in", data={"email": email, "csrf_token": csrf_of(form.text)})
    assert asked.status_code == 200, asked.text
    link = httpx.URL(await portal.mailed_link(email))
    landing = await visitor.get(f"{link.path}?{link.query.decode()}")
    token = re.search(r'name="token" value="([^"]+)"', landing.text)
    assert token
    return await visitor.post("/sign-in/link", data={"token": token[1], "csrf_token": csrf_of(landing.text)})


@pytest.fixture
async def portal(store: EventStore, tmp_path: Path) -> AsyncIterator[Portal]:
    async with time_skipping_environment() as env, running_worker(env, store) as queue:
        folder = MailFolder(tmp_path / "mail")
        async with running_sink(folder) as port:
            config = api_settings(
                temporal_task_queue=queue,
                documents_dir=tmp_path / "documents",
                sign_in_key=SIGN_IN_KEY,
                sign_in_per_address=3,
                sign_in_per_client=6,
            )
            app = create_app(config, client=env.client, store=store)
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://citycert.test"
            ) as http:
                yield Portal(Api(http=http, store=store, env=env, settings=config), app, folder, port)
