"""The pages whose costly part is kept between requests (entrypoints/web/fragments.py): the round
board and a reviewer's queue. What is recorded shows on the next request; another person's page, a
page of another role or another language is never given instead; and each page carries its own
reader's name and CSRF token, never those of the reader it was first rendered for. The log's
version they are kept at moves when an event commits, also one whose transaction was running
when it last moved, and not for writes that record no event."""

from __future__ import annotations

import html

import httpx

from app.round_report import round_city_logs
from domain import Actor
from domain.levels import Level
from entrypoints.web.fragments import KeptFolds, LogVersion, events_version
from tests.integration.entrypoints.http.scenario_runner import HttpRunner
from tests.integration.entrypoints.web.conftest import Portal, csrf_of, sign_in
from tests.integration.entrypoints.web.test_committee_pages import (
    ROUND,
    at_the_committee,
    committee_member,
    text_of,
)
from tests.scenarios import CRITERIA, apply, assign, decide, declare_no_conflict, evidence

BOARD = f"/committee/rounds/{ROUND}"
OMAR = "omar@programme.example"
ROSA = "rosa@partners.example"
TEO = "teo@partners.example"


async def test_the_board_shows_what_is_recorded_since_on_the_next_request(portal: Portal) -> None:
    # Given Lakeside at the committee, and Carla reading the board
    await at_the_committee(portal)
    async with portal.visitor() as browser:
        await committee_member(portal, browser)
        before = await browser.get(BOARD)
        again = await browser.get(BOARD)
        assert "Decide the level of Lakeside" in text_of(before)
        assert again.text == before.text  # nothing recorded between: the same page
        # When the committee's decision is recorded through the JSON API
        assert await HttpRunner(portal.api).walk("lakeside", [decide(Level.SILVER)]) == []
        decided = await browser.get(BOARD)
        # And the round's Honor Roll is designated from its page (the rounds table, not a city's log)
        form = await browser.get(f"{BOARD}/honor-roll")
        designated = await browser.post(f"{BOARD}/honor-roll", data={"csrf_token": csrf_of(form.text)})
        assert designated.status_code == 303
        last = await browser.get(BOARD)
    # Then each next board shows it
    assert "Committee's decision" not in text_of(before)
    assert "Committee's decision" in text_of(decided) and "Decide the level of Lakeside" not in text_of(
        decided
    )
    assert "has not designated this round's Honor Roll yet" in text_of(decided)
    assert "The committee named no city." in text_of(last)


async def test_the_board_is_each_readers_own_by_role_language_and_token(portal: Portal) -> None:
    await at_the_committee(portal)
    await portal.person("Omar Haddad", OMAR, "en", role="operator")
    async with portal.visitor() as carla, portal.visitor() as omar:
        await committee_member(portal, carla)
        await sign_in(portal, omar, OMAR)
        # Given Carla's board rendered first, with the committee's buttons
        hers = await carla.get(BOARD)
        # When Omar, an operator, reads the same round's board, then Carla reads it in Spanish
        his = await omar.get(BOARD)
        spanish = await carla.get(f"{BOARD}?lang=es")
    assert "Decide the level of Lakeside" in text_of(hers)
    # Then Omar's board has no button to decide, and carries his name and his own token
    assert his.status_code == 200 and "Lakeside" in text_of(his)
    assert "Decide the level of" not in text_of(his)
    assert "Signed in as Omar Haddad" in text_of(his) and "Carla" not in text_of(his)
    assert csrf_of(his.text) != csrf_of(hers.text)
    # And Carla's Spanish board is in Spanish, with her own token
    assert 'lang="es"' in spanish.text and "Puntuación por área de práctica" in text_of(spanish)
    assert "Points per practice area" not in text_of(spanish)
    assert csrf_of(spanish.text) == csrf_of(hers.text)


async def given_two_reviewers(portal: Portal) -> tuple[Actor, Actor]:
    """Lakeside's first criterion assigned to Rosa and its second to Teo, both from Riverton."""
    await portal.api.register("lakeside")
    rosa = Actor(
        role="reviewer", id=await portal.person("Rosa Vidal", ROSA, "en", role="reviewer", city_id="riverton")
    )
    teo = Actor(
        role="reviewer", id=await portal.person("Teo Ruiz", TEO, "en", role="reviewer", city_id="riverton")
    )
    first, second = CRITERIA[0], CRITERIA[1]
    steps = [apply(ROUND), evidence([first, second]), assign([first], rosa), assign([second], teo)]
    assert await HttpRunner(portal.api).walk("lakeside", steps) == []
    return rosa, teo


