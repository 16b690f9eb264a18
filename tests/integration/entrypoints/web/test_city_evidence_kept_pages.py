"""A city's new submission of a criterion after a question or a rejection keeps the documents already
in its slots: the page shows them, each may be removed or another chosen in its place, and the
command names the ones kept (an upload by its id, a link as given) beside the new ones. An appeal
filed from the decision's page brings new evidence for the criteria it contests."""

from __future__ import annotations

import re

import httpx

from domain.standard import get_standard
from readmodel import city_stream
from readmodel.worksheet import city_worksheet
from tests.integration.entrypoints.web.conftest import Portal, csrf_of
from tests.integration.entrypoints.web.test_city_staff_pages import (
    CITY,
    TEXT,
    lakeside_with_ana,
    signed_in_as_ana,
    text_of,
    types_recorded,
    walked,
)
from tests.scenarios import CRITERIA, STANDARD, apply, assigned_and_declared, enough_items, evidence, review

# The criterion asking for the most documents: keeping some slots while replacing another shows.
MOST_SLOTS = max(CRITERIA, key=lambda c: len(get_standard(STANDARD).criterion(c).required_documents))
SLOTS = len(get_standard(STANDARD).criterion(MOST_SLOTS).required_documents)
PAGE = f"{CITY}/criteria/{MOST_SLOTS}"


async def submitted_on_the_page(portal: Portal, browser: httpx.AsyncClient) -> None:
    """Ana uploads a document into each slot of the criterion, and a supporting one."""
    page = await browser.get(PAGE)
    files = [
        (f"slot_{n}", (f"inventory-{n}.txt", f"document {n}\n".encode(), TEXT)) for n in range(SLOTS + 1)
    ]
    data = {"csrf_token": csrf_of(page.text), "claim": [str(n) for n in enough_items(MOST_SLOTS)]}
    sent = await browser.post(f"{PAGE}/evidence", data=data, files=files)
    assert sent.status_code == 303, text_of(sent)


async def latest_evidence(portal: Portal) -> dict[str, object]:
    events = await portal.api.store.read_stream(city_stream("lakeside"))
    return next(e.data for e in reversed(events) if e.type == "EvidenceSubmitted")


async def test_a_rejected_criterion_is_submitted_again_keeping_the_documents_in_its_slots(
    portal: Portal,
) -> None:
    assert SLOTS >= 1
    # Given Ana uploaded the criterion's documents, and the reviewer rejected it
    await lakeside_with_ana(portal)
    await walked(portal, [apply("2026-spring")])
    async with portal.visitor() as browser:
        await signed_in_as_ana(portal, browser)
        await submitted_on_the_page(portal, browser)
        await walked(portal, [*assigned_and_declared([MOST_SLOTS]), review(reject=[MOST_SLOTS])])
        first = await latest_evidence(portal)
        by_slot = {d["slot"]: d["document_id"] for d in first["documents"]}  # type: ignore[index,union-attr]
        # When she opens the criterion, then each document is shown already in its slot, removable
        page = await browser.get(PAGE)
        assert "Rejected" in page.text
        assert "The documents already here stay in the new submission" in page.text
        for n in range(1, SLOTS + 1):
            assert f'value="{by_slot[n]}-{n}"' in page.text and f"Remove inventory-{n}" in page.text
        assert "Replace it with another document (optional)" in page.text
        # When she replaces the first slot's document, removes the supporting one and submits again
        uploaded_before = (await types_recorded(portal)).count("DocumentUploaded")
        sent = await browser.post(
            f"{PAGE}/evidence",
            data={
                "csrf_token": csrf_of(page.text),
                "claim": [str(n) for n in enough_items(MOST_SLOTS)],
                "remove": f"{by_slot[None]}-0",
            },
            files=[("slot_1", ("inventory-2026.txt", b"the 2026 inventory\n", TEXT))],
        )
        assert sent.status_code == 303, text_of(sent)
    # Then only the new document was uploaded, and the second submission holds it in the first slot
    # beside the documents kept in the others, the supporting one gone
    recorded = await types_recorded(portal)
    assert recorded.count("DocumentUploaded") == uploaded_before + 1 and recorded[-1] == "EvidenceSubmitted"
    second = await latest_evidence(portal)
    assert second["submission"] == 2
    slots = {d["slot"]: (d["document_id"], d["title"]) for d in second["documents"]}  # type: ignore[union-attr,index]
    assert set(slots) == set(range(1, SLOTS + 1)), "every slot filled, no supporting document"
    assert slots[1][1] == "inventory-2026" and slots[1][0] != by_slot[1]
    assert all(slots[n][0] == by_slot[n] for n in range(2, SLOTS + 1)), "the others kept as they were"
    sheet = await city_worksheet(portal.api.store, "lakeside")
    assert sheet is not None
    assert all(
        s.filled for s in next(c for c in sheet.criteria if c.criterion_id == MOST_SLOTS).required_documents
    )


async def test_links_given_through_the_api_are_kept_as_given(portal: Portal) -> None:
    # Given the criterion's evidence came as links through the JSON API, and was rejected
    await lakeside_with_ana(portal)
    await walked(
        portal,
        [
            apply("2026-spring"),
            evidence([MOST_SLOTS]),
            *assigned_and_declared([MOST_SLOTS]),
            review(reject=[MOST_SLOTS]),
        ],
    )
    first = await latest_evidence(portal)
    async with portal.visitor() as browser:
        await signed_in_as_ana(portal, browser)
        page = await browser.get(PAGE)
        # When she submits again with nothing new, only a narrative
        sent = await browser.post(
            f"{PAGE}/evidence",
            data={
                "csrf_token": csrf_of(page.text),
                "claim": [str(n) for n in enough_items(MOST_SLOTS)],
                "narrative": "The same documents: the inventory is the current one",
            },
        )
    # Then the new submission holds the same links in the same slots
    assert sent.status_code == 303, text_of(sent)
    second = await latest_evidence(portal)
    assert second["submission"] == 2
    links = sorted((d["slot"] or 0, d["url"]) for d in first["documents"])  # type: ignore[union-attr,index]
    assert sorted((d["slot"] or 0, d["url"]) for d in second["documents"]) == links  # type: ignore[union-attr,index]


async def test_removing_every_document_is_refused_in_words_and_records_nothing(portal: Portal) -> None:
    await lakeside_with_ana(portal)
    await walked(
        portal,
        [
            apply("2026-spring"),
            evidence([MOST_SLOTS]),
            *assigned_and_declared([MOST_SLOTS]),
            review(reject=[MOST_SLOTS]),
        ],
    )
    before = await types_recorded(portal)
    async with portal.visitor() as browser:
        await signed_in_as_ana(portal, browser)
        page = await browser.get(PAGE)
        keys = sorted(set(re.findall(r'name="remove" value="([^"]+)"', page.text)))
        assert keys, "the documents in place are offered for removal"
        refused = await browser.post(
            f"{PAGE}/evidence", data={"csrf_token": csrf_of(page.text), "remove": keys}
        )
    assert refused.status_code == 422 and "Choose at least one document to upload." in refused.text
    assert all(f'value="{k}" checked' in refused.text for k in keys), "her choices are kept"
    assert await types_recorded(portal) == before
