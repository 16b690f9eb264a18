"""The committee's pages: the round board from the round report and the cities' logs, a level
decided and an appeal decided through the command service as the JSON API gives them, the Honor
Roll designated beside the score-based suggestion, and the announcement previewed under embargo.
A refusal shows the domain's reason beside the form, and nothing is recorded; a person of another
role is refused in words."""

from __future__ import annotations

import html
import re
from datetime import date

import httpx

from app.rounds import all_rounds, create_round, designate_honor_roll
from domain import Actor
from domain.levels import Level
from domain.rounds import CreateRound, DesignateHonorRoll
from domain.standard import get_standard
from readmodel import city_stream
from tests.integration.entrypoints.http.scenario_runner import HttpRunner
from tests.integration.entrypoints.web.conftest import Portal, csrf_of, sign_in
from tests.scenarios import (
    CRITERIA,
    DAY,
    SILVER_SCORE,
    STANDARD,
    appeal,
    apply,
    decide,
    to_committee,
    uphold_appeal,
)

ROUND = "2026-spring"
CARLA = "carla@programme.example"
NEAR_MISS = CRITERIA[: len(SILVER_SCORE) - 2]  # two criteria short of the Silver bar: no level


async def at_the_committee(
    portal: Portal, city_id: str = "lakeside", approved: list[str] = SILVER_SCORE
) -> None:
    """The city applied to the round, its evidence approved, the visit waived: a level recommended."""
    await portal.api.register(city_id)
    assert await HttpRunner(portal.api).walk(city_id, to_committee(apply(ROUND), approved)) == []


async def committee_member(portal: Portal, browser: httpx.AsyncClient) -> None:
    await portal.person("Carla Ruiz", CARLA, "en", role="committee")
    signed = await sign_in(portal, browser, CARLA)
    assert (signed.status_code, signed.headers["location"]) == (303, "/home")


async def recorded(portal: Portal, city_id: str = "lakeside") -> list[str]:
    return [e.type for e in await portal.api.store.read_stream(city_stream(city_id))]


def text_of(page: httpx.Response) -> str:
    return html.unescape(re.sub(r"\s+", " ", page.text))


async def test_the_round_board_shows_a_recommended_citys_scores_per_practice_area(portal: Portal) -> None:
    # Given Lakeside at the committee, recommended Silver, and Carla of the committee signed in
    await at_the_committee(portal)
    async with portal.visitor() as browser:
        await committee_member(portal, browser)
        # When she goes to her start page, and on to the round's board
        home = await browser.get("/home")
        assert (home.status_code, home.headers["location"]) == (303, "/committee")
        rounds = await browser.get("/committee")
        assert rounds.status_code == 200 and f"/committee/rounds/{ROUND}" in rounds.text
        board = await browser.get(f"/committee/rounds/{ROUND}")
        spanish = await browser.get(f"/committee/rounds/{ROUND}?lang=es")
    # Then the board shows Lakeside, its recommendation, a chart and a table of its points per area
    assert board.status_code == 200
    page = text_of(board)
    assert "Lakeside" in page and "Silver" in page and "With the committee" in page
    assert re.search(r"Decide by</dt>\s*<dd><strong>\w+ \d+, \d{4}</strong>", board.text)  # its deadline
    assert f"{len(SILVER_SCORE)} points of {len(CRITERIA)}" in page
    assert '<svg role="img"' in board.text and 'class="bar-fill"' in board.text
    standard = get_standard(STANDARD)
    earned = set(standard.earned(SILVER_SCORE))
    for area in standard.practice_areas:
        in_area = [c.id for c in standard.criteria if c.practice_area == area.id]
        points = sum(1 for c in in_area if c in earned)
        assert f"{area.id} {area.name}" in page
        assert f"{points} of {len(in_area)}" in page
    # And the site visit's waiver, no appeal, and the way to decide the level
    assert "Waived" in page and "visited virtually" in page and "No appeal was filed." in page
    assert "/committee/cities/lakeside/decision" in board.text
    # And in Spanish, with the numbers as Spanish writes them
    assert 'lang="es"' in spanish.text and "Puntuación por área de práctica" in text_of(spanish)
    assert f"{len(SILVER_SCORE)} puntos de {len(CRITERIA)}" in text_of(spanish)


