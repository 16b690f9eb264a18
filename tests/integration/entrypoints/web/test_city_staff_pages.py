"""A city's pages beyond the dashboard, for its staff: applying to an open round, the criteria board,
a criterion's evidence uploaded into its slots, the answer to a reviewer's question, the decision
accepted or appealed, and the certificate. Each action is the JSON API's command through the same
application layer; refused, the page says the domain's reason and nothing is recorded; another
city's staff, and the programme's people on the actions, are refused in words."""

from __future__ import annotations

import html
from datetime import date

import httpx

from app.rounds import create_round
from domain import Actor, Level
from domain.rounds import CreateRound
from domain.standard import get_standard
from readmodel import city_state, city_stream
from readmodel.worksheet import city_worksheet
from tests.integration.entrypoints.http.scenario_runner import HttpRunner
from tests.integration.entrypoints.web.conftest import Portal, csrf_of, sign_in
from tests.scenarios import (
    CRITERIA,
    GOLD_SCORE,
    SILVER_SCORE,
    STANDARD,
    apply,
    assigned_and_declared,
    close,
    decide,
    enough_items,
    evidence,
    review,
    round_record,
    signed_off_if_needed,
    waive_visit,
)

CITY = "/cities/lakeside"
ASKED = CRITERIA[:1]
TEXT = "text/plain"


async def lakeside_with_ana(portal: Portal) -> None:
    await portal.api.register("lakeside")
    await portal.person("Ana Lima", "ana@lakeside.example", "en", city_id="lakeside")


async def walked(portal: Portal, steps: list[object]) -> None:
    assert await HttpRunner(portal.api).walk("lakeside", steps) == []  # type: ignore[arg-type]


async def types_recorded(portal: Portal) -> list[str]:
    return [e.type for e in await portal.api.store.read_stream(city_stream("lakeside"))]


async def signed_in_as_ana(portal: Portal, browser: httpx.AsyncClient) -> None:
    await sign_in(portal, browser, "ana@lakeside.example")


def text_of(page: httpx.Response) -> str:
    return html.unescape(page.text)


# --- applying ---------------------------------------------------------------------------------------


async def test_city_staff_apply_to_the_open_round(portal: Portal) -> None:
    # Given Lakeside registered, a round open today, and Ana signed in
    await lakeside_with_ana(portal)
    await portal.api.open_round("2026-spring")
    async with portal.visitor() as browser:
        await signed_in_as_ana(portal, browser)
        form = await browser.get(f"{CITY}/apply")
        assert form.status_code == 200 and "2026-spring" in form.text
        # When she applies to it under the standard
        applied = await browser.post(
            f"{CITY}/apply",
            data={"csrf_token": csrf_of(form.text), "round_id": "2026-spring", "standard_version": STANDARD},
        )
    # Then the application is recorded, by her, and she is back on the dashboard
    assert (applied.status_code, applied.headers["location"]) == (303, CITY)
    assert "ApplicationSubmitted" in await types_recorded(portal)


async def test_a_closed_round_is_refused_in_the_domains_words(portal: Portal) -> None:
    await lakeside_with_ana(portal)
    closed = CreateRound(
        round_id="2020-spring",
        name="Spring 2020",
        opens_on=date(2020, 1, 1),
        closes_on=date(2020, 2, 1),
        submission_deadline=date(2020, 3, 1),
        announcement_on=date(2020, 4, 1),
        review_capacity=10,
    )
    await create_round(portal.api.store, closed, Actor(role="operator", id="op-1"), may_overlap=True)
    before = await types_recorded(portal)
    async with portal.visitor() as browser:
        await signed_in_as_ana(portal, browser)
        form = await browser.get(f"{CITY}/apply")
        assert "No round is open for applications today." in form.text  # the closed one is not offered
        refused = await browser.post(
            f"{CITY}/apply",
            data={"csrf_token": csrf_of(form.text), "round_id": "2020-spring", "standard_version": STANDARD},
        )
        unchosen = await browser.post(
            f"{CITY}/apply", data={"csrf_token": csrf_of(form.text), "standard_version": STANDARD}
        )
    assert refused.status_code == 409
    assert "The application was not recorded" in refused.text
    assert "round 2020-spring closed for applications on 2020-02-01" in refused.text
    assert unchosen.status_code == 422 and "Choose the round to apply to." in unchosen.text
    assert await types_recorded(portal) == before