def queue_text(page: httpx.Response) -> str:
    return html.unescape(page.text)


async def test_a_reviewers_queue_is_their_own_and_shows_their_declaration_next(portal: Portal) -> None:
    rosa, _ = await given_two_reviewers(portal)
    first, second = CRITERIA[0], CRITERIA[1]
    async with portal.visitor() as browser, portal.visitor() as other:
        await sign_in(portal, browser, ROSA)
        await sign_in(portal, other, TEO)
        # Given Rosa's queue rendered first
        hers = await browser.get("/review")
        # When Teo reads his, and Rosa declares no conflict with Lakeside, then reads hers again
        his = await other.get("/review")
        assert await HttpRunner(portal.api).walk("lakeside", [declare_no_conflict(rosa)]) == []
        after = await browser.get("/review")
        spanish = await browser.get("/review?lang=es")
    # Then each queue shows its reviewer's own criteria, name and token
    assert f">{first} " in queue_text(hers) and "Signed in as Rosa Vidal" in queue_text(hers)
    assert queue_text(hers).count("Not yet assigned") == 0
    assert f">{second} " in queue_text(his) and f">{first} " not in queue_text(his)
    assert "Signed in as Teo Ruiz" in queue_text(his) and "Rosa" not in queue_text(his)
    assert csrf_of(his.text) != csrf_of(hers.text)
    # And Rosa's declaration shows on her next queue, in Spanish when she asks for it
    assert "Declare for Lakeside" in queue_text(hers)
    assert "You declared no conflict of interest with this city." in queue_text(after)
    assert "Su cola de revisión" in queue_text(spanish) and "Your review queue" not in queue_text(spanish)
    assert csrf_of(spanish.text) == csrf_of(hers.text)


async def test_the_logs_version_moves_for_an_event_and_not_for_other_writes(portal: Portal) -> None:
    store = portal.api.store
    await portal.api.register("lakeside")
    known = LogVersion()
    # The first reading finds the events recorded so far new
    first = await events_version(store, known)
    assert first == 1 and await events_version(store, known) == first
    # A write that records no event (a person added) leaves it
    await portal.person("Ana Lima", "ana@lakeside.example", "en", city_id="lakeside")
    assert await events_version(store, known) == first
    # An event recorded moves it
    await portal.api.register("marston")
    assert await events_version(store, known) == first + 1
    # And an event whose transaction was running at the snapshot it last moved at moves it too
    async with store.connection() as conn:
        last = await conn.fetchval("SELECT transaction_id::text FROM events ORDER BY position DESC LIMIT 1")
        horizon = await conn.fetchval("SELECT (pg_snapshot_xmax(pg_current_snapshot()))::text")
    running = LogVersion(number=7, xmax=str(int(horizon) + 1000), running=[last])
    assert await events_version(store, running) == 8
    assert await events_version(store, running) == 8  # compared with the new snapshot: nothing since


async def test_the_round_logs_kept_read_only_what_was_recorded_since(portal: Portal) -> None:
    # Given Lakeside at the committee, its log read once and kept
    await at_the_committee(portal)
    store, kept = portal.api.store, KeptFolds(64)
    first = await round_city_logs(store, [ROUND], kept=kept)
    unchanged = await round_city_logs(store, [ROUND], kept=kept)
    # When the committee decides its level
    assert await HttpRunner(portal.api).walk("lakeside", [decide(Level.SILVER)]) == []
    again = await round_city_logs(store, [ROUND], kept=kept)
    fresh = await round_city_logs(store, [ROUND])
    # Then with nothing recorded the very log kept is given; after the decision, the log has the
    # decision's events after those kept, as a fresh read has them
    assert [log.city_id for log in first] == ["lakeside"] and unchanged[0] is first[0]
    assert again == fresh
    assert len(again[0].events) > len(first[0].events)
    assert list(again[0].events[: len(first[0].events)]) == list(first[0].events)