async def test_a_level_decided_is_recorded_as_the_committee_members(portal: Portal) -> None:
    await at_the_committee(portal)
    async with portal.visitor() as browser:
        await committee_member(portal, browser)
        form = await browser.get("/committee/cities/lakeside/decision")
        assert form.status_code == 200
        # The form offers no level above the recommendation
        assert (
            'value="silver"' in form.text and 'value="gold"' not in form.text and 'value="none"' in form.text
        )
        # When she decides Silver, with the rationale
        decided = await browser.post(
            "/committee/cities/lakeside/decision",
            data={"csrf_token": csrf_of(form.text), "level": "silver", "rationale": "Strong open data work"},
        )
        assert (decided.status_code, decided.headers["location"]) == (
            303,
            f"/committee/rounds/{ROUND}#city-lakeside",
        )
        board = await browser.get(f"/committee/rounds/{ROUND}")
    # Then the decision is recorded as hers, and the board shows it
    events = await portal.api.store.read_stream(city_stream("lakeside"))
    decision = [e for e in events if e.type == "LevelDecided"]
    assert len(decision) == 1
    assert decision[0].actor.role == "committee" and decision[0].actor.id.startswith("per_")
    assert "Committee's decision" in text_of(board)
    async with portal.visitor() as browser:
        await sign_in(portal, browser, CARLA)
        again = await browser.get("/committee/cities/lakeside/decision")
    assert "Lakeside is not waiting for the committee to decide its level." in text_of(again)
    assert "<textarea" not in again.text


async def test_a_level_above_the_recommendation_is_refused_with_the_domains_reason(portal: Portal) -> None:
    await at_the_committee(portal)
    before = await recorded(portal)
    async with portal.visitor() as browser:
        await committee_member(portal, browser)
        form = await browser.get("/committee/cities/lakeside/decision")
        # When a level above the recommendation is sent (the form does not offer it)
        refused = await browser.post(
            "/committee/cities/lakeside/decision",
            data={"csrf_token": csrf_of(form.text), "level": "gold", "rationale": "We liked it"},
        )
        # And, with htmx, the form alone comes back with the reason
        partial = await browser.post(
            "/committee/cities/lakeside/decision",
            data={"csrf_token": csrf_of(form.text), "level": "gold", "rationale": "We liked it"},
            headers={"HX-Request": "true"},
        )
    # Then the domain's reason shows beside the form, and nothing is recorded
    assert refused.status_code == 409
    assert "The level was not decided" in refused.text and 'lang="en"' in refused.text
    assert "recommend" in text_of(refused).lower()
    assert partial.status_code == 409
    assert partial.text.lstrip().startswith('<section id="decide-level"') and "<html" not in partial.text
    assert await recorded(portal) == before


async def test_a_decision_without_a_choice_or_rationale_says_what_is_missing(portal: Portal) -> None:
    await at_the_committee(portal)
    before = await recorded(portal)
    async with portal.visitor() as browser:
        await committee_member(portal, browser)
        form = await browser.get("/committee/cities/lakeside/decision")
        answer = await browser.post(
            "/committee/cities/lakeside/decision", data={"csrf_token": csrf_of(form.text), "rationale": "  "}
        )
        forged = await browser.post(
            "/committee/cities/lakeside/decision", data={"level": "silver", "rationale": "x"}
        )
    assert answer.status_code == 422
    page = text_of(answer)
    assert "There is a problem" in page
    assert "Choose the level the committee decides, or not certified" in page
    assert "Enter the committee's rationale" in page and 'aria-invalid="true"' in answer.text
    assert forged.status_code == 403  # no CSRF token: nothing is decided
    assert await recorded(portal) == before


async def test_other_roles_are_refused_in_words(portal: Portal) -> None:
    await at_the_committee(portal)
    await portal.person("Ana Lima", "ana@lakeside.example", "en", city_id="lakeside")
    await portal.person("Omar Haddad", "omar@programme.example", "en", role="operator")
    before = await recorded(portal)
    async with portal.visitor() as staff:
        await sign_in(portal, staff, "ana@lakeside.example")
        board = await staff.get(f"/committee/rounds/{ROUND}")
        page = await staff.get("/cities/lakeside")
        decided = await staff.post(
            "/committee/cities/lakeside/decision",
            data={"csrf_token": csrf_of(page.text), "level": "silver", "rationale": "ours"},
        )
    assert board.status_code == 403 and "This page is for the committee" in text_of(board)
    assert decided.status_code == 403
    async with portal.visitor() as operator:
        await sign_in(portal, operator, "omar@programme.example")
        seen = await operator.get(f"/committee/rounds/{ROUND}")
        assert seen.status_code == 200 and "Decide the level of" not in seen.text  # read, not decide
        page = await operator.get("/committee/cities/lakeside/decision")
        assert "Only the committee's members record its decisions." in text_of(page)
        assert "<textarea" not in page.text
        decided = await operator.post(
            "/committee/cities/lakeside/decision",
            data={"csrf_token": csrf_of(seen.text), "level": "silver", "rationale": "ours"},
        )
    assert decided.status_code == 403 and "Only the committee decides" in text_of(decided)
    assert await recorded(portal) == before