async def test_a_full_round_is_refused_in_words_on_the_apply_page(portal: Portal) -> None:
    # Given a round open today whose one place Harbor has taken
    await lakeside_with_ana(portal)
    await create_round(
        portal.api.store, round_record("2026-spring", capacity=1), Actor(role="operator", id="op-1")
    )
    await portal.api.register("harbor")
    assert await HttpRunner(portal.api).walk("harbor", [apply("2026-spring")]) == []
    before = await types_recorded(portal)
    async with portal.visitor() as browser:
        await signed_in_as_ana(portal, browser)
        # When Ana applies to it
        form = await browser.get(f"{CITY}/apply")
        refused = await browser.post(
            f"{CITY}/apply",
            data={"csrf_token": csrf_of(form.text), "round_id": "2026-spring", "standard_version": STANDARD},
        )
    # Then the page says the round is full and what she can do, and nothing is recorded
    assert refused.status_code == 409
    assert "The application was not recorded" in refused.text
    assert "round 2026-spring is full (applications: 1; its review capacity: 1)" in text_of(refused)
    assert "ask an operator to raise its capacity" in text_of(refused)
    assert await types_recorded(portal) == before


# --- the criteria board, evidence and answers ---------------------------------------------------


async def test_the_criteria_board_shows_each_status_question_and_due_date(portal: Portal) -> None:
    # Given Lakeside applied, one criterion's evidence under a reviewer's question
    await lakeside_with_ana(portal)
    await walked(
        portal, [apply("2026-spring"), evidence(ASKED), *assigned_and_declared(ASKED), review(clarify=ASKED)]
    )
    async with portal.visitor() as browser:
        await signed_in_as_ana(portal, browser)
        board = await browser.get(f"{CITY}/criteria")
    # Then every practice area is a section, the asked criterion shows the question, others no evidence
    assert board.status_code == 200
    standard = get_standard(STANDARD)
    for area in standard.practice_areas:
        assert area.name in text_of(board)
    assert "Question from the reviewer" in board.text and "Which year?" in board.text
    assert f'href="{CITY}/criteria/{ASKED[0]}"' in board.text
    assert "No evidence yet" in board.text
    assert "The evidence is due by" in board.text


async def test_evidence_is_uploaded_into_the_slots_with_the_checklist_claimed(portal: Portal) -> None:
    # Given Lakeside applied and Ana on a criterion's page
    await lakeside_with_ana(portal)
    await walked(portal, [apply("2026-spring")])
    criterion_id = next(c for c in CRITERIA if get_standard(STANDARD).criterion(c).required_documents)
    slots = len(get_standard(STANDARD).criterion(criterion_id).required_documents)
    claims = enough_items(criterion_id)
    async with portal.visitor() as browser:
        await signed_in_as_ana(portal, browser)
        page = await browser.get(f"{CITY}/criteria/{criterion_id}")
        assert page.status_code == 200 and "Submit the evidence" in page.text
        # When she uploads a document into each slot and claims the checklist's k items
        files = [
            (f"slot_{n}", (f"inventory-{n}.txt", f"document {n}\n".encode(), TEXT))
            for n in range(1, slots + 1)
        ]
        data = {
            "csrf_token": csrf_of(page.text),
            "claim": [str(n) for n in claims],
            "narrative": "Our inventory",
        }
        sent = await browser.post(f"{CITY}/criteria/{criterion_id}/evidence", data=data, files=files)
        assert sent.status_code == 303, sent.text
        after = await browser.get(f"{CITY}/criteria/{criterion_id}")
    # Then each document is recorded and the evidence holds them in their slots, the items claimed
    recorded = await types_recorded(portal)
    assert recorded.count("DocumentUploaded") == slots and recorded[-1] == "EvidenceSubmitted"
    sheet = await city_worksheet(portal.api.store, "lakeside")
    assert sheet is not None
    found = next(c for c in sheet.criteria if c.criterion_id == criterion_id)
    assert all(s.filled for s in found.required_documents)
    assert found.claimed == claims
    assert "Submitted, with the reviewer" in after.text and "inventory-1" in after.text
    # And each document is hers to download from the page
    first = found.required_documents[0].documents[0]
    link = f"{CITY}/documents/{first.document_id}"
    assert f'href="{link}"' in after.text
    async with portal.visitor() as browser:
        await signed_in_as_ana(portal, browser)
        downloaded = await browser.get(link)
        unknown = await browser.get(f"{CITY}/documents/{'0' * 32}")
    assert (downloaded.status_code, downloaded.content) == (200, b"document 1\n")
    assert downloaded.headers["content-disposition"].startswith("attachment;")
    assert unknown.status_code == 404


