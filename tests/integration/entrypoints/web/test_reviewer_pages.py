"""A reviewer's pages: the queue soonest due first; the conflict-of-interest declaration before a
city's evidence opens (and a conflicted reviewer refused it); the worksheet of a criterion with its
checklist, documents and thread; approve, reject and ask, one criterion or several at once, each a
ReviewEvidence given through the command service; a refusal shows the domain's reason beside the
form and records nothing. Criteria are taken from the standard, never written out."""

from __future__ import annotations

import html
from urllib.parse import quote

import httpx

from domain import Actor
from domain.standard import get_standard
from readmodel import city_stream
from tests.integration.entrypoints.http.scenario_runner import HttpRunner
from tests.integration.entrypoints.http.test_documents import PDF
from tests.integration.entrypoints.web.conftest import Portal, csrf_of, sign_in
from tests.scenarios import (
    CRITERIA,
    STANDARD,
    apply,
    assign,
    declare_conflict,
    declare_no_conflict,
    enough_items,
    evidence,
    review,
)

FIRST, SECOND = CRITERIA[0], CRITERIA[1]
WORKSHEET = "/review/cities/lakeside"
ROSA = "rosa@partners.example"


def criterion_path(criterion_id: str) -> str:
    return f"{WORKSHEET}/criteria/{quote(criterion_id, safe='')}"


async def given_assigned(portal: Portal, *more: object, criteria: list[str] | None = None) -> Actor:
    """Lakeside applied and submitted complete evidence for two criteria, assigned to Rosa, a
    reviewer from Riverton; then the steps given."""
    chosen = criteria or [FIRST, SECOND]
    await portal.api.register("lakeside")
    rosa = await portal.person("Rosa Vidal", ROSA, "en", role="reviewer", city_id="riverton")
    reviewer = Actor(role="reviewer", id=rosa)
    steps = [apply("2026-spring"), evidence(chosen), assign(chosen, reviewer)]
    steps += [step(reviewer) for step in more]  # type: ignore[operator]
    assert await HttpRunner(portal.api).walk("lakeside", steps) == []
    return reviewer


async def recorded(portal: Portal) -> list[str]:
    return [e.type for e in await portal.api.store.read_stream(city_stream("lakeside"))]


async def signed_in_as_rosa(portal: Portal, browser: httpx.AsyncClient) -> None:
    home = await sign_in(portal, browser, ROSA)
    assert home.headers["location"] == "/home"
    assert (await browser.get("/home")).headers["location"] == "/review"


async def test_the_queue_lists_the_reviewers_criteria_by_city_soonest_due_first(portal: Portal) -> None:
    await given_assigned(portal)
    async with portal.visitor() as browser:
        await signed_in_as_rosa(portal, browser)
        page = await browser.get("/review")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "Your review queue" in text and "Lakeside" in text
    assert f">{FIRST} " in text and f">{SECOND} " in text
    assert "Declare for Lakeside" in text, "no declaration yet: the city's evidence is closed"
    assert text.count("Waiting for a reviewer's decision") == 2


async def test_the_evidence_opens_only_once_the_reviewer_declares_no_conflict(portal: Portal) -> None:
    await given_assigned(portal)
    async with portal.visitor() as browser:
        await signed_in_as_rosa(portal, browser)
        # Given no declaration, the city's page is the declaration and its criteria are closed
        page = await browser.get(WORKSHEET)
        assert page.status_code == 200 and "I have no conflict of interest" in page.text
        assert FIRST not in page.text
        closed = await browser.get(criterion_path(FIRST))
        assert (closed.status_code, closed.headers["location"]) == (303, WORKSHEET)
        # When she declares no conflict
        declared = await browser.post(f"{WORKSHEET}/no-conflict", data={"csrf_token": csrf_of(page.text)})
        assert (declared.status_code, declared.headers["location"]) == (303, WORKSHEET)
        sheet = await browser.get(WORKSHEET)
    # Then the worksheet lists the criteria submitted, and the declaration is recorded in her name
    assert "Criteria submitted" in sheet.text and f"{FIRST} " in html.unescape(sheet.text)
    assert (await recorded(portal)).count("NoConflictDeclared") == 1
    [event] = [
        e
        for e in await portal.api.store.read_stream(city_stream("lakeside"))
        if e.type == "NoConflictDeclared"
    ]
    assert event.actor.role == "reviewer" and event.actor.id.startswith("per_")


