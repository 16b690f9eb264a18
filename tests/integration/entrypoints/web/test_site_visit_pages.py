"""The site-visit page: a city's visit scheduled, moved to another day and recorded as held with a
finding per criterion, or waived, each through the command service as the JSON API gives it and
seen on the page; the round board and the operator's city page link it. A refusal shows the
domain's reason beside the form (htmx: the form alone) and nothing is recorded; a reviewer or a
city's staff member is refused in words."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import httpx

from readmodel import city_stream
from tests.integration.entrypoints.http.scenario_runner import HttpRunner
from tests.integration.entrypoints.web.conftest import Portal, csrf_of, sign_in
from tests.scenarios import SILVER_SCORE, apply, assigned_and_declared, close, evidence, review

ROUND = "2026-spring"
CARLA, OMAR = "carla@programme.example", "omar@programme.example"
PAGE = "/committee/cities/lakeside/site-visit"
# Approved by the review, save the last, which it rejects: a criterion of each decision.
APPROVED, REJECTED = SILVER_SCORE[:-1], SILVER_SCORE[-1]


async def at_the_site_visit(portal: Portal, city_id: str = "lakeside") -> None:
    """The city applied, its evidence decided (one criterion rejected), its submission closed."""
    await portal.api.register(city_id)
    steps = [
        apply(ROUND),
        evidence(SILVER_SCORE),
        *assigned_and_declared(SILVER_SCORE),
        review(approve=APPROVED, reject=[REJECTED]),
        close(),
    ]
    assert await HttpRunner(portal.api).walk(city_id, steps) == []


async def signed_in_as(
    portal: Portal, browser: httpx.AsyncClient, email: str, role: str, **more: str
) -> None:
    await portal.person(email.split("@")[0].title(), email, "en", role=role, **more)
    signed = await sign_in(portal, browser, email)
    assert signed.status_code == 303


async def recorded(portal: Portal, city_id: str = "lakeside") -> list[str]:
    return [e.type for e in await portal.api.store.read_stream(city_stream(city_id))]


def text_of(page: httpx.Response) -> str:
    return html.unescape(re.sub(r"\s+", " ", page.text))


async def test_the_committee_schedules_moves_and_records_the_visit_with_findings_per_criterion(
    portal: Portal,
) -> None:
    # Given Lakeside at the site visit, and Carla of the committee signed in
    await at_the_site_visit(portal)
    assert portal.api.env is not None
    today = (await portal.api.env.get_current_time()).date()
    async with portal.visitor() as browser:
        await signed_in_as(portal, browser, CARLA, "committee")
        # When she opens the visit's page from the round board
        board = await browser.get(f"/committee/rounds/{ROUND}")
        assert PAGE in board.text
        page = await browser.get(PAGE)
        # Then it says the visit is to schedule, and offers to schedule, record or waive it
        assert page.status_code == 200
        assert "To schedule" in text_of(page)
        for action in ("schedule", "complete", "waive"):
            assert f'action="{PAGE}/{action}"' in page.text
        assert f'action="{PAGE}/reschedule"' not in page.text
        # When she schedules it in two days
        scheduled = await browser.post(
            f"{PAGE}/schedule",
            data={"csrf_token": csrf_of(page.text), "visit_date": (today + timedelta(days=2)).isoformat()},
        )
        assert (scheduled.status_code, scheduled.headers["location"]) == (303, f"{PAGE}?done=schedule#visit")
        page = await browser.get(scheduled.headers["location"])
        # Then the page says so, with the day in words, and offers to move it
        assert "The visit is scheduled." in text_of(page)
        assert re.search(r"Scheduled for \w+ \d+, \d{4}", text_of(page))
        assert f'action="{PAGE}/reschedule"' in page.text
        # When she moves it to today, saying why
        moved = await browser.post(
            f"{PAGE}/reschedule",
            data={
                "csrf_token": csrf_of(page.text),
                "visit_date": today.isoformat(),
                "reason": "the mayor is away",
            },
        )
        assert moved.status_code == 303
        page = await browser.get(moved.headers["location"])
        assert "The visit is moved to its new day." in text_of(page)
        # And records it held: an approval overturned with a note, the rejection cleared, one confirmed
        overturned, confirmed = APPROVED[0], APPROVED[1]
        held = await browser.post(
            f"{PAGE}/complete",
            data={
                "csrf_token": csrf_of(page.text),
                "findings": "The portal is as described",
                "held_on": "",
                f"finding-{overturned}": "overturn",
                f"note-{overturned}": "no inventory on site",
                f"finding-{REJECTED}": "clear",
                f"finding-{confirmed}": "confirm",
                f"finding-{APPROVED[2]}": "",
            },
        )
        assert held.status_code == 303
        page = await browser.get(held.headers["location"])
    # Then the visit is recorded as hers, with a finding for each criterion chosen
    events = await portal.api.store.read_stream(city_stream("lakeside"))
    visit = next(e for e in events if e.type == "SiteVisitCompleted")
    assert visit.actor.role == "committee"
    assert visit.data["visit_date"] == today.isoformat()
    assert sorted(
        (f["criterion_id"], f["finding"], f["note"]) for f in visit.data["criterion_findings"]
    ) == sorted(
        [
            (overturned, "overturn", "no inventory on site"),
            (REJECTED, "clear", ""),
            (confirmed, "confirm", ""),
        ]
    )
    assert [e.type for e in events][-3:] == ["SiteVisitCompleted", "LevelRecommended", "DeadlineSet"]
    # And the page shows it held, its findings, and no form
    shown = text_of(page)
    assert "The visit is recorded with its findings." in shown and "Held on" in shown
    assert "The portal is as described" in shown and "no inventory on site" in shown
    assert (
        "Overturned: the approval was not supported on site" in shown
        and "Cleared: found met on site" in shown
    )
    assert '<form method="post" action="/committee' not in page.text


async def test_an_operator_waives_the_visit_from_the_citys_page(portal: Portal) -> None:
    await at_the_site_visit(portal)
    async with portal.visitor() as browser:
        await signed_in_as(portal, browser, OMAR, "operator")
        # Given the operator's page of the city, which links the visit's page
        city = await browser.get("/operator/cities/lakeside")
        assert PAGE in city.text
        page = await browser.get(PAGE)
        # When Omar waives the visit, saying why (with htmx, which follows to the page that shows it)
        waived = await browser.post(
            f"{PAGE}/waive",
            data={"csrf_token": csrf_of(page.text), "reason": "visited virtually in May"},
            headers={"HX-Request": "true"},
        )
        assert (waived.status_code, waived.headers["hx-redirect"]) == (204, f"{PAGE}?done=waive#visit")
        page = await browser.get(waived.headers["hx-redirect"])
        portuguese = await browser.get(f"{PAGE}?lang=pt")
    # Then the waiver is recorded as approved by him, and a level recommended
    events = await portal.api.store.read_stream(city_stream("lakeside"))
    waiver = next(e for e in events if e.type == "SiteVisitWaived")
    assert waiver.actor.role == "operator" and waiver.data["approved_by"] == waiver.actor.id
    assert "LevelRecommended" in [e.type for e in events]
    # And the page shows it waived, with the reason, and the criteria as the review decided them
    shown = text_of(page)
    assert "The waiver is recorded." in shown and "Waived" in shown and "visited virtually in May" in shown
    assert f"{REJECTED} " in shown and "Rejected" in shown and "Back to the city" in shown
    assert "Dispensada" in text_of(portuguese) and "Por que foi dispensada" in text_of(portuguese)


async def test_a_refusal_shows_the_domains_reason_beside_the_form_and_nothing_is_recorded(
    portal: Portal,
) -> None:
    await at_the_site_visit(portal)
    before = await recorded(portal)
    async with portal.visitor() as browser:
        await signed_in_as(portal, browser, CARLA, "committee")
        page = await browser.get(PAGE)
        token = csrf_of(page.text)
        # When Carla records a visit held with no day, none being scheduled
        unscheduled = await browser.post(
            f"{PAGE}/complete", data={"csrf_token": token, "findings": "All fine"}
        )
        # And, with htmx, one that overturns the rejected criterion
        overturning = await browser.post(
            f"{PAGE}/complete",
            data={
                "csrf_token": token,
                "findings": "All fine",
                "held_on": "2026-01-05",
                f"finding-{REJECTED}": "overturn",
            },
            headers={"HX-Request": "true"},
        )
        # And waives it with no reason
        empty = await browser.post(f"{PAGE}/waive", data={"csrf_token": token, "reason": "  "})
        # And schedules it on a day that is not one
        no_day = await browser.post(f"{PAGE}/schedule", data={"csrf_token": token, "visit_date": "soon"})
    # Then each is refused with its reason beside the form, the words kept
    assert unscheduled.status_code == 409
    assert "The visit was not recorded" in text_of(unscheduled)
    assert "no site visit is scheduled; give the date it took place" in text_of(unscheduled)
    assert "All fine" in unscheduled.text and "<html" in unscheduled.text
    # And with htmx the form alone comes back
    assert overturning.status_code == 409 and "<html" not in overturning.text
    assert 'id="visit-complete"' in overturning.text and 'id="visit-waive"' not in overturning.text
    assert f"a visit can only overturn approved criteria; not approved: {REJECTED}" in text_of(overturning)
    # In the page's language, so not marked as another
    assert "<p>lakeside is site_visit: a visit can only overturn approved criteria" in overturning.text
    assert empty.status_code == 422 and "Enter why the visit is waived" in text_of(empty)
    assert 'href="#waive-reason"' in empty.text and 'aria-invalid="true"' in empty.text
    assert no_day.status_code == 422 and "Enter the day as a date" in text_of(no_day)
    assert await recorded(portal) == before


async def test_a_reviewer_and_a_citys_staff_are_refused_in_words(portal: Portal) -> None:
    await at_the_site_visit(portal)
    before = await recorded(portal)
    for email, role, more in (
        ("rosa@partners.example", "reviewer", {"city_id": "riverton"}),
        ("ana@lakeside.example", "city", {"city_id": "lakeside"}),
    ):
        async with portal.visitor() as browser:
            await signed_in_as(portal, browser, email, role, **more)
            page = await browser.get(PAGE)
            # (The refusal's page carries the sign-out form's token: a form of this site.)
            waived = await browser.post(
                f"{PAGE}/waive", data={"csrf_token": csrf_of(page.text), "reason": "ours"}
            )
        assert page.status_code == 403, role
        assert "This page is for the committee and the operators" in text_of(page)
        assert waived.status_code == 403 and "see and record site visits" in text_of(waived)
    assert await recorded(portal) == before


async def test_a_visit_not_due_yet_offers_nothing_and_speaks_spanish(portal: Portal) -> None:
    # Given Lakeside still gathering its evidence
    await portal.api.register("lakeside")
    assert await HttpRunner(portal.api).walk("lakeside", [apply(ROUND)]) == []
    async with portal.visitor() as browser:
        await signed_in_as(portal, browser, CARLA, "committee")
        board = await browser.get(f"/committee/rounds/{ROUND}")
        page = await browser.get(PAGE)
        spanish = await browser.get(f"{PAGE}?lang=es")
        unknown = await browser.get("/committee/cities/nowhere/site-visit")
    assert page.status_code == 200
    assert "Not due yet" in text_of(page) and "The visit comes once the review is complete." in text_of(page)
    assert f'action="{PAGE}/' not in page.text
    assert "Lakeside" in text_of(board) and PAGE not in board.text  # the board links no visit not due
    assert 'lang="es"' in spanish.text and "Visita: Lakeside" in text_of(spanish)
    assert unknown.status_code == 404