async def test_evidence_the_domain_refuses_stores_no_document(portal: Portal) -> None:
    await lakeside_with_ana(portal)
    await walked(portal, [apply("2026-spring")])
    criterion_id = CRITERIA[0]
    beyond = len(get_standard(STANDARD).criterion(criterion_id).checklist.items) + 1
    before = await types_recorded(portal)
    async with portal.visitor() as browser:
        await signed_in_as_ana(portal, browser)
        page = await browser.get(f"{CITY}/criteria/{criterion_id}")
        token = csrf_of(page.text)
        files = [("slot_0", ("pack.txt", b"a pack\n", TEXT))]
        # A checklist item the criterion does not have
        wrong = await browser.post(
            f"{CITY}/criteria/{criterion_id}/evidence",
            data={"csrf_token": token, "claim": str(beyond), "narrative": "Our 2025 pack"},
            files=files,
        )
        # No document at all
        empty = await browser.post(f"{CITY}/criteria/{criterion_id}/evidence", data={"csrf_token": token})
        # No token
        forged = await browser.post(f"{CITY}/criteria/{criterion_id}/evidence", files=files)
    assert wrong.status_code == 422 and "The evidence was not submitted" in wrong.text
    assert f"item {beyond} does not exist" in wrong.text
    assert ">Our 2025 pack</textarea>" in wrong.text  # what she wrote is kept
    assert empty.status_code == 422 and "Choose at least one document to upload." in empty.text
    assert forged.status_code == 403
    assert await types_recorded(portal) == before


async def test_one_document_refused_leaves_none_of_the_others_recorded(portal: Portal) -> None:
    await lakeside_with_ana(portal)
    await walked(portal, [apply("2026-spring")])
    criterion_id = next(c for c in CRITERIA if get_standard(STANDARD).criterion(c).required_documents)
    before = await types_recorded(portal)
    async with portal.visitor() as browser:
        await signed_in_as_ana(portal, browser)
        page = await browser.get(f"{CITY}/criteria/{criterion_id}")
        # A good supporting document, and a program in the first slot (stored after it, were it not checked)
        files = [
            ("slot_0", ("pack.txt", b"a pack\n", TEXT)),
            ("slot_1", ("setup.exe", b"MZ\x90\x00" + bytes(60), "application/octet-stream")),
        ]
        refused = await browser.post(
            f"{CITY}/criteria/{criterion_id}/evidence", data={"csrf_token": csrf_of(page.text)}, files=files
        )
    assert refused.status_code == 415
    assert "setup.exe: not accepted" in text_of(refused) and "Windows executable" in text_of(refused)
    assert await types_recorded(portal) == before


async def test_a_document_larger_than_a_forms_body_may_be_is_uploaded(portal: Portal) -> None:
    # A page's body is capped far below a document's allowance: the evidence form has the upload's cap
    await lakeside_with_ana(portal)
    await walked(portal, [apply("2026-spring")])
    criterion_id = CRITERIA[0]
    large = b"a line of the inventory\n" * 70_000  # about 1.7 MB
    async with portal.visitor() as browser:
        await signed_in_as_ana(portal, browser)
        page = await browser.get(f"{CITY}/criteria/{criterion_id}")
        sent = await browser.post(
            f"{CITY}/criteria/{criterion_id}/evidence",
            data={"csrf_token": csrf_of(page.text)},
            files=[("slot_0", ("inventory.txt", large, TEXT))],
        )
    assert sent.status_code == 303, sent.text
    assert (await types_recorded(portal))[-2:] == ["DocumentUploaded", "EvidenceSubmitted"]


