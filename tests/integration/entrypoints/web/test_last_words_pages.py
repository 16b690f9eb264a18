"""The words that were the last English on the pages, now in the page's language: why a criterion
cannot earn its point and what an approval would fall short on (a reviewer's worksheet), a ZIP file
that cannot be read (a city's evidence), a token the operators' page cannot create, and why an
automatic assignment finds nobody for an area (the operator's city page, which now offers it).
Criteria are taken from the standard, never written out."""

from __future__ import annotations

import html
import re

import httpx

from domain import Actor
from domain import commands as cmd
from domain import events as ev
from domain.standard import get_standard
from readmodel import city_stream
from tests.integration.entrypoints.http.test_reviewers import IN_AREA, in_review, reviewer
from tests.integration.entrypoints.http.test_reviewers import STANDARD as REVIEWED
from tests.integration.entrypoints.web.conftest import Portal, csrf_of
from tests.integration.entrypoints.web.test_city_staff_pages import (
    CITY,
    lakeside_with_ana,
    signed_in_as_ana,
    types_recorded,
    walked,
)
from tests.integration.entrypoints.web.test_operator_pages import operator
from tests.integration.entrypoints.web.test_reviewer_pages import (
    ROSA,
    criterion_path,
    signed_in_as_rosa,
)
from tests.scenarios import (
    CITY_STAFF,
    CRITERIA,
    STANDARD,
    Step,
    apply,
    assign,
    declare_no_conflict,
    slotted_documents,
)


def words_of(page: httpx.Response) -> str:
    return html.unescape(re.sub(r"\s+", " ", page.text))


def claiming_nothing(criterion_id: str) -> Step:
    """Evidence with every required document in its slot and no checklist item claimed."""
    item = cmd.EvidenceItem(criterion_id=criterion_id, documents=slotted_documents(criterion_id), claims=[])
    return Step(cmd.SubmitEvidence(items=[item]), CITY_STAFF, [ev.EvidenceSubmitted])


async def test_the_worksheet_says_its_prerequisite_and_shortfall_in_spanish(portal: Portal) -> None:
    # Given a criterion whose prerequisite is not approved, submitted with no checklist item claimed
    standard = get_standard(STANDARD)
    blocked = next(c for c in standard.criteria if c.prerequisites and c.checklist.min_met)
    prerequisite = blocked.prerequisites[0]
    await portal.api.register("lakeside")
    rosa = await portal.person("Rosa Vidal", ROSA, "en", role="reviewer", city_id="riverton")
    reviewer = Actor(role="reviewer", id=rosa)
    steps = [apply("2026-spring"), claiming_nothing(blocked.id), assign([blocked.id], reviewer)]
    await walked(portal, [*steps, declare_no_conflict(reviewer)])
    async with portal.visitor() as browser:
        await signed_in_as_rosa(portal, browser)
        # When the reviewer reads its worksheet in Spanish
        page = await browser.get(f"{criterion_path(blocked.id)}?lang=es")
    # Then why it cannot earn its point, and what an approval would fall short on, are in Spanish
    assert page.status_code == 200
    words = words_of(page)
    assert f"no puede obtener su punto: el requisito previo {prerequisite} no está aprobado" in words
    assert (
        f"{blocked.id} necesita {blocked.checklist.min_met} de los {len(blocked.checklist.items)} elementos "
        "de su lista de verificación; no se encontró cumplido ninguno"
    ) in words
    assert "cannot earn its point" not in words and "checklist items" not in words
    shortfalls = page.text[page.text.index('aria-labelledby="shortfalls"') :]
    assert 'lang="en"' not in shortfalls[: shortfalls.index("</ul>")]


