"""The pages say what is wrong in the person's language: a form the command's validation refuses
is answered in the page's words (never pydantic's English), and the application's own refusals are
translated as the domain's are. Criteria are taken from the standard, never written out."""

from __future__ import annotations

import html

from tests.integration.entrypoints.web.conftest import Portal, csrf_of
from tests.integration.entrypoints.web.test_reviewer_pages import (
    FIRST,
    criterion_path,
    given_assigned,
    recorded,
    signed_in_as_rosa,
)
from tests.scenarios import declare_no_conflict


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