async def test_a_question_is_answered_with_an_attachment(portal: Portal) -> None:
    await lakeside_with_ana(portal)
    await walked(
        portal, [apply("2026-spring"), evidence(ASKED), *assigned_and_declared(ASKED), review(clarify=ASKED)]
    )
    async with portal.visitor() as browser:
        await signed_in_as_ana(portal, browser)
        page = await browser.get(f"{CITY}/criteria/{ASKED[0]}")
        assert "Which year?" in page.text and "Send the answer" in page.text
        token = csrf_of(page.text)
        blank = await browser.post(
            f"{CITY}/criteria/{ASKED[0]}/answer", data={"csrf_token": token, "answer": " "}
        )
        sent = await browser.post(
            f"{CITY}/criteria/{ASKED[0]}/answer",
            data={"csrf_token": token, "answer": "The 2025 inventory", "attachment_slot": "0"},
            files=[("attachment1", ("inventory-2025.txt", b"the 2025 inventory\n", TEXT))],
        )
    assert blank.status_code == 422 and "Write the answer to the reviewer's question." in text_of(blank)
    assert sent.status_code == 303, sent.text
    events = await portal.api.store.read_stream(city_stream("lakeside"))
    assert [e.type for e in events[-2:]] == ["DocumentUploaded", "ClarificationAnswered"]
    assert events[-1].data["answer"] == "The 2025 inventory"
    assert [d["title"] for d in events[-1].data["documents"]] == ["inventory-2025"]


# --- the decision and the certificate -------------------------------------------------------------


# The criteria the reviewer rejected: approved on appeal, they would reach Gold.
REJECTED = GOLD_SCORE[len(SILVER_SCORE) :]


async def decided_silver(portal: Portal) -> None:
    """Silver decided, with the criteria that would make it Gold rejected (an appeal may contest them)."""
    await lakeside_with_ana(portal)
    sent = [*SILVER_SCORE, *REJECTED]
    await walked(
        portal,
        [
            apply("2026-spring"),
            evidence(sent),
            *assigned_and_declared(sent),
            review(approve=SILVER_SCORE, reject=REJECTED),
            close(),
            waive_visit(),
            *signed_off_if_needed(SILVER_SCORE),
            decide(Level.SILVER),
        ],
    )


async def test_the_decision_is_accepted_and_the_certificate_shown(portal: Portal) -> None:
    # Given the committee decided Silver
    await decided_silver(portal)
    async with portal.visitor() as browser:
        await signed_in_as_ana(portal, browser)
        page = await browser.get(f"{CITY}/decision")
        assert page.status_code == 200 and "Certified Silver" in page.text
        # When Ana accepts the decision
        accepted = await browser.post(f"{CITY}/decision/accept", data={"csrf_token": csrf_of(page.text)})
        assert (accepted.status_code, accepted.headers["location"]) == (303, f"{CITY}/certificate")
        certificate = await browser.get(f"{CITY}/certificate")
        # And a second acceptance is refused in the domain's words
        again = await browser.post(f"{CITY}/decision/accept", data={"csrf_token": csrf_of(page.text)})
    # Then the certification is awarded and its certificate shows its number, level and validity
    assert "CertificationAwarded" in await types_recorded(portal)
    state = await city_state(portal.api.store, "lakeside")
    assert state is not None and state.certification is not None
    number = state.certification.number
    assert number and number in certificate.text
    assert f'href="/certificates/{number}"' in certificate.text  # the public page
    assert f'href="/public/certificates/{number}"' in certificate.text  # the verification URL
    assert "Silver" in certificate.text and "Valid" in certificate.text and STANDARD in certificate.text
    assert again.status_code == 409 and "The decision was not accepted" in again.text


async def test_an_appeal_needs_its_grounds_and_is_filed(portal: Portal) -> None:
    await decided_silver(portal)
    async with portal.visitor() as browser:
        await signed_in_as_ana(portal, browser)
        page = await browser.get(f"{CITY}/decision")
        token = csrf_of(page.text)
        no_grounds = await browser.post(f"{CITY}/decision/appeal", data={"csrf_token": token, "grounds": ""})
        assert all(f'value="{c}"' in page.text for c in REJECTED)  # the rejected may be contested
        filed = await browser.post(
            f"{CITY}/decision/appeal",
            data={"csrf_token": token, "grounds": "The inventories are current", "criteria": REJECTED},
        )
    assert no_grounds.status_code == 422 and "Write the grounds of the appeal." in no_grounds.text
    assert filed.status_code == 303, html.unescape(filed.text).split("error-summary")[-1][:400]
    assert filed.headers["location"] == CITY
    events = await portal.api.store.read_stream(city_stream("lakeside"))
    assert events[-1].type == "AppealFiled" and sorted(events[-1].data["criteria"]) == sorted(REJECTED)


