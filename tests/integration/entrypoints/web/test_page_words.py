"""The pages say what is wrong in the person's language: a form the command's validation refuses
is answered in the page's words (never pydantic's English), and the application's own refusals are
translated as the domain's are. Criteria are taken from the standard, never written out."""

from __future__ import annotations

import html
import re

import httpx

from tests.integration.entrypoints.web.conftest import Portal, csrf_of
from tests.integration.entrypoints.web.test_operator_pages import operator
from tests.integration.entrypoints.web.test_reviewer_pages import (
    FIRST,
    criterion_path,
    given_assigned,
    recorded,
    signed_in_as_rosa,
)
from tests.scenarios import declare_no_conflict


def summary_of(page: httpx.Response) -> str:
    """The page's error summary, as written."""
    start = page.text.index('class="error-summary"')
    return page.text[start : page.text.index("</div>", start)]


async def test_a_question_without_its_note_is_refused_in_spanish_on_a_spanish_page(portal: Portal) -> None:
    await given_assigned(portal, declare_no_conflict)
    before = await recorded(portal)
    async with portal.visitor() as browser:
        await signed_in_as_rosa(portal, browser)
        page = await browser.get(f"{criterion_path(FIRST)}?lang=es")
        mute = await browser.post(
            criterion_path(FIRST), data={"csrf_token": csrf_of(page.text), "decision": "ask"}
        )
    text = html.unescape(mute.text)
    assert mute.status_code == 422
    assert "<p>Escriba una nota que diga qué debe aclarar la ciudad.</p>" in text
    assert "needs a note" not in text and "Value error" not in text
    assert await recorded(portal) == before


async def test_the_operators_forms_say_the_field_and_the_applications_refusal_in_portuguese(
    portal: Portal,
) -> None:
    async with portal.visitor() as browser:
        token = await operator(portal, browser)
        await browser.get("/operator/people?lang=pt")
        typed = {"name": "Alguém", "language": "pt", "csrf_token": token}
        malformed = await browser.post("/operator/people", data={**typed, "role": "operator", "email": "x"})
        cityless = await browser.post("/operator/people", data={**typed, "role": "city", "email": "a@b.org"})
        unknown = await browser.post(
            "/operator/people",
            data={**typed, "role": "city", "email": "alguem@example.org", "city_id": "nowhere"},
        )
    assert malformed.status_code == 422
    summary = html.unescape(summary_of(malformed))
    assert re.search(r'<ul>\s*<li><a href="#email">Endereço de e-mail: [^<]+</a></li>', summary)
    assert cityless.status_code == 422
    assert "Informe a cidade: aquela em que a equipe da cidade trabalha" in html.unescape(
        summary_of(cityless)
    )
    assert unknown.status_code == 422
    assert "nenhuma cidade 'nowhere' está registrada; registre-a antes de adicionar sua equipe" in (
        html.unescape(unknown.text)
    )
    assert 'lang="en"' not in summary_of(unknown)