async def test_the_honor_roll_shows_the_suggestion_and_is_designated_as_chosen(portal: Portal) -> None:
    # Given Marston two criteria short of Silver, which Carla decides not to certify
    await at_the_committee(portal, "marston", NEAR_MISS)
    async with portal.visitor() as browser:
        await committee_member(portal, browser)
        form = await browser.get("/committee/cities/marston/decision")
        assert 'value="silver"' not in form.text  # no level was recommended
        decided = await browser.post(
            "/committee/cities/marston/decision",
            data={"csrf_token": csrf_of(form.text), "level": "none", "rationale": "Close, not yet"},
        )
        assert decided.status_code == 303
        # When she opens the Honor Roll: Marston is suggested by its score, and not ticked for her
        roll = await browser.get(f"/committee/rounds/{ROUND}/honor-roll")
        assert roll.status_code == 200
        assert "Suggested by its score." in text_of(roll)
        assert re.search(r'id="roll-marston"[^>]*checked', roll.text) is None
        preview = await browser.get(f"/committee/rounds/{ROUND}/announcement")
        assert "Marston" not in preview.text, "neither the not certified nor the suggestion is announced"
        # And designates it
        designated = await browser.post(
            f"/committee/rounds/{ROUND}/honor-roll",
            data={"csrf_token": csrf_of(roll.text), "city_ids": "marston"},
        )
        assert (designated.status_code, designated.headers["location"]) == (
            303,
            f"/committee/rounds/{ROUND}#honor-roll",
        )
        board = await browser.get(f"/committee/rounds/{ROUND}")
        preview = await browser.get(f"/committee/rounds/{ROUND}/announcement")
    # Then the round's Honor Roll is hers, and the preview under embargo lists it
    found = next(r for r in await all_rounds(portal.api.store) if r.round_id == ROUND)
    assert found.honor_roll is not None and found.honor_roll.city_ids == ("marston",)
    assert found.honor_roll.designated_by.startswith("per_")
    assert "On the Honor Roll" in text_of(board)
    assert preview.status_code == 200
    assert "Preview under embargo until" in text_of(preview) and "Marston" in preview.text


async def test_the_honor_roll_offers_only_the_cities_it_may_name_and_says_why_not_the_others(
    portal: Portal,
) -> None:
    # Given three cities of the round: Marston found not certified, Bravo decided Silver, and
    # Lakeside still with the committee
    runner = HttpRunner(portal.api, per_city_staff=True)  # a staff token each
    await portal.api.register("marston")
    steps = [*to_committee(apply(ROUND), NEAR_MISS), decide(None, "close, not yet")]
    assert await runner.walk("marston", steps) == []
    await portal.api.register("bravo")
    assert await runner.walk("bravo", [*to_committee(apply(ROUND), SILVER_SCORE), decide(Level.SILVER)]) == []
    await portal.api.register("lakeside")
    assert await runner.walk("lakeside", to_committee(apply(ROUND), SILVER_SCORE)) == []
    for _ in range(3):  # the cities' notices, a relay's batch at a time, before Carla's sign-in mail
        await portal.deliver()
    async with portal.visitor() as browser:
        await committee_member(portal, browser)
        # When Carla opens the Honor Roll
        roll = await browser.get(f"/committee/rounds/{ROUND}/honor-roll")
        spanish = await browser.get(f"/committee/rounds/{ROUND}/honor-roll?lang=es")
    # Then only Marston has a box, and the page says why Bravo and Lakeside are not there
    assert roll.status_code == 200
    assert 'id="roll-marston"' in roll.text
    assert 'id="roll-bravo"' not in roll.text and 'id="roll-lakeside"' not in roll.text
    page = text_of(roll)
    not_listed = page[page.index("Cities of this round not listed") :]
    certified = not_listed.index("Certified in this round")
    to_come = not_listed.index("Their decision in this round is still to come")
    assert certified < not_listed.index("Bravo") < to_come < not_listed.index("Lakeside")
    # And in Spanish
    assert "Ciudades de esta convocatoria que no aparecen" in text_of(spanish)


