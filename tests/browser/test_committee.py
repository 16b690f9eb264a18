"""The committee's path in Chromium: a member signs in by the mailed link, opens the round board,
reads a recommended city's scores chart, decides its level with the keyboard, designates the Honor
Roll beside the score-based suggestion and previews the announcement under embargo; a city's staff
member is refused the board. axe-core finds nothing serious on any page."""

from __future__ import annotations

import re
from typing import Any

from playwright.async_api import Page, expect

from tests.browser.conftest import ServedPortal, check_accessibility, mailed_link
from tests.integration.entrypoints.http.scenario_runner import HttpRunner
from tests.scenarios import CRITERIA, SILVER_SCORE, apply, decide, to_committee

ROUND = "2026-spring"
NEAR_MISS = CRITERIA[: len(SILVER_SCORE) - 2]  # two criteria short of Silver: no level


async def signed_in(page: Page, portal: ServedPortal, address: str) -> None:
    await page.goto(portal.url + "/")
    await page.get_by_label("E-mail address").fill(address)
    await page.get_by_role("button", name="Send me a sign-in link").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Check your e-mail")
    await page.goto(await mailed_link(portal, address))


async def test_a_committee_member_decides_designates_and_previews(
    served: ServedPortal, open_page: Any
) -> None:
    # Given Lakeside recommended Silver, and Marston, two criteria short, decided not certified
    runner = HttpRunner(served.api, per_city_staff=True)
    await served.api.register("lakeside")
    await served.api.register("marston")
    assert await runner.walk("lakeside", to_committee(apply(ROUND), SILVER_SCORE)) == []
    assert await runner.walk("marston", [*to_committee(apply(ROUND), NEAR_MISS), decide(None, "close")]) == []
    await served.person("Carla Ruiz", "carla@programme.example", "en", role="committee")
    await served.person("Ana Lima", "ana@lakeside.example", "en", city_id="lakeside")
    page: Page = await open_page()

    # When Carla signs in, she lands on the rounds, and opens the round's board
    await signed_in(page, served, "carla@programme.example")
    await expect(page).to_have_url(served.url + "/committee")
    await check_accessibility(page)
    await page.get_by_role("link", name=re.compile(f"Round board {ROUND}")).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(ROUND)
    await check_accessibility(page)

    # Then she sees Lakeside's scores per practice area: a chart, and the same numbers in a table
    lakeside = page.locator("#city-lakeside")
    await expect(lakeside.get_by_role("img", name=re.compile("Bar chart .* of Lakeside"))).to_be_visible()
    await expect(lakeside.get_by_role("table")).to_contain_text("Practice area")
    await expect(lakeside).to_contain_text(f"{len(SILVER_SCORE)} points of {len(CRITERIA)}")

    # When she decides its level, with the keyboard alone
    await lakeside.get_by_role("link", name="Decide the level of Lakeside").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Decide the level of Lakeside")
    await check_accessibility(page)
    record = page.get_by_role("button", name="Record the decision")
    await record.focus()
    await page.keyboard.press("Enter")  # nothing chosen: the form says what is missing, in place
    await expect(page.get_by_role("alert")).to_contain_text("Enter the committee's rationale")
    await check_accessibility(page)
    await page.get_by_label("Silver").focus()
    await page.keyboard.press("Space")
    await page.get_by_label("Rationale").focus()
    await page.keyboard.type("Strong data governance and open data")
    await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")

    # Then the board shows the decision
    await expect(page).to_have_url(re.compile(f"/committee/rounds/{ROUND}"))
    await expect(page.locator("#city-lakeside")).to_contain_text("Committee's decision")

    # When she designates the Honor Roll: Marston is suggested by its score, not ticked for her
    await page.get_by_role("link", name="Designate the Honor Roll").click()
    await check_accessibility(page)
    marston = page.get_by_role("checkbox", name=re.compile("Marston"))
    await expect(marston).not_to_be_checked()
    await expect(page.locator("#roll-marston-why")).to_contain_text("Suggested by its score.")
    await marston.check()
    await page.get_by_role("button", name="Designate the Honor Roll").click()
    await expect(page.locator("#city-marston")).to_contain_text("On the Honor Roll")

    # And previews the announcement: under embargo, its Honor Roll as she designated it
    await page.get_by_role("link", name="Preview the announcement").click()
    await expect(page.get_by_role("note")).to_contain_text("Preview under embargo until")
    await expect(page.locator("main")).to_contain_text("Marston")
    await check_accessibility(page)

    # And a city's staff member is refused the board, in words
    staff: Page = await open_page()
    await signed_in(staff, served, "ana@lakeside.example")
    await expect(staff).to_have_url(served.url + "/cities/lakeside")
    answer = await staff.goto(f"{served.url}/committee/rounds/{ROUND}")
    assert answer is not None and answer.status == 403
    await expect(staff.get_by_role("heading", level=1)).to_have_text("This page is for the committee")
    await check_accessibility(staff)
