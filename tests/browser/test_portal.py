"""The portal in Chromium, as a city's data lead meets it: she types her address, the link arrives
at the SMTP server, and opening it shows her city's dashboard in her language, with what is asked
of her and by when. The link works once; an unknown address sees the same page; another city's
page is refused; the keyboard alone does it all; axe-core finds nothing serious on any page."""

from __future__ import annotations

import re
from typing import Any

from playwright.async_api import Page, expect

from tests.browser.conftest import ServedPortal, check_accessibility, mailed_link
from tests.integration.entrypoints.http.scenario_runner import HttpRunner
from tests.scenarios import CRITERIA, apply, assigned_and_declared, evidence, review

ASKED = CRITERIA[:1]  # the criterion the reviewer asks about


async def ask_for_a_link(page: Page, portal: ServedPortal, address: str) -> None:
    await page.goto(portal.url + "/")
    await check_accessibility(page)
    await page.get_by_label(re.compile("E-mail|Correo|Endereço")).fill(address)
    await page.get_by_role("button").click()


async def test_a_citys_data_lead_signs_in_by_mail_and_sees_what_is_asked_of_her(
    served: ServedPortal, open_page: Any
) -> None:
    # Given Lakeside applied, its evidence submitted and a reviewer's question open on one criterion
    await served.api.register("lakeside")
    steps = [apply("2026-spring"), evidence(ASKED), *assigned_and_declared(ASKED), review(clarify=ASKED)]
    assert await HttpRunner(served.api).walk("lakeside", steps) == []
    # And Lucía, its data lead, who reads Spanish, on a browser set to English
    await served.person("Lucía Méndez", "lucia@lakeside.example", "es", city_id="lakeside")
    page: Page = await open_page(locale="en-US")

    # When she asks for a link
    await ask_for_a_link(page, served, "lucia@lakeside.example")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Check your e-mail")
    await check_accessibility(page)

    # Then the link arrives at the SMTP server, and opening it shows her city's dashboard in Spanish
    link = await mailed_link(served, "lucia@lakeside.example")
    await page.goto(link)
    await expect(page).to_have_url(served.url + "/cities/lakeside")
    assert await page.get_attribute("html", "lang") == "es"
    await expect(page.get_by_role("heading", level=1)).to_have_text("Lakeside")
    asked = page.get_by_role("list", name="Lo que se le pide")
    await expect(asked).to_contain_text("Responda la pregunta del revisor.")
    await expect(asked).to_contain_text(ASKED[0])
    await expect(asked).to_contain_text("Which year?")  # the question as the reviewer asked it
    await expect(asked).to_contain_text(re.compile(r"A más tardar el \d+ de \w+ de \d{4}"))
    await check_accessibility(page)

    # And the link, opened again, no longer works
    again: Page = await open_page(locale="es-ES")
    await again.goto(link)
    await expect(again.get_by_role("heading", level=1)).to_have_text("Este enlace de acceso no se puede usar")
    await expect(again.locator("main")).to_contain_text("Este enlace ya se usó")
    await check_accessibility(again)


async def test_an_unknown_address_sees_the_same_page_as_a_known_one(
    served: ServedPortal, open_page: Any
) -> None:
    await served.api.register("lakeside")
    await served.person("Ana Lima", "ana@lakeside.example", "en", city_id="lakeside")
    seen = []
    for address in ("ana@lakeside.example", "someone@elsewhere.example"):
        page: Page = await open_page()
        await ask_for_a_link(page, served, address)
        await expect(page.get_by_role("heading", level=1)).to_have_text("Check your e-mail")
        seen.append((await page.locator("main").inner_text()).replace(address, "ADDRESS"))
    assert seen[0] == seen[1]
    assert [m.header("To") for m in await served.deliver()] == ["ana@lakeside.example"]


async def test_another_citys_page_is_refused_in_words(served: ServedPortal, open_page: Any) -> None:
    await served.api.register("lakeside")
    await served.api.register("riverton")
    await served.person("Ana Lima", "ana@lakeside.example", "en", city_id="lakeside")
    page: Page = await open_page()
    await ask_for_a_link(page, served, "ana@lakeside.example")
    await page.goto(await mailed_link(served, "ana@lakeside.example"))
    await expect(page).to_have_url(served.url + "/cities/lakeside")

    answer = await page.goto(served.url + "/cities/riverton")
    assert answer is not None and answer.status == 403
    await expect(page.get_by_role("heading", level=1)).to_have_text("You cannot see this city's pages")
    await check_accessibility(page)


async def test_the_language_switch_sets_the_pages_language(served: ServedPortal, open_page: Any) -> None:
    page: Page = await open_page(locale="en-US")
    await page.goto(served.url + "/")
    assert await page.get_attribute("html", "lang") == "en"
    await page.get_by_role("navigation", name="Language").get_by_role("link", name="Português").click()
    await expect(page.locator("html")).to_have_attribute("lang", "pt")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Entrar")
    await check_accessibility(page)
    await page.goto(served.url + "/")  # remembered on the next page
    await expect(page.locator("html")).to_have_attribute("lang", "pt")


async def test_the_keyboard_alone_signs_in_and_out(served: ServedPortal, open_page: Any) -> None:
    await served.api.register("lakeside")
    await served.person("Ana Lima", "ana@lakeside.example", "en", city_id="lakeside")
    page: Page = await open_page()
    await page.goto(served.url + "/")
    # The first Tab reaches the skip link, which takes the focus to the main content
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.textContent") == "Skip to main content"
    await page.keyboard.press("Enter")
    assert await page.evaluate("document.activeElement.id") == "content"
    # Tab on to the e-mail field (the first control of the main content), type, and send with Enter
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.id") == "email"
    await page.keyboard.type("ana@lakeside.example")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Check your e-mail")

    await page.goto(await mailed_link(served, "ana@lakeside.example"))
    await expect(page).to_have_url(served.url + "/cities/lakeside")
    sign_out = page.get_by_role("button", name="Sign out")
    for _ in range(10):  # Tab until the sign-out button has the focus
        if await sign_out.evaluate("b => b === document.activeElement"):
            break
        await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_have_text("You are signed out")
    await check_accessibility(page)


async def test_a_refusal_shows_beside_the_form_without_leaving_the_page(
    served: ServedPortal, open_page: Any
) -> None:
    # Given Lakeside applied with no evidence yet, and Ana signed in on its dashboard
    await served.api.register("lakeside")
    assert await HttpRunner(served.api).walk("lakeside", [apply("2026-spring")]) == []
    await served.person("Ana Lima", "ana@lakeside.example", "en", city_id="lakeside")
    page: Page = await open_page()
    await ask_for_a_link(page, served, "ana@lakeside.example")
    await page.goto(await mailed_link(served, "ana@lakeside.example"))
    await expect(page).to_have_url(served.url + "/cities/lakeside")
    await page.evaluate("window.stayedOnThePage = true")
    # When she confirms and closes the submission
    await page.get_by_label("The city has submitted all the evidence it claims").check()
    await page.get_by_role("button", name="Close the submission").click()
    # Then the domain's reason appears beside the form (htmx swapped the form alone: no new page)
    await expect(page.get_by_role("alert")).to_contain_text("no evidence has been submitted yet")
    assert await page.evaluate("window.stayedOnThePage === true")
    await check_accessibility(page)