async def test_a_city_on_the_honor_roll_later_certified_is_said_not_offered(portal: Portal) -> None:
    # Given Lakeside found not certified and named on the Honor Roll, then certified Silver on appeal
    await portal.api.register("lakeside")
    not_yet = [*to_committee(apply(ROUND), SILVER_SCORE), decide(None, "not yet")]
    assert await HttpRunner(portal.api).walk("lakeside", not_yet) == []
    chair = Actor(role="committee", id="per_chair")
    named = DesignateHonorRoll(round_id=ROUND, city_ids=["lakeside"])
    await designate_honor_roll(portal.api.store, named, chair, now=await portal.api.env.get_current_time())
    assert (
        await HttpRunner(portal.api).walk("lakeside", [appeal(after=DAY), uphold_appeal(Level.SILVER)]) == []
    )
    async with portal.visitor() as browser:
        await committee_member(portal, browser)
        # When Carla opens the Honor Roll
        roll = await browser.get(f"/committee/rounds/{ROUND}/honor-roll")
    # Then Lakeside has no box, and the page says it is on the Honor Roll but may no longer be
    assert roll.status_code == 200 and 'id="roll-lakeside"' not in roll.text
    assert re.search(
        r"On the Honor Roll now, but no longer cities it may name: Lakeside[^<]*\. "
        r"Designating the Honor Roll again takes them off it\.",
        text_of(roll),
    )
    assert "Certified in this round" in text_of(roll)


async def test_an_announced_rounds_honor_roll_is_refused_and_unknown_pages_are_not_found(
    portal: Portal,
) -> None:
    past = CreateRound(
        round_id="2020-fall",
        name="Fall 2020",
        opens_on=date(2020, 1, 1),
        closes_on=date(2020, 3, 1),
        submission_deadline=date(2020, 6, 1),
        announcement_on=date(2020, 10, 1),
        review_capacity=10,
    )
    await create_round(portal.api.store, past, Actor(role="operator", id="op-1"), may_overlap=True)
    async with portal.visitor() as browser:
        await committee_member(portal, browser)
        roll = await browser.get("/committee/rounds/2020-fall/honor-roll")
        refused = await browser.post(
            "/committee/rounds/2020-fall/honor-roll", data={"csrf_token": csrf_of(roll.text)}
        )
        preview = await browser.get("/committee/rounds/2020-fall/announcement")
        unknown = await browser.get("/committee/rounds/no-such-round")
        empty = await browser.get("/committee/rounds/2020-fall")
        no_city = await browser.get("/committee/cities/nowhere/decision")
    assert refused.status_code == 409
    assert "The Honor Roll was not designated" in refused.text and "can no longer be changed" in refused.text
    assert preview.status_code == 200 and "Preview under embargo" not in preview.text
    assert unknown.status_code == 404 and "No round of that id was created." in text_of(unknown)
    assert empty.status_code == 200 and "No city has applied to this round yet." in empty.text
    assert no_city.status_code == 404 and "No city of that id takes part in the programme." in no_city.text


async def test_an_appeal_is_decided_from_its_page(portal: Portal) -> None:
    # Given Lakeside, recommended Silver, decided not certified, and its appeal filed the next day
    await portal.api.register("lakeside")
    steps = [*to_committee(apply(ROUND), SILVER_SCORE), decide(None, "not yet"), appeal(after=DAY)]
    assert await HttpRunner(portal.api).walk("lakeside", steps) == []
    async with portal.visitor() as browser:
        await committee_member(portal, browser)
        board = await browser.get(f"/committee/rounds/{ROUND}")
        assert "/committee/cities/lakeside/appeal-decision" in board.text
        assert "the visit missed our open data portal" in board.text  # the grounds, as filed
        form = await browser.get("/committee/cities/lakeside/appeal-decision")
        missing = await browser.post(
            "/committee/cities/lakeside/appeal-decision",
            data={"csrf_token": csrf_of(form.text), "rationale": "x"},
        )
        assert missing.status_code == 422 and "uphold" in text_of(missing)
        # When she dismisses it
        dismissed = await browser.post(
            "/committee/cities/lakeside/appeal-decision",
            data={"csrf_token": csrf_of(form.text), "upheld": "no", "rationale": "The visit was thorough"},
        )
        assert dismissed.status_code == 303
        again = await browser.get(f"/committee/rounds/{ROUND}")
    # Then the appeal's decision is recorded and shown
    assert "AppealDecided" in await recorded(portal)
    assert "Dismissed: the decision stands" in text_of(again)


async def test_a_city_the_honor_roll_cannot_name_is_refused_beside_the_form(portal: Portal) -> None:
    # Given Lakeside at the committee, recommended Silver and not decided yet
    await at_the_committee(portal)
    async with portal.visitor() as browser:
        await committee_member(portal, browser)
        # When Carla names it on the Honor Roll
        roll = await browser.get(f"/committee/rounds/{ROUND}/honor-roll")
        refused = await browser.post(
            f"/committee/rounds/{ROUND}/honor-roll",
            data={"csrf_token": csrf_of(roll.text), "city_ids": "lakeside"},
        )
    # Then the page says why, and nothing is designated
    assert refused.status_code == 409
    assert "The Honor Roll was not designated" in refused.text
    assert "cities whose decision in the round is still to come: lakeside" in text_of(refused)
    found = next(r for r in await all_rounds(portal.api.store) if r.round_id == ROUND)
    assert found.honor_roll is None