async def test_a_conflict_needs_a_reason_and_then_the_evidence_is_refused(portal: Portal) -> None:
    await given_assigned(portal)
    async with portal.visitor() as browser:
        await signed_in_as_rosa(portal, browser)
        page = await browser.get(WORKSHEET)
        token = csrf_of(page.text)
        blank = await browser.post(f"{WORKSHEET}/conflict", data={"csrf_token": token, "reason": " "})
        assert blank.status_code == 422 and "Say what the conflict of interest is" in blank.text
        assert "ConflictDeclared" not in await recorded(portal)
        declared = await browser.post(
            f"{WORKSHEET}/conflict", data={"csrf_token": token, "reason": "I advised its data office in 2025"}
        )
        assert (declared.status_code, declared.headers["location"]) == (303, "/review")
        refused = await browser.get(WORKSHEET)
        criterion = await browser.get(criterion_path(FIRST))
    assert refused.status_code == 403 and "You declared a conflict of interest with this city" in refused.text
    assert criterion.status_code == 403
    assert "ConflictDeclared" in await recorded(portal)


async def test_the_criterion_worksheet_shows_the_checklist_the_documents_and_the_thread(
    portal: Portal,
) -> None:
    await given_assigned(portal, declare_no_conflict, lambda r: review(clarify=[SECOND], reviewer=r))
    criterion = get_standard(STANDARD).criterion(SECOND)
    async with portal.visitor() as browser:
        await signed_in_as_rosa(portal, browser)
        page = await browser.get(criterion_path(SECOND))
    text = html.unescape(page.text)
    assert page.status_code == 200
    for item in criterion.checklist.items:
        assert item in text
    for title in criterion.required_documents:
        assert title[:40] in text
    assert "a link to another site" in text, "the documents given as links are links"
    assert "A reviewer asked, on" in text and "Which year?" in text
    assert "Waiting for the city's answer" in text and "Your decision" not in text


async def test_an_uploaded_document_opens_in_the_browser(portal: Portal) -> None:
    reviewer = await given_assigned(portal, declare_no_conflict)
    staff = await portal.api.city("lakeside")
    uploaded = await portal.api.http.post(
        "/v1/cities/lakeside/documents",
        headers=staff,
        files={"file": ("m.pdf", PDF, "application/pdf")},
        data={"title": "Signed minutes"},
    )
    assert uploaded.status_code == 201, uploaded.text
    document_id = uploaded.json()["document_id"]
    assert reviewer.id.startswith("per_")
    async with portal.visitor() as browser:
        await signed_in_as_rosa(portal, browser)
        shown = await browser.get(f"{WORKSHEET}/documents/{document_id}")
        unknown = await browser.get(f"{WORKSHEET}/documents/{'0' * 32}")
    assert shown.status_code == 200 and shown.content == PDF
    assert shown.headers["content-type"] == "application/pdf"
    assert shown.headers["content-disposition"].startswith("inline;")
    assert unknown.status_code == 404


async def test_documents_and_criteria_stay_closed_until_declared_and_an_unknown_criterion_is_404(
    portal: Portal,
) -> None:
    await given_assigned(portal)
    staff = await portal.api.city("lakeside")
    uploaded = await portal.api.http.post(
        "/v1/cities/lakeside/documents",
        headers=staff,
        files={"file": ("m.pdf", PDF, "application/pdf")},
        data={"title": "Signed minutes"},
    )
    document_id = uploaded.json()["document_id"]
    async with portal.visitor() as browser:
        await signed_in_as_rosa(portal, browser)
        closed = await browser.get(f"{WORKSHEET}/documents/{document_id}")
        assert closed.status_code == 403 and "Declare whether you have a conflict" in closed.text
        page = await browser.get(WORKSHEET)
        await browser.post(f"{WORKSHEET}/no-conflict", data={"csrf_token": csrf_of(page.text)})
        unknown = await browser.get(criterion_path(f"{FIRST}-none"))
        malformed = await browser.get(f"{WORKSHEET}/documents/..%2F..%2Fetc")
    assert unknown.status_code == 404 and "no criterion of that id" in unknown.text
    assert malformed.status_code == 404


