"""A city's pages for its staff: closing the submission is a command given through the command
service, as the JSON API gives it; refused, the form says the domain's reason beside it (the whole
page, or the form alone for htmx) and nothing is recorded."""

from __future__ import annotations

import html

from entrypoints.web.i18n import translations
from readmodel import city_stream
from tests.integration.entrypoints.http.scenario_runner import HttpRunner
from tests.integration.entrypoints.web.conftest import Portal, csrf_of, sign_in
from tests.scenarios import CRITERIA, apply, evidence

CLOSE = "/cities/lakeside/submission/close"


async def applied(portal: Portal, *, with_evidence: bool) -> None:
    await portal.api.register("lakeside")
    steps = [apply("2026-spring"), *([evidence(CRITERIA[:1])] if with_evidence else [])]
    assert await HttpRunner(portal.api).walk("lakeside", steps) == []
    await portal.person("Ana Lima", "ana@lakeside.example", "en", city_id="lakeside")


async def recorded(portal: Portal) -> int:
    return len(await portal.api.store.read_stream(city_stream("lakeside")))


async def test_closing_a_submission_with_no_evidence_is_refused_saying_why(portal: Portal) -> None:
    # Given Lakeside applied, with no evidence submitted yet, and Ana signed in
    await applied(portal, with_evidence=False)
    before = await recorded(portal)
    async with portal.visitor() as browser:
        await sign_in(portal, browser, "ana@lakeside.example")
        page = await browser.get("/cities/lakeside")
        assert "Close the submission" in page.text
        # When she closes the submission
        answer = await browser.post(CLOSE, data={"csrf_token": csrf_of(page.text), "confirmed": "yes"})
    # Then the page says the domain's reason beside the form, and nothing is recorded
    assert answer.status_code == 409
    assert "The submission was not closed" in answer.text
    assert "no evidence has been submitted yet" in answer.text
    assert await recorded(portal) == before


async def test_htmx_gets_the_form_alone_with_the_reason(portal: Portal) -> None:
    await applied(portal, with_evidence=False)
    async with portal.visitor() as browser:
        await sign_in(portal, browser, "ana@lakeside.example")
        page = await browser.get("/cities/lakeside")
        answer = await browser.post(
            CLOSE, data={"csrf_token": csrf_of(page.text), "confirmed": "yes"}, headers={"HX-Request": "true"}
        )
    assert answer.status_code == 409
    assert answer.text.lstrip().startswith('<section id="close-submission"')
    assert "<html" not in answer.text and "no evidence has been submitted yet" in answer.text


async def test_the_submission_closes_once_confirmed(portal: Portal) -> None:
    await applied(portal, with_evidence=True)
    async with portal.visitor() as browser:
        await sign_in(portal, browser, "ana@lakeside.example")
        page = await browser.get("/cities/lakeside")
        unconfirmed = await browser.post(CLOSE, data={"csrf_token": csrf_of(page.text)})
        assert unconfirmed.status_code == 422
        assert "Confirm that the city has submitted all the evidence it claims." in unconfirmed.text
        closed = await browser.post(CLOSE, data={"csrf_token": csrf_of(page.text), "confirmed": "yes"})
        assert (closed.status_code, closed.headers["location"]) == (303, "/cities/lakeside")
        after = await browser.get("/cities/lakeside")
    assert "Under review" in after.text and "Close the submission" not in after.text
    closing = [
        e
        for e in await portal.api.store.read_stream(city_stream("lakeside"))
        if e.type == "EvidenceSubmissionClosed"
    ]
    assert len(closing) == 1
    assert closing[0].actor.role == "city" and closing[0].actor.id.startswith("per_"), "Ana, by her id"


async def test_a_form_without_its_token_closes_nothing(portal: Portal) -> None:
    await applied(portal, with_evidence=True)
    before = await recorded(portal)
    async with portal.visitor() as browser:
        await sign_in(portal, browser, "ana@lakeside.example")
        forged = await browser.post(CLOSE, data={"confirmed": "yes"})
    assert forged.status_code == 403
    assert await recorded(portal) == before


async def test_the_committee_sees_the_dashboard_but_may_not_close_the_submission(portal: Portal) -> None:
    await applied(portal, with_evidence=True)
    await portal.person("Carla Ruiz", "carla@programme.example", "en", role="committee")
    before = await recorded(portal)
    async with portal.visitor() as browser:
        await sign_in(portal, browser, "carla@programme.example")
        page = await browser.get("/cities/lakeside")
        assert page.status_code == 200 and "Close the submission" not in page.text
        refused = await browser.post(CLOSE, data={"csrf_token": csrf_of(page.text), "confirmed": "yes"})
    assert refused.status_code == 403
    assert "Only the city's own staff close its submission." in html.unescape(refused.text)
    assert await recorded(portal) == before


async def test_a_refusal_shows_in_the_persons_language(portal: Portal) -> None:
    # Given Lakeside applied with no evidence yet, and Lucía, its data lead, who reads Spanish
    await applied(portal, with_evidence=False)
    await portal.person("Lucía Méndez", "lucia@lakeside.example", "es", city_id="lakeside")
    before = await recorded(portal)
    async with portal.visitor() as browser:
        await sign_in(portal, browser, "lucia@lakeside.example")
        page = await browser.get("/cities/lakeside")
        # When she closes the submission (the city's workflow refuses it)
        answer = await browser.post(CLOSE, data={"csrf_token": csrf_of(page.text), "confirmed": "yes"})
    # Then the domain's reason shows in Spanish, all of it, not marked as English; nothing is recorded
    assert answer.status_code == 409
    said = html.unescape(answer.text)
    assert '<html lang="es">' in said
    assert (
        "lakeside está en la fase «Reuniendo evidencia»: aún no se ha presentado ninguna evidencia; presente "
        "primero al menos un criterio (posible ahora: presentar evidencia, " in said
    )
    assert "no evidence has been submitted yet" not in said
    assert "<p>lakeside está en la fase" in said  # not marked as another language than the page's
    assert await recorded(portal) == before


async def test_a_refusal_with_no_translation_shows_in_english_marked_so(portal: Portal) -> None:
    # Given the same refusal for a person who reads Portuguese, and a catalog without that template
    await applied(portal, with_evidence=False)
    await portal.person("João Silva", "joao@lakeside.example", "pt", city_id="lakeside")
    catalog = translations("pt")
    template = "no evidence has been submitted yet; submit at least one criterion first"
    saved = catalog._catalog.pop(template)  # type: ignore[attr-defined]
    try:
        async with portal.visitor() as browser:
            await sign_in(portal, browser, "joao@lakeside.example")
            page = await browser.get("/cities/lakeside")
            answer = await browser.post(CLOSE, data={"csrf_token": csrf_of(page.text), "confirmed": "yes"})
    finally:
        catalog._catalog[template] = saved  # type: ignore[attr-defined]
    # Then the page is Portuguese, and the reason is the domain's English, marked as English
    assert answer.status_code == 409
    assert '<html lang="pt">' in answer.text
    assert '<p lang="en">lakeside is evidence: no evidence has been submitted yet' in html.unescape(
        answer.text
    )
