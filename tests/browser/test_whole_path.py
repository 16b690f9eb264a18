"""The whole path in one browser, every role in a context of its own: Ana of Lakeside's staff signs
in by the mailed link, applies to the open round, uploads a document into each of a criterion's
required slots with its checklist claimed and submits it; Omar, an operator, assigns Rosa the
practice areas; Rosa, a reviewer, declares no conflict, approves most of the worksheet at once and
asks about Ana's criterion; Ana answers with an attachment; Rosa approves it; Ana closes the
submission; Carla of the committee waives the site visit on its page and decides Silver on the
round board; Ana accepts the decision; and, the round announced, the public directory shows
Lakeside with its level, its page and its verified certificate. Riverton's staff member is refused
Lakeside's pages, and Rosa, having declared a conflict with Bayview, its worksheet. axe-core finds
nothing serious or critical on any page.

Seeded as a real programme would be before anyone signs in: the people, the round, the cities
registered. One step is given through the command service (the JSON API on the same app), marked
below: the evidence of the criteria beside Ana's, which a city uploads over weeks through the same
page as hers (tests/browser/test_city.py).
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from typing import Any

from playwright.async_api import Page, expect

from domain.standard import get_standard
from domain.worksheet import enough_items
from tests.browser.conftest import ServedPortal, check_accessibility, mailed_link
from tests.integration.entrypoints.http.scenario_runner import HttpRunner
from tests.integration.entrypoints.http.test_rounds import TemporalClock, a_round, days
from tests.scenarios import SILVER_SCORE, STANDARD, apply, evidence

ROUND, ROUND_NAME = "2026-fall", "Fall 2026"
STANDARD_ = get_standard(STANDARD)
# Ana's criterion, whose documents she uploads herself: one Silver needs that asks for documents.
OURS = next(c for c in SILVER_SCORE if STANDARD_.criterion(c).required_documents)
REST = [c for c in SILVER_SCORE if c != OURS]
AREAS = list(dict.fromkeys(STANDARD_.criterion(c).practice_area for c in SILVER_SCORE))
ANA, RUI = "ana@lakeside.example", "rui@riverton.example"
ROSA, OMAR, CARLA = "rosa@partners.example", "omar@programme.example", "carla@programme.example"


async def signed_in(page: Page, portal: ServedPortal, address: str, lands_on: str) -> None:
    """Signed in as a person does: the address typed, the link read from the SMTP server."""
    await page.goto(portal.url + "/")
    await page.get_by_label("E-mail address").fill(address)
    await page.get_by_role("button", name="Send me a sign-in link").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Check your e-mail")
    await page.goto(await mailed_link(portal, address))
    await expect(page).to_have_url(portal.url + lands_on)
    await check_accessibility(page)


async def test_the_whole_path_from_sign_in_to_the_public_directory(
    served: ServedPortal, open_page: Any
) -> None:
    # Given the programme's seeding: a round open today and announced in 20 days (the app on the
    # Temporal server's clock, as the awards), Lakeside, Riverton and Bayview registered, and a
    # person of each role; Bayview has applied
    api = served.api
    assert api.env is not None
    clock = TemporalClock(await api.env.get_current_time())
    served.app.state.services = replace(served.app.state.services, clock=clock)
    the_round = a_round(ROUND, ROUND_NAME, days(-10, 5, 6, 20, today=clock().date()))
    await api.post("/v1/rounds", await api.operator(), the_round, expect=201)
    for city_id in ("lakeside", "riverton", "bayview"):
        await api.register(city_id)
    await served.person("Ana Lima", ANA, "en", city_id="lakeside")
    await served.person("Rui Costa", RUI, "en", city_id="riverton")
    await served.person("Rosa Vidal", ROSA, "en", role="reviewer", city_id="riverton")
    await served.person("Omar Haddad", OMAR, "en", role="operator")
    await served.person("Carla Ruiz", CARLA, "en", role="committee")
    runner = HttpRunner(served.api, per_city_staff=True)
    assert await runner.walk("bayview", [apply(ROUND)]) == []

    # When Ana signs in by the mailed link and applies to the open round
    ana: Page = await open_page()
    await signed_in(ana, served, ANA, "/cities/lakeside")
    await ana.get_by_role("link", name="Apply for certification").click()
    await check_accessibility(ana)
    await ana.get_by_label(ROUND_NAME).check()
    await ana.get_by_label("Standard").select_option(STANDARD)
    await ana.get_by_role("button", name="Apply").click()
    await expect(ana).to_have_url(served.url + "/cities/lakeside")
    await expect(ana.locator("main")).to_contain_text("Gathering evidence")
    await check_accessibility(ana)

    # And uploads a document into each of her criterion's required slots, claims its checklist
    # and submits it
    await ana.get_by_role("link", name="Criteria").click()
    await check_accessibility(ana)
    await ana.get_by_role("link", name=re.compile(f"^{OURS} ")).click()
    await check_accessibility(ana)
    criterion = STANDARD_.criterion(OURS)
    for n in range(1, len(criterion.required_documents) + 1):
        upload = {"name": f"inventory-{n}.txt", "mimeType": "text/plain", "buffer": f"part {n}\n".encode()}
        await ana.locator(f"#slot_{n}").set_input_files(upload)
    for n in enough_items(criterion):
        await ana.locator(f"#claim-{n}").check()
    await ana.get_by_role("button", name="Submit the evidence").click()
    await expect(ana.locator(".summary")).to_contain_text("Submitted, with the reviewer")
    # (Through the command service: the evidence of the other criteria Silver needs, which the
    # city's staff upload through the same page over weeks.)
    assert await runner.walk("lakeside", [evidence(REST)]) == []

    # And Omar, an operator, assigns Rosa every practice area of the criteria submitted
    omar: Page = await open_page()
    await signed_in(omar, served, OMAR, "/operator")
    await omar.goto(served.url + "/operator/cities/lakeside")
    await check_accessibility(omar)
    for n, area in enumerate(AREAS, start=1):
        await omar.locator("#area-reviewer").select_option(label="Rosa Vidal (riverton)")
        await omar.get_by_label("Practice area").select_option(area)
        await omar.get_by_role("button", name="Assign the practice area").click()
        # The city's events, on the page the form returns to, show this assignment
        await expect(omar.locator("summary", has_text="PracticeAreaAssigned")).to_have_count(n)
    await expect(omar.get_by_role("status")).to_contain_text("The assignment was recorded.")
    await check_accessibility(omar)

    # Then Rosa, a reviewer, signs in, declares no conflict with Lakeside and opens its worksheet
    rosa: Page = await open_page()
    await signed_in(rosa, served, ROSA, "/review")
    await rosa.get_by_role("link", name="Declare for Lakeside").click()
    await check_accessibility(rosa)
    await rosa.get_by_role("button", name="Declare no conflict and open the evidence").click()
    await expect(rosa.get_by_role("heading", level=1)).to_have_text("Worksheet: Lakeside")
    await check_accessibility(rosa)
    # And approves every criterion but Ana's at once, finding met the items the city claims
    for cid in REST:
        await rosa.get_by_label(f"Choose {cid}", exact=True).check()
    await rosa.get_by_label("Approve, finding met the checklist items the city claims").check()
    await rosa.get_by_role("button", name="Record the decision").click()
    await expect(rosa.get_by_label(f"Choose {REST[0]}", exact=True)).to_have_count(0)
    await check_accessibility(rosa)
    # And asks the city about Ana's criterion, on its worksheet
    await rosa.get_by_role("link", name=re.compile(f"^{OURS} ")).click()
    await check_accessibility(rosa)
    await rosa.get_by_role("radio", name="Ask the city for clarification").check()
    await rosa.get_by_label("Note to the city").fill("Which year is the inventory from?")
    await rosa.get_by_role("button", name="Record the decision").click()
    await expect(rosa.get_by_role("status")).to_contain_text(
        f"Your decision on {OURS} is recorded: Waiting for the city's answer."
    )

    # When Ana answers the question with an attachment
    await ana.reload()
    await expect(ana.locator("main")).to_contain_text("Which year is the inventory from?")
    await ana.get_by_label("Your answer").fill("The 2025 inventory, attached")
    await ana.get_by_label("Attach a document (optional)").set_input_files(
        {"name": "inventory-2025.txt", "mimeType": "text/plain", "buffer": b"the 2025 inventory\n"}
    )
    await ana.get_by_role("button", name="Send the answer").click()
    await expect(ana.locator(".summary")).to_contain_text("Answered, with the reviewer")
    await check_accessibility(ana)

    # Then Rosa reads the answer and approves the criterion with the items the city claimed
    await rosa.get_by_role("link", name=re.compile(f"^{OURS} ")).click()
    await expect(rosa.locator("main")).to_contain_text("The 2025 inventory, attached")
    await check_accessibility(rosa)
    # And opens the answer's attachment in the browser
    thread = rosa.get_by_role("list", name="Clarification")
    await thread.get_by_role("link", name="inventory-2025", exact=True).click()
    await expect(rosa.locator("body")).to_contain_text("the 2025 inventory")
    await rosa.go_back()
    await rosa.get_by_role("radio", name="Approve", exact=True).check()
    await rosa.get_by_role("button", name="Record the decision").click()
    await expect(rosa.get_by_role("status")).to_contain_text(
        f"Your decision on {OURS} is recorded: Approved."
    )

    # When Ana closes the submission, the review complete
    await ana.goto(served.url + "/cities/lakeside")
    await ana.get_by_label("The city has submitted all the evidence it claims").check()
    await ana.get_by_role("button", name="Close the submission").click()
    await expect(ana.locator("main")).to_contain_text("Site visit")
    await check_accessibility(ana)

    # And Carla of the committee waives the site visit on its page, reached from the round board
    carla: Page = await open_page()
    await signed_in(carla, served, CARLA, "/committee")
    await carla.get_by_role("link", name=re.compile(f"Round board {ROUND_NAME}")).click()
    await expect(carla.get_by_role("heading", level=1)).to_have_text(ROUND_NAME)
    await check_accessibility(carla)
    await carla.locator("#city-lakeside").get_by_role("link", name="The site visit of Lakeside").click()
    await expect(carla.get_by_role("heading", level=1)).to_have_text("Site visit: Lakeside")
    await check_accessibility(carla)
    await carla.get_by_label("Why the visit is waived").fill("Visited virtually with the data team")
    await carla.get_by_role("button", name="Waive the visit").click()
    await expect(carla.get_by_role("status")).to_contain_text("The waiver is recorded.")
    await check_accessibility(carla)

    # And decides Silver on the round board, with the keyboard
    await carla.get_by_role("link", name="Back to the round board").click()
    await carla.locator("#city-lakeside").get_by_role("link", name="Decide the level of Lakeside").click()
    await check_accessibility(carla)
    await carla.get_by_label("Silver").focus()
    await carla.keyboard.press("Space")
    await carla.get_by_label("Rationale").fill("Strong data governance, as the reviewer found")
    await carla.get_by_role("button", name="Record the decision").focus()
    await carla.keyboard.press("Enter")
    await expect(carla.locator("#city-lakeside")).to_contain_text("Committee's decision")
    await check_accessibility(carla)

    # And Ana accepts the decision on her city's page: Lakeside is certified
    await ana.goto(served.url + "/cities/lakeside")
    await ana.get_by_role("link", name="The committee's decision").click()
    await expect(ana.locator(".summary")).to_contain_text("Certified Silver")
    await check_accessibility(ana)
    await ana.get_by_role("button", name="Accept the decision").click()
    await expect(ana).to_have_url(served.url + "/cities/lakeside/certificate")
    number = re.compile(r"CC-\d{4}-LAKESIDE-1")
    await expect(ana.locator(".summary")).to_contain_text(number)
    await check_accessibility(ana)

    # But Riverton's staff member is refused Lakeside's pages, in words
    rui: Page = await open_page()
    await signed_in(rui, served, RUI, "/cities/riverton")
    for path in ("", "/criteria", f"/criteria/{OURS}", "/decision", "/certificate"):
        answer = await rui.goto(served.url + "/cities/lakeside" + path)
        assert answer is not None and answer.status == 403, path
    await expect(rui.get_by_role("heading", level=1)).to_have_text("You cannot see this city's pages")
    await check_accessibility(rui)
    # And Rosa, declaring a conflict with Bayview, is refused its worksheet, in words
    await rosa.goto(served.url + "/review/cities/bayview")
    await rosa.get_by_label("What the conflict is").fill("I advised Bayview's data team in 2025")
    await rosa.get_by_role("button", name="Declare a conflict").click()
    await expect(rosa).to_have_url(served.url + "/review")
    refused = await rosa.goto(served.url + "/review/cities/bayview")
    assert refused is not None and refused.status == 403
    await expect(rosa.get_by_role("heading", level=1)).to_have_text("You cannot see this city's evidence")
    await check_accessibility(rosa)

    # When the round's announcement day comes
    await api.env.sleep(timedelta(days=21))
    clock.now = await api.env.get_current_time()

    # Then the public directory, with no sign-in, shows Lakeside certified Silver
    public: Page = await open_page()
    await public.goto(served.url + "/directory")
    row = public.get_by_role("row", name=re.compile("Lakeside"))
    await expect(row).to_contain_text("Silver")
    await check_accessibility(public)
    # And its page names its certificate and the round that announced it
    await row.get_by_role("link", name=re.compile("^Lakeside,")).click()
    await expect(public.get_by_role("heading", level=1)).to_have_text("Lakeside")
    await expect(public.locator("main")).to_contain_text(ROUND_NAME)
    await check_accessibility(public)
    # And its certificate's page verifies it
    await public.get_by_role("link", name=number).click()
    await expect(public.locator(".verdict")).to_contain_text(
        "This certificate is valid: Lakeside is certified Silver"
    )
    await check_accessibility(public)