async def test_an_approval_with_its_checklist_is_recorded_and_one_short_is_refused_saying_why(
    portal: Portal,
) -> None:
    await given_assigned(portal, declare_no_conflict)
    before = await recorded(portal)
    async with portal.visitor() as browser:
        await signed_in_as_rosa(portal, browser)
        page = await browser.get(criterion_path(FIRST))
        token = csrf_of(page.text)
        # An approval finding nothing met is refused with the domain's reason, nothing recorded
        short = await browser.post(criterion_path(FIRST), data={"csrf_token": token, "decision": "approve"})
        assert short.status_code == 409 and "No decision was recorded" in short.text
        assert "none were found met" in html.unescape(short.text)
        assert await recorded(portal) == before
        # With htmx, the form alone comes back with the reason
        partial = await browser.post(
            criterion_path(FIRST),
            data={"csrf_token": token, "decision": "approve"},
            headers={"HX-Request": "true"},
        )
        assert partial.status_code == 409 and partial.text.lstrip().startswith('<section id="decision"')
        # No decision chosen: asked in words
        undecided = await browser.post(criterion_path(FIRST), data={"csrf_token": token})
        assert undecided.status_code == 422 and "Choose a decision" in undecided.text
        # With the checklist items found met, it is recorded
        met = [str(n) for n in enough_items(FIRST)]
        approved = await browser.post(
            criterion_path(FIRST), data={"csrf_token": token, "decision": "approve", "checklist_met": met}
        )
        assert approved.status_code == 303
        after = await browser.get(approved.headers["location"])
    assert "Your decision on" in after.text and "Approved" in after.text
    events = await portal.api.store.read_stream(city_stream("lakeside"))
    [approval] = [e for e in events if e.type == "EvidenceApproved"]
    assert approval.data["checklist_met"] == enough_items(FIRST)


async def test_a_question_needs_a_note_and_several_items_are_decided_at_once(portal: Portal) -> None:
    await given_assigned(portal, declare_no_conflict)
    async with portal.visitor() as browser:
        await signed_in_as_rosa(portal, browser)
        page = await browser.get(WORKSHEET)
        token = csrf_of(page.text)
        nothing = await browser.post(f"{WORKSHEET}/reviews", data={"csrf_token": token, "decision": "reject"})
        assert nothing.status_code == 422 and "Choose at least one criterion" in nothing.text
        mute = await browser.post(
            f"{WORKSHEET}/reviews",
            data={"csrf_token": token, "decision": "ask", "criterion": [FIRST, SECOND]},
        )
        assert mute.status_code == 422 and "Write a note saying what the city should clarify." in mute.text
        asked = await browser.post(
            f"{WORKSHEET}/reviews",
            data={
                "csrf_token": token,
                "decision": "ask",
                "criterion": [FIRST, SECOND],
                "note": "Which year?",
            },
        )
        assert asked.status_code == 303
    kinds = await recorded(portal)
    assert kinds.count("ClarificationRequested") == 2


async def test_other_roles_and_the_home_city_are_refused_in_words(portal: Portal) -> None:
    await given_assigned(portal)
    await portal.person("Ana Lima", "ana@lakeside.example", "en", city_id="lakeside")
    await portal.person("Teo Ruiz", "teo@riverton.example", "en", role="reviewer", city_id="lakeside")
    async with portal.visitor() as staff:
        await sign_in(portal, staff, "ana@lakeside.example")
        queue = await staff.get("/review")
        sheet = await staff.get(WORKSHEET)
    assert queue.status_code == 403 and "Only the programme's reviewers" in html.unescape(queue.text)
    assert sheet.status_code == 403
    async with portal.visitor() as home:
        await sign_in(portal, home, "teo@riverton.example")
        refused = await home.get(WORKSHEET)
    assert refused.status_code == 403 and "never reviews the city they come from" in refused.text
    async with portal.visitor() as nobody:
        assert (await nobody.get("/review")).status_code == 401


async def test_a_form_without_its_token_records_nothing(portal: Portal) -> None:
    await given_assigned(portal)
    before = await recorded(portal)
    async with portal.visitor() as browser:
        await signed_in_as_rosa(portal, browser)
        answer = await browser.post(f"{WORKSHEET}/no-conflict", data={"csrf_token": "forged"})
    assert answer.status_code == 403
    assert await recorded(portal) == before


async def test_the_pages_speak_spanish(portal: Portal) -> None:
    await given_assigned(portal, declare_conflict)
    async with portal.visitor() as browser:
        await signed_in_as_rosa(portal, browser)
        queue = await browser.get("/review?lang=es")
        refused = await browser.get(WORKSHEET)
    assert "Su cola de revisión" in html.unescape(queue.text)
    assert refused.status_code == 403 and "conflicto de intereses" in html.unescape(refused.text)
