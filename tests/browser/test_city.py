"""A city's staff member's path in Chromium: she signs in by the mailed link, applies to the open
round, uploads a document into each of a criterion's required slots with the checklist claimed and
submits it, answers the reviewer's question, and, once the committee has decided, accepts the
decision with the keyboard and sees the certificate. Another city's staff member is refused these
pages. axe-core finds nothing serious or critical on any of them."""

from __future__ import annotations

import re
from typing import Any

from playwright.async_api import Page, expect

from domain import Level
from domain.standard import get_standard
from domain.worksheet import enough_items
from tests.browser.conftest import ServedPortal, check_accessibility, mailed_link
from tests.integration.entrypoints.http.scenario_runner import HttpRunner
from tests.scenarios import (
    SILVER_SCORE,
    STANDARD,
    assigned_and_declared,
    close,
    decide,
    evidence,
    review,
    signed_off_if_needed,
    waive_visit,
)

STANDARD_ = get_standard(STANDARD)
# The criterion Ana submits herself: one the standard asks documents for, among those Silver needs.
OURS = next(c for c in SILVER_SCORE if STANDARD_.criterion(c).required_documents)
REST = [c for c in SILVER_SCORE if c != OURS]


async def signed_in(page: Page, portal: ServedPortal, address: str) -> None:
    await page.goto(portal.url + "/")
    await page.get_by_label("E-mail address").fill(address)
    await page.get_by_role("button", name="Send me a sign-in link").click()
    await page.goto(await mailed_link(portal, address))


async def test_a_citys_staff_member_applies_submits_answers_and_accepts(
    served: ServedPortal, open_page: Any
) -> None:
    # Given Lakeside registered, a round open today, and Ana of its staff
    await served.api.register("lakeside")
    await served.api.register("riverton")
    await served.api.open_round("2026-spring")
    await served.person("Ana Lima", "ana@lakeside.example", "en", city_id="lakeside")
    await served.person("Rui Costa", "rui@riverton.example", "en", city_id="riverton")
    runner = HttpRunner(served.api)
    page: Page = await open_page()

    # When she signs in and applies to the open round
    await signed_in(page, served, "ana@lakeside.example")
    await expect(page).to_have_url(served.url + "/cities/lakeside")
    await page.get_by_role("link", name="Apply for certification").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Apply for certification")
    await check_accessibility(page)
    await page.get_by_label("2026-spring").check()
    await page.get_by_role("button", name="Apply").click()
    await expect(page).to_have_url(served.url + "/cities/lakeside")
    await expect(page.locator("main")).to_contain_text("Gathering evidence")

    # And uploads a document into each of a criterion's slots, claims the checklist and submits it
    await page.get_by_role("link", name="Criteria").click()
    await check_accessibility(page)
    await page.get_by_role("link", name=re.compile(f"^{OURS} ")).click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text(OURS)
    await check_accessibility(page)
    criterion = STANDARD_.criterion(OURS)
    for n in range(1, len(criterion.required_documents) + 1):
        document = {"name": f"inventory-{n}.txt", "mimeType": "text/plain", "buffer": f"part {n}\n".encode()}
        await page.locator(f"#slot_{n}").set_input_files(document)
    for n in enough_items(criterion):
        await page.locator(f"#claim-{n}").check()
    await page.get_by_role("button", name="Submit the evidence").click()
    await expect(page.locator(".summary")).to_contain_text("Submitted, with the reviewer")
    await expect(page.locator("main")).to_contain_text("inventory-1")

    # Then, the reviewer asking a question, she answers it with an attachment
    steps = [evidence(REST), *assigned_and_declared(SILVER_SCORE), review(clarify=[OURS])]
    assert await runner.walk("lakeside", steps) == []
    await page.reload()
    await expect(page.locator("main")).to_contain_text("Which year?")
    await check_accessibility(page)
    await page.get_by_label("Your answer").fill("The 2025 inventory")
    await page.get_by_label("Attach a document (optional)").set_input_files(
        {"name": "inventory-2025.txt", "mimeType": "text/plain", "buffer": b"the 2025 inventory\n"}
    )
    await page.get_by_role("button", name="Send the answer").click()
    await expect(page.locator(".summary")).to_contain_text("Answered, with the reviewer")

    # And later, the committee having decided Silver, she accepts the decision with the keyboard
    steps = [
        review(approve=SILVER_SCORE),
        close(),
        waive_visit(),
        *signed_off_if_needed(SILVER_SCORE),
        decide(Level.SILVER),
    ]
    assert await runner.walk("lakeside", steps) == []
    await page.goto(served.url + "/cities/lakeside")
    await page.get_by_role("link", name="The committee's decision").click()
    await expect(page.locator(".summary")).to_contain_text("Certified Silver")
    await check_accessibility(page)
    accept = page.get_by_role("button", name="Accept the decision")
    for _ in range(30):  # Tab until the button has the focus
        if await accept.evaluate("b => b === document.activeElement"):
            break
        await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(served.url + "/cities/lakeside/certificate")
    await expect(page.locator(".summary")).to_contain_text(re.compile(r"CC-\d{4}-LAKESIDE-1"))
    await expect(page.locator(".summary")).to_contain_text("Silver")
    await expect(page.get_by_role("link", name=re.compile("verify certificate"))).to_have_attribute(
        "href", re.compile(r"^/certificates/CC-\d{4}-LAKESIDE-1$")
    )
    await check_accessibility(page)
    # And the link opens the certificate's public verification page, which says it is valid
    await page.get_by_role("link", name=re.compile("verify certificate")).click()
    await expect(page.locator("main")).to_contain_text(re.compile(r"CC-\d{4}-LAKESIDE-1"))
    await check_accessibility(page)

    # And another city's staff member is refused her city's pages
    other: Page = await open_page()
    await signed_in(other, served, "rui@riverton.example")
    for path in ("/criteria", f"/criteria/{OURS}", "/certificate"):
        answer = await other.goto(served.url + "/cities/lakeside" + path)
        assert answer is not None and answer.status == 403
    await expect(other.get_by_role("heading", level=1)).to_have_text("You cannot see this city's pages")
    await check_accessibility(other)
