"""The operators' path in Chromium: an operator signs in by the mailed link, lists the cities and
narrows them to a phase, adds a person with the keyboard, creates a round, opens the mail outbox
and verifies the store; a city's staff member is refused these pages. axe-core finds nothing
serious on any page."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Page, expect

from tests.browser.conftest import ServedPortal, check_accessibility, mailed_link


async def signed_in(page: Page, portal: ServedPortal, address: str) -> None:
    await page.goto(portal.url + "/")
    await page.get_by_label("E-mail address").fill(address)
    await page.get_by_role("button", name="Send me a sign-in link").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Check your e-mail")
    await page.goto(await mailed_link(portal, address))


async def test_an_operator_runs_the_programme(served: ServedPortal, open_page: Any) -> None:
    # Given Lakeside and Hillview registered, Olga an operator and Ana of Lakeside's staff
    await served.api.register("lakeside")
    await served.api.register("hillview")
    await served.person("Olga Duarte", "olga@programme.example", "en", role="operator")
    await served.person("Ana Lima", "ana@lakeside.example", "en", city_id="lakeside")
    page: Page = await open_page()

    # When Olga signs in she lands on the operators' start page, and lists the cities
    await signed_in(page, served, "olga@programme.example")
    await expect(page).to_have_url(served.url + "/operator")
    await check_accessibility(page)
    await page.get_by_role("link", name="Cities").first.click()
    await expect(page.locator("main table")).to_contain_text("Hillview")
    await check_accessibility(page)
    await page.get_by_label("Phase").select_option(label="Registered")
    await page.get_by_role("button", name="Show these cities").click()
    await expect(page.locator("main")).to_contain_text("2 cities")
    await page.get_by_role("link", name="Lakeside").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Lakeside")
    await expect(page.locator("main table")).to_contain_text("CityRegistered")
    await check_accessibility(page)

    # When she adds a person with the keyboard alone
    await page.get_by_role("link", name="People").first.click()
    await check_accessibility(page)
    await page.get_by_label("Name").focus()
    await page.keyboard.type("Rui Costa")
    await page.keyboard.press("Tab")
    await page.keyboard.type("rui@partner.example")
    await page.get_by_label("Role").select_option("reviewer")
    await page.get_by_label("City", exact=True).fill("hillview")
    await page.get_by_role("button", name="Add the person").focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("status")).to_contain_text("The person was added")
    await expect(page.locator("main table")).to_contain_text("Rui Costa")

    # When she creates a round; a first try with its dates out of order is refused, with the reason
    await page.get_by_role("link", name="Rounds").first.click()
    await page.get_by_label("Id", exact=True).fill("2030-spring")
    await page.get_by_label("Name", exact=True).fill("Spring 2030")
    await page.get_by_label("Applications open on").fill("2030-03-01")
    await page.get_by_label("Applications close on").fill("2030-02-01")
    await page.get_by_label("Evidence due by").fill("2030-04-30")
    await page.get_by_label("Announced on").fill("2030-09-15")
    await page.get_by_label("Review capacity").fill("40")
    await page.get_by_role("button", name="Create the round").click()
    await expect(page.get_by_role("alert")).to_contain_text("The round was not created")
    await check_accessibility(page)
    await page.get_by_label("Applications close on").fill("2030-03-31")
    await page.get_by_role("button", name="Create the round").click()
    await expect(page.locator("main table")).to_contain_text("Spring 2030")

    # And opens the mail outbox, where her own sign-in mail was sent, and the store's health
    await page.get_by_role("link", name="Mail").first.click()
    await expect(page.locator("main")).to_contain_text("Latest deliveries")
    await expect(page.locator("main table")).to_contain_text("sign_in_link")
    await check_accessibility(page)
    await page.get_by_role("link", name="Health").first.click()
    await page.get_by_role("button", name="Verify the store").click()
    await expect(page.get_by_role("status")).to_contain_text("The store passed every check")
    await expect(page.locator("main")).to_contain_text("Every city's workflow is running.")
    await check_accessibility(page)

    # And a city's staff member is refused the operators' pages, in words
    staff: Page = await open_page()
    await signed_in(staff, served, "ana@lakeside.example")
    answer = await staff.goto(f"{served.url}/operator/people")
    assert answer is not None and answer.status == 403
    await expect(staff.get_by_role("heading", level=1)).to_have_text(
        "This page is for the programme's operators"
    )
    await check_accessibility(staff)
