"""The portal's watcher of the log (entrypoints/web/fragments.py `LogWatch`, started by the app's
lifespan every CITYCERT_WEB_EVENTS_POLL_MS): pages take the kept parts' version from memory. A
command given through the page shows on the very next page, whatever the watcher has seen; an event
recorded behind the process's back (straight in the store, as the worker records) shows once the
watcher has seen it; at an interval of 0 there is no watcher and every page asks, as before; and a
watcher that cannot ask leaves the pages asking for themselves until it answers again.

The tests here run the app's lifespan (the other portal tests do not, so they ask on every page).
A wait is a condition awaited with a deadline, never a sleep taken as the answer."""

from __future__ import annotations

import asyncio
import html
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime

import httpx
from structlog.testing import capture_logs

from domain import events as ev
from entrypoints.http import create_app
from entrypoints.web.fragments import LogWatch, log_version_of
from eventstore import Actor, NewEvent
from readmodel import city_stream, open_city_store
from tests.integration.entrypoints.http.scenario_runner import HttpRunner
from tests.integration.entrypoints.web.conftest import Portal, csrf_of, sign_in
from tests.scenarios import CRITERIA, apply, evidence

ANA = "ana@lakeside.example"
OMAR = "omar@programme.example"
LONG = 600_000  # ms: the watcher asks once as it starts, and not again while a test runs
WAIT = 20.0  # seconds a condition is waited for at most


@asynccontextmanager
async def watched(portal: Portal, interval_ms: int) -> AsyncIterator[Portal]:
    """The portal as a process of its own serves it: a second app on the same store and Temporal,
    its lifespan running (and with it the watcher at `interval_ms`). Commands given through
    `portal.api` come from the first app, which to this one is another process."""
    assert portal.api.settings is not None and portal.api.env is not None
    settings = portal.api.settings.model_copy(update={"web_events_poll_ms": interval_ms})
    app = create_app(settings, client=portal.api.env.client, store=portal.api.store)
    async with app.router.lifespan_context(app):
        yield replace(portal, app=app)


async def until(condition: Callable[[], bool]) -> None:
    """Wait for `condition`, looking every few milliseconds; fail after WAIT seconds."""
    async with asyncio.timeout(WAIT):
        while not condition():
            await asyncio.sleep(0.01)


def the_watch(portal: Portal) -> LogWatch:
    watch: LogWatch | None = portal.app.state.log_watch
    assert watch is not None, "the lifespan started a watcher"
    return watch


def registered(city_id: str, name: str) -> NewEvent:
    event = ev.CityRegistered(city_id=city_id, name=name, country="US", population=120_000)
    return NewEvent.from_domain(
        event, event_id=uuid.uuid4(), occurred_at=datetime.now(UTC), actor=Actor("operator", "op-1")
    )


async def registered_behind_its_back(database_url: str, city_id: str, name: str) -> None:
    """A city registered straight in the store by another process (a store of its own), as a
    worker records an event: neither through this process's command service nor its store."""
    elsewhere = await open_city_store(database_url, min_size=1, max_size=1)
    try:
        await elsewhere.append(city_stream(city_id), 0, [registered(city_id, name)])
    finally:
        await elsewhere.close()


async def lakeside_gathering_evidence(portal: Portal) -> None:
    await portal.api.register("lakeside")
    steps = [apply("2026-spring"), evidence(CRITERIA[:1])]
    assert await HttpRunner(portal.api).walk("lakeside", steps) == []
    await portal.person("Ana Lima", ANA, "en", city_id="lakeside")


def text_of(page: httpx.Response) -> str:
    return html.unescape(page.text)


async def test_a_command_given_through_the_page_shows_on_the_very_next_page(portal: Portal) -> None:
    # Given Lakeside gathering evidence, and Ana reading its dashboard in a portal whose watcher
    # will not ask again while she works
    await lakeside_gathering_evidence(portal)
    async with watched(portal, LONG) as served, served.visitor() as browser:
        await sign_in(served, browser, ANA)
        before = await browser.get("/cities/lakeside")
        assert the_watch(served).fresh(), "the page took the watcher's version"
        # When she closes the submission through the page
        closed = await browser.post(
            "/cities/lakeside/submission/close", data={"csrf_token": csrf_of(before.text), "confirmed": "yes"}
        )
        assert closed.status_code == 303
        after = await browser.get("/cities/lakeside")
    # Then the very next page shows the city under review
    assert "Gathering evidence" in text_of(before) and "Close the submission" in text_of(before)
    assert "Under review" in text_of(after) and "Close the submission" not in text_of(after)


async def test_an_event_recorded_behind_the_process_shows_once_the_watcher_has_seen_it(
    portal: Portal, database_url: str
) -> None:
    await portal.api.register("lakeside")
    await portal.person("Omar Haddad", OMAR, "en", role="operator")
    async with watched(portal, 50) as served, served.visitor() as browser:
        await sign_in(served, browser, OMAR)
        # Given the operators' list of cities kept at the log's version
        before = await browser.get("/operator/cities")
        version = log_version_of(served.app)
        seen = version.number
        # When a city is registered straight in the store, behind this process's back
        await registered_behind_its_back(database_url, "marston", "Marston")
        # Then the watcher moves the version with no page asked for
        await until(lambda: version.number > seen)
        after = await browser.get("/operator/cities")
    # And the next list shows the city
    assert "Lakeside" in text_of(before) and "Marston" not in text_of(before)
    assert "Marston" in text_of(after)