async def test_an_appeal_the_domain_refuses_says_why(portal: Portal) -> None:
    await decided_silver(portal)
    before = await types_recorded(portal)
    async with portal.visitor() as browser:
        await signed_in_as_ana(portal, browser)
        page = await browser.get(f"{CITY}/decision")
        # Contesting a criterion the reviewers approved
        refused = await browser.post(
            f"{CITY}/decision/appeal",
            data={"csrf_token": csrf_of(page.text), "grounds": "Reconsider", "criteria": SILVER_SCORE[0]},
        )
    assert refused.status_code in (409, 422), refused.text
    assert "The appeal was not filed" in refused.text and SILVER_SCORE[0] in refused.text
    assert 'name="grounds" rows="5">Reconsider</textarea>' in refused.text  # what she wrote is kept
    assert await types_recorded(portal) == before


async def test_with_htmx_the_refused_form_alone_comes_back_and_an_acceptance_moves_on(portal: Portal) -> None:
    await decided_silver(portal)
    htmx = {"HX-Request": "true"}
    async with portal.visitor() as browser:
        await signed_in_as_ana(portal, browser)
        page = await browser.get(f"{CITY}/decision")
        token = csrf_of(page.text)
        refused = await browser.post(
            f"{CITY}/decision/appeal", data={"csrf_token": token, "grounds": ""}, headers=htmx
        )
        accepted = await browser.post(f"{CITY}/decision/accept", data={"csrf_token": token}, headers=htmx)
    assert refused.status_code == 422
    assert refused.text.lstrip().startswith('<section id="appeal"')
    assert "<html" not in refused.text and "Write the grounds of the appeal." in refused.text
    assert (accepted.status_code, accepted.headers["hx-redirect"]) == (204, f"{CITY}/certificate")
    assert "CertificationAwarded" in await types_recorded(portal)


# --- who may see and act ---------------------------------------------------------------------------


async def test_another_citys_staff_are_refused_every_page_and_action(portal: Portal) -> None:
    await lakeside_with_ana(portal)
    await portal.api.register("riverton")
    await portal.person("Rui Costa", "rui@riverton.example", "pt", city_id="riverton")
    await portal.api.open_round("2026-spring")
    before = await types_recorded(portal)
    async with portal.visitor() as browser:
        await sign_in(portal, browser, "rui@riverton.example")
        own = await browser.get("/cities/riverton/apply")
        token = csrf_of(own.text)
        seen = [
            (await browser.get(f"{CITY}{page}")).status_code
            for page in (
                "/apply",
                "/criteria",
                f"/criteria/{CRITERIA[0]}",
                "/decision",
                "/certificate",
                f"/documents/{'0' * 32}",
            )
        ]
        applied = await browser.post(
            f"{CITY}/apply",
            data={"csrf_token": token, "round_id": "2026-spring", "standard_version": STANDARD},
        )
    assert seen == [403] * 6
    assert applied.status_code == 403
    assert "Você não pode ver as páginas desta cidade" in text_of(applied)  # in his language
    assert await types_recorded(portal) == before


async def test_the_committee_sees_the_decision_but_may_not_accept_it(portal: Portal) -> None:
    await decided_silver(portal)
    await portal.person("Carla Ruiz", "carla@programme.example", "en", role="committee")
    before = await types_recorded(portal)
    async with portal.visitor() as browser:
        await sign_in(portal, browser, "carla@programme.example")
        page = await browser.get(f"{CITY}/decision")
        assert page.status_code == 200 and "Certified Silver" in page.text
        assert "Accept the decision</button>" not in page.text
        refused = await browser.post(f"{CITY}/decision/accept", data={"csrf_token": csrf_of(page.text)})
    assert refused.status_code == 403
    assert "Only the city's own staff act on its pages." in text_of(refused)
    assert await types_recorded(portal) == before