async def test_a_zip_that_cannot_be_read_is_refused_in_portuguese(portal: Portal) -> None:
    # Given Lakeside gathering evidence, and Ana on a criterion's page in Portuguese
    await lakeside_with_ana(portal)
    await walked(portal, [apply("2026-spring")])
    criterion_id = CRITERIA[0]
    before = await types_recorded(portal)
    async with portal.visitor() as browser:
        await signed_in_as_ana(portal, browser)
        page = await browser.get(f"{CITY}/criteria/{criterion_id}?lang=pt")
        # When she uploads a file that starts as a ZIP archive but is none
        files = [("slot_0", ("pack.zip", b"PK\x03\x04 and nothing an archive holds", "application/zip"))]
        refused = await browser.post(
            f"{CITY}/criteria/{criterion_id}/evidence", data={"csrf_token": csrf_of(page.text)}, files=files
        )
    # Then the page says so in Portuguese, zipfile's English words left out, and nothing is recorded
    assert refused.status_code == 415
    words = words_of(refused)
    assert (
        "o arquivo começa como um arquivo ZIP, mas não pode ser lido como tal (está danificado ou incompleto)"
        in (words)
    )
    assert "File is not a zip file" not in words
    assert await types_recorded(portal) == before


async def test_a_token_the_page_cannot_create_is_refused_in_spanish_naming_the_pages_field(
    portal: Portal,
) -> None:
    async with portal.visitor() as browser:
        token = await operator(portal, browser)
        await browser.get("/operator/tokens?lang=es")
        # A committee member's token given a city, and a city's token given none
        bound = await browser.post(
            "/operator/tokens", data={"role": "committee", "city_id": "lakeside", "csrf_token": token}
        )
        cityless = await browser.post("/operator/tokens", data={"role": "city", "csrf_token": token})
    assert bound.status_code == 422
    assert (
        "un token para miembro del comité no está vinculado a una ciudad: deje vacío el campo Ciudad"
        in words_of(bound)
    )
    assert cityless.status_code == 422
    assert "un token para personal de la ciudad necesita su ciudad: indíquela en el campo Ciudad" in words_of(
        cityless
    )
    summary = cityless.text[cityless.text.index('class="error-summary"') :]
    assert 'lang="en"' not in summary[: summary.index("</div>")] and "--city" not in summary


async def test_an_automatic_assignment_nobody_can_take_is_refused_in_spanish_and_one_is_recorded(
    portal: Portal,
) -> None:
    # Given Lakeside's evidence for two criteria of an area, and a reviewer with room for one
    await in_review(portal.api, IN_AREA)
    area = REVIEWED.criterion(IN_AREA[0]).practice_area
    small = await reviewer(portal.api, "gi", "riverton", capacity=1)
    async with portal.visitor() as browser:
        token = await operator(portal, browser)
        await browser.get("/operator/cities/lakeside?lang=es")
        # When the operator asks for an automatic assignment on the city's page
        refused = await browser.post(
            "/operator/cities/lakeside/automatic-assignment", data={"csrf_token": token}
        )
        # Then the plan's reason is said in Spanish, and nothing is assigned
        assert refused.status_code == 409
        summary = refused.text[refused.text.index('class="error-summary"') :]
        summary = html.unescape(summary[: summary.index("</div>")])
        assert (
            f"nadie puede encargarse de {area} de lakeside: {small} tiene 0 criterios abiertos con una "
            "capacidad de 1: no le caben 2 más"
        ) in summary
        assert 'lang="en"' not in summary
        assert "ReviewerAssigned" not in await types_recorded(portal)
        # And once a reviewer with room is registered, the same button assigns the area
        roomy = await reviewer(portal.api, "ha", "riverton")
        done = await browser.post(
            "/operator/cities/lakeside/automatic-assignment", data={"csrf_token": token}
        )
        shown = await browser.get(done.headers["location"])
    assert done.status_code == 303 and "La asignación quedó registrada." in shown.text
    assigned = [
        e for e in await portal.api.store.read_stream(city_stream("lakeside")) if e.type == "ReviewerAssigned"
    ]
    assert {e.data["criterion_id"] for e in assigned} == set(IN_AREA)
    assert {e.data["reviewer_id"] for e in assigned} == {roomy}
