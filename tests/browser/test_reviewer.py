"""The reviewer's path in Chromium: Rosa, a reviewer from Riverton, signs in by the mailed link and
sees her queue; she declares no conflict with Lakeside, opens its worksheet, approves one criterion
with its checklist (by keyboard) and asks the city about another; Bayview, with which she declared a
conflict, refuses her its worksheet. axe-core finds nothing serious on any page."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from playwright.async_api import Page, expect

from domain import Actor
from tests.browser.conftest import ServedPortal, check_accessibility, mailed_link
from tests.integration.entrypoints.http.scenario_runner import HttpRunner
from tests.scenarios import CRITERIA, apply, assign, declare_conflict, evidence

APPROVED, ASKED = CRITERIA[0], CRITERIA[1]
ROSA = "rosa@partners.example"


async def test_a_reviewer_declares_works_the_worksheet_and_is_refused_a_conflicted_city(
    served: ServedPortal, open_page: Any
) -> None:
    # Given Lakeside and Bayview applied with evidence, their criteria assigned to Rosa, who
    # declared a conflict with Bayview
    rosa = Actor(
        role="reviewer",
        id=await served.person("Rosa Vidal", ROSA, "en", role="reviewer", city_id="riverton"),
    )
    runner = HttpRunner(served.api)
    for city_id, criteria in (("lakeside", [APPROVED, ASKED]), ("bayview", [APPROVED])):
        await served.api.register(city_id)
        staff = Actor(role="city", id=f"staff-of-{city_id}")  # one identity speaks for one city
        steps = [replace(apply("2026-spring"), actor=staff), replace(evidence(criteria), actor=staff)]
        assert await runner.walk(city_id, [*steps, assign(criteria, rosa)]) == []
    assert await runner.walk("bayview", [declare_conflict(rosa)]) == []
    page: Page = await open_page()

    # When Rosa signs in by the mailed link, her queue shows both cities
    await page.goto(served.url + "/")
    await page.get_by_label(re.compile("E-mail")).fill(ROSA)
    await page.get_by_role("button", name=re.compile("link", re.I)).click()
    await page.goto(await mailed_link(served, ROSA))
    await expect(page).to_have_url(served.url + "/review")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Your review queue")
    await expect(page.get_by_role("heading", name="Lakeside")).to_be_visible()
    await expect(page.locator("main")).to_contain_text("You declared a conflict of interest with this city.")
    await check_accessibility(page)

    # And declares no conflict with Lakeside, from the keyboard
    await page.get_by_role("link", name="Declare for Lakeside").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Conflict of interest: Lakeside")
    await check_accessibility(page)
    await page.get_by_role("button", name="Declare no conflict and open the evidence").focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Worksheet: Lakeside")
    await check_accessibility(page)

    # Then the criterion's worksheet shows its checklist with the city's claims ticked
    await page.get_by_role("link", name=re.compile(f"^{APPROVED} ")).click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text(APPROVED)
    await expect(page.get_by_role("heading", name="Required documents")).to_be_visible()
    await check_accessibility(page)
    ticked = page.get_by_role("group", name="Checklist items you found met").get_by_role("checkbox")
    assert await ticked.count() >= 1 and await ticked.first.is_checked()
    # And she approves it by keyboard: the radio with Space, the button with Enter
    await page.get_by_role("radio", name="Approve", exact=True).focus()
    await page.keyboard.press("Space")
    await page.get_by_role("button", name="Record the decision").focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("status")).to_contain_text(
        f"Your decision on {APPROVED} is recorded: Approved."
    )
    await check_accessibility(page)

    # And asks the city about the other criterion
    await page.get_by_role("link", name=re.compile(f"^{ASKED} ")).click()
    await page.get_by_role("radio", name="Ask the city for clarification").check()
    await page.get_by_label("Note to the city").fill("Which year is the inventory from?")
    await page.get_by_role("button", name="Record the decision").click()
    await expect(page.get_by_role("status")).to_contain_text(
        f"Your decision on {ASKED} is recorded: Waiting for the city's answer."
    )
    await check_accessibility(page)

    # And Bayview's worksheet is refused her, in words
    refused = await page.goto(served.url + "/review/cities/bayview")
    assert refused is not None and refused.status == 403
    await expect(page.get_by_role("heading", level=1)).to_have_text("You cannot see this city's evidence")
    await check_accessibility(page)
