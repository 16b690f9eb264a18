"""The portal in a real browser: Debian's Chromium (CITYCERT_BROWSER, `chromium` on PATH by default)
driven by Playwright for Python, against the real app served by uvicorn on 127.0.0.1, over a real
PostgreSQL, the time-skipping Temporal server with a real worker, and a real SMTP server.

Playwright's own browser download is not reachable here (nor needed): `executable_path` names the
system's Chromium. A test that fails leaves a screenshot of its page in tests/browser/artefacts/
(ignored by git). `check_accessibility(page)` runs axe-core (vendored beside this file) on the page
and fails on any serious or critical violation of WCAG 2.x A/AA.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from playwright.async_api import Browser, Page, async_playwright

from entrypoints.http import create_app
from eventstore import EventStore
from runtime.mail_sink import MailFolder, running_sink
from runtime.settings import Settings
from tests.integration.entrypoints.http.conftest import Api, api_settings
from tests.integration.entrypoints.web.conftest import SIGN_IN_KEY, Portal
from tests.integration.workflows.harness import running_worker
from tests.temporal_env import time_skipping_environment

HERE = Path(__file__).parent
AXE = HERE / "vendor" / "axe-4.14.1.min.js"
ARTEFACTS = HERE / "artefacts"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
LINK = re.compile(r"(http://\S+/sign-in/link\?token=[A-Za-z0-9_-]+)")


def chromium() -> str:
    """The Chromium the tests drive: CITYCERT_BROWSER, a path or a name on PATH."""
    wanted = Settings().browser
    found = wanted if Path(wanted).is_file() else shutil.which(wanted)
    if found is None:
        pytest.fail(
            f"no Chromium at {wanted!r}: install one (Debian/Ubuntu: apt-get install chromium; "
            "macOS: brew install --cask chromium) or set CITYCERT_BROWSER to its path (README, 'The portal')"
        )
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class ServedPortal(Portal):
    url: str = ""


@pytest.fixture
async def served(store: EventStore, tmp_path: Path) -> AsyncIterator[ServedPortal]:
    """The whole app on a socket, as a browser reaches it."""
    async with time_skipping_environment() as env, running_worker(env, store) as queue:
        folder = MailFolder(tmp_path / "mail")
        async with running_sink(folder) as smtp_port:
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            config = api_settings(
                temporal_task_queue=queue,
                documents_dir=tmp_path / "documents",
                sign_in_key=SIGN_IN_KEY,
                public_url=url,
            )
            app = create_app(config, client=env.client, store=store)
            server = uvicorn.Server(
                uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_config=None)
            )
            serving = asyncio.create_task(server.serve())
            try:
                while not server.started:
                    await asyncio.sleep(0.05)
                async with httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app), base_url="http://citycert.test"
                ) as http:
                    api = Api(http=http, store=store, env=env, settings=config)
                    yield ServedPortal(api, app, folder, smtp_port, url=url)
            finally:
                server.should_exit = True
                await serving


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=chromium(),
            # As root (CI containers) Chromium's sandbox cannot start; the pages are our own.
            args=["--no-sandbox", "--disable-dev-shm-usage"],
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[Any]:
    report = yield
    if report.when == "call":
        item.stash[FAILED] = report.failed
    return report


FAILED = pytest.StashKey[bool]()


@pytest.fixture
async def open_page(browser: Browser, request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    """`await open_page(locale="es-ES")`: a page in a fresh context (its own cookies) whose browser
    asks for that language; each page is screenshotted if the test fails."""
    pages: list[Page] = []

    async def make(locale: str = "en-US") -> Page:
        # bypass_csp: axe-core is injected as a script of the test's, which the portal's CSP forbids.
        context = await browser.new_context(locale=locale, bypass_csp=True)
        page = await context.new_page()
        pages.append(page)
        return page

    yield make
    if request.node.stash.get(FAILED, False):
        ARTEFACTS.mkdir(exist_ok=True)
        for n, page in enumerate(pages):
            await page.screenshot(path=str(ARTEFACTS / f"{request.node.name}-{n}.png"), full_page=True)
    for page in pages:
        await page.context.close()


async def check_accessibility(page: Page) -> None:
    """axe-core on the page as it is: no serious or critical violation of WCAG 2.x A and AA."""
    await page.add_script_tag(path=str(AXE))
    results = await page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG
    )
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, f"{page.url}: " + "; ".join(bad)
    assert results["passes"], "axe checked something"


async def mailed_link(portal: Portal, to: str) -> str:
    mails = [m for m in await portal.deliver() if m.header("To") == to]
    assert mails, f"a mail reached {to}"
    body = mails[-1].message.get_body(("plain",))
    assert body is not None
    found = LINK.search(body.get_content())
    assert found, "the mail holds a sign-in link to the portal"
    return found[1]