async def test_an_event_this_process_appends_itself_shows_on_the_very_next_page(portal: Portal) -> None:
    await portal.api.register("lakeside")
    await portal.person("Omar Haddad", OMAR, "en", role="operator")
    async with watched(portal, LONG) as served, served.visitor() as browser:
        await sign_in(served, browser, OMAR)
        # Given the operators' list of cities kept, and a watcher that will not ask again
        before = await browser.get("/operator/cities")
        assert the_watch(served).fresh()
        # When this process's own store records a city (as a round or a person is recorded)
        await served.api.store.append(city_stream("marston"), 0, [registered("marston", "Marston")])
        # Then the very next list shows it
        after = await browser.get("/operator/cities")
    assert "Marston" not in text_of(before) and "Marston" in text_of(after)


async def test_at_an_interval_of_0_every_page_asks_the_log_itself(portal: Portal, database_url: str) -> None:
    await portal.api.register("lakeside")
    await portal.person("Omar Haddad", OMAR, "en", role="operator")
    async with watched(portal, 0) as served, served.visitor() as browser:
        # Given no watcher at an interval of 0
        assert getattr(served.app.state, "log_watch", None) is None
        await sign_in(served, browser, OMAR)
        before = await browser.get("/operator/cities")
        # When a city is registered behind the process's back
        await registered_behind_its_back(database_url, "marston", "Marston")
        # Then the very next page shows it
        after = await browser.get("/operator/cities")
    assert "Marston" not in text_of(before) and "Marston" in text_of(after)


async def test_a_watcher_that_cannot_ask_leaves_every_page_asking_until_it_answers(
    portal: Portal, database_url: str
) -> None:
    await portal.api.register("lakeside")
    await portal.person("Omar Haddad", OMAR, "en", role="operator")
    async with watched(portal, LONG) as served, served.visitor() as browser:
        await sign_in(served, browser, OMAR)
        watch = the_watch(served)
        await until(watch.fresh)
        before = await browser.get("/operator/cities")
        # Given the watcher's database gone: a store of its own, closed
        gone = await open_city_store(database_url, min_size=1, max_size=1)
        await gone.close()
        working, watch.store = watch.store, gone
        with capture_logs() as logged:
            # When it asks, twice, and fails
            await watch.ask()
            await watch.ask()
            # Then the pages ask for themselves: a city registered behind its back shows at once
            await registered_behind_its_back(database_url, "marston", "Marston")
            fallen_back = await browser.get("/operator/cities")
            # And once the watcher answers again, pages take its version again
            watch.store = working
            await watch.ask()
            recovered = watch.fresh()
    assert "Marston" not in text_of(before) and "Marston" in text_of(fallen_back)
    watched_words = [e["event"] for e in logged if e["event"].startswith("portal.events_watch")]
    assert watched_words == ["portal.events_watch_failed", "portal.events_watch_recovered"], "once each"
    assert recovered


async def test_a_citys_dashboard_is_kept_by_city_and_language_never_by_reader(portal: Portal) -> None:
    await lakeside_gathering_evidence(portal)
    await portal.person("Lucía Méndez", "lucia@lakeside.example", "es", city_id="lakeside")
    await portal.person("Carla Reyes", "carla@programme.example", "en", role="committee")
    async with portal.visitor() as ana, portal.visitor() as lucia, portal.visitor() as carla:
        await sign_in(portal, ana, ANA)
        await sign_in(portal, lucia, "lucia@lakeside.example")
        await sign_in(portal, carla, "carla@programme.example")
        # Given Ana's dashboard rendered first, with the form to close the submission
        hers = await ana.get("/cities/lakeside")
        # When Carla of the committee reads it, then Lucía in Spanish, then Ana in Spanish
        committee = await carla.get("/cities/lakeside")
        spanish = await lucia.get("/cities/lakeside")
        anas_spanish = await ana.get("/cities/lakeside?lang=es")
    # Then Carla's has no form to close, and carries her name, not Ana's
    assert "Close the submission" in text_of(hers) and "Signed in as Ana Lima" in text_of(hers)
    assert "Gathering evidence" in text_of(committee) and "Close the submission" not in text_of(committee)
    assert "Carla Reyes" in text_of(committee) and "Ana Lima" not in text_of(committee)
    # And Lucía's is in Spanish with her own token; Ana's Spanish page carries Ana's token
    assert "Reuniendo evidencia" in text_of(spanish) and "Gathering evidence" not in text_of(spanish)
    assert "Cerrar el envío" in text_of(spanish) and csrf_of(spanish.text) != csrf_of(hers.text)
    assert "Lucía Méndez" in text_of(spanish) and "Ana Lima" not in text_of(spanish)
    assert "Reuniendo evidencia" in text_of(anas_spanish) and csrf_of(anas_spanish.text) == csrf_of(hers.text)
