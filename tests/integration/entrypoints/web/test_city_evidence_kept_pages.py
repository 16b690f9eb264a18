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
    REJECTED,
    TEXT,
    decided_silver,
    lakeside_with_ana,
    signed_in_as_ana,
    text_of,
    types_recorded,
    walked,
)
from tests.scenarios import (
    CRITERIA,
    SILVER_SCORE,
    STANDARD,
    apply,
    assigned_and_declared,
    enough_items,
    evidence,
    review,
)

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


# --- an appeal's new evidence ----------------------------------------------------------------------


def appeal_field(page: str, criterion_id: str) -> str:
    """The number of the appeal form's fields for the criterion's new evidence."""
    found = re.search(rf'name="appeal_for_(\d+)" value="{re.escape(criterion_id)}"', page)
    assert found, f"the appeal form offers new evidence for {criterion_id}"
    return found[1]


async def test_an_appeal_brings_a_new_document_for_a_contested_criterion(portal: Portal) -> None:
    # Given the committee decided Silver with the criteria that would make Gold rejected
    await decided_silver(portal)
    contested = REJECTED[0]
    slots = get_standard(STANDARD).criterion(contested).required_documents
    slot = 1 if slots else 0
    async with portal.visitor() as browser:
        await signed_in_as_ana(portal, browser)
        page = await browser.get(f"{CITY}/decision")
        assert 'enctype="multipart/form-data"' in page.text
        n = appeal_field(page.text, contested)
        # When Ana appeals, contesting the rejected criteria, with a new document for one of them
        filed = await browser.post(
            f"{CITY}/decision/appeal",
            data={
                "csrf_token": csrf_of(page.text),
                "grounds": "The 2026 inventory answers the reviewer's reason",
                "criteria": REJECTED,
                f"appeal_for_{n}": contested,
                f"appeal_slot_{n}": str(slot),
            },
            files=[(f"appeal_file_{n}", ("inventory-2026.txt", b"the 2026 inventory\n", TEXT))],
        )
    # Then the document is uploaded and the appeal carries it as the criterion's evidence, in its slot
    assert (filed.status_code, filed.headers.get("location")) == (303, CITY), text_of(filed)
    events = await portal.api.store.read_stream(city_stream("lakeside"))
    assert [e.type for e in events[-2:]] == ["DocumentUploaded", "AppealFiled"]
    uploaded, appeal = events[-2].data, events[-1].data
    assert sorted(appeal["criteria"]) == sorted(REJECTED)
    (brought,) = appeal["evidence"]
    assert brought["criterion_id"] == contested
    new = [d for d in brought["documents"] if d.get("document_id") == uploaded["document_id"]]
    assert [(d["title"], d["slot"]) for d in new] == [("inventory-2026", slot or None)]
    # And the criterion's documents already submitted come with it, the new one in its slot's place
    submitted = [
        e.data for e in events if e.type == "EvidenceSubmitted" and e.data["criterion_id"] == contested
    ][-1]
    kept = [d for d in submitted["documents"] if not (slot and d["slot"] == slot)]
    assert [d for d in brought["documents"] if d not in new] == kept


async def test_new_evidence_for_a_criterion_not_contested_is_refused_in_words(portal: Portal) -> None:
    await decided_silver(portal)
    before = await types_recorded(portal)
    async with portal.visitor() as browser:
        await signed_in_as_ana(portal, browser)
        page = await browser.get(f"{CITY}/decision")
        n = appeal_field(page.text, REJECTED[0])
        # A document for a rejected criterion the appeal does not tick
        unticked = await browser.post(
            f"{CITY}/decision/appeal",
            data={
                "csrf_token": csrf_of(page.text),
                "grounds": "Reconsider",
                "criteria": REJECTED[1:],
                f"appeal_for_{n}": REJECTED[0],
            },
            files=[(f"appeal_file_{n}", ("inventory.txt", b"an inventory\n", TEXT))],
        )
        # A document for a criterion the reviewers approved, which the domain refuses to contest
        approved = await browser.post(
            f"{CITY}/decision/appeal",
            data={
                "csrf_token": csrf_of(page.text),
                "grounds": "Reconsider",
                "criteria": SILVER_SCORE[0],
                "appeal_for_1": SILVER_SCORE[0],
            },
            files=[("appeal_file_1", ("inventory.txt", b"an inventory\n", TEXT))],
        )
    assert unticked.status_code == 422 and "The appeal was not filed" in unticked.text
    assert f"New evidence was chosen for {REJECTED[0]}, which the appeal does not contest" in text_of(
        unticked
    )
    assert approved.status_code == 409 and "approved already" in text_of(approved)
    assert await types_recorded(portal) == before, "no document stored, no appeal recorded"


async def test_a_document_an_answer_brought_is_kept_when_the_criterion_comes_back(portal: Portal) -> None:
    # Given the reviewer asked about the criterion, Ana answered with a document, and it was rejected
    await lakeside_with_ana(portal)
    await walked(
        portal,
        [
            apply("2026-spring"),
            evidence([MOST_SLOTS]),
            *assigned_and_declared([MOST_SLOTS]),
            review(clarify=[MOST_SLOTS]),
        ],
    )
    async with portal.visitor() as browser:
        await signed_in_as_ana(portal, browser)
        page = await browser.get(PAGE)
        answered = await browser.post(
            f"{PAGE}/answer",
            data={"csrf_token": csrf_of(page.text), "answer": "The 2025 inventory", "attachment_slot": "0"},
            files=[("attachment1", ("inventory-2025.txt", b"the 2025 inventory\n", TEXT))],
        )
        assert answered.status_code == 303, text_of(answered)
        await walked(portal, [review(reject=[MOST_SLOTS])])
        events = await portal.api.store.read_stream(city_stream("lakeside"))
        attachment = next(e.data for e in reversed(events) if e.type == "DocumentUploaded")["document_id"]
        # When she submits the criterion again without choosing any document
        page = await browser.get(PAGE)
        assert f'value="{attachment}-0"' in page.text, "the answer's document is offered to keep"
        sent = await browser.post(
            f"{PAGE}/evidence",
            data={"csrf_token": csrf_of(page.text), "claim": [str(n) for n in enough_items(MOST_SLOTS)]},
        )
    # Then the new submission holds the answer's document beside the first submission's
    assert sent.status_code == 303, text_of(sent)
    second = await latest_evidence(portal)
    assert second["submission"] == 2
    assert attachment in [d.get("document_id") for d in second["documents"]]  # type: ignore[union-attr]
    assert len(second["documents"]) == len((await latest_evidence_of(portal, 1))["documents"]) + 1  # type: ignore[arg-type]


async def latest_evidence_of(portal: Portal, submission: int) -> dict[str, object]:
    events = await portal.api.store.read_stream(city_stream("lakeside"))
    return next(
        e.data for e in events if e.type == "EvidenceSubmitted" and e.data["submission"] == submission
    )
