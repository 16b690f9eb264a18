"""The public's path in Chromium, with no sign-in: a visitor opens the directory of certified cities,
switches to Spanish, filters it with the keyboard, opens a certificate's page and its announced
round's page; a round under embargo is not found. axe-core finds nothing serious on any page."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from playwright.async_api import Page, expect

from tests.browser.conftest import ServedPortal, check_accessibility
from tests.integration.entrypoints.http.test_public import ROUND, certified_gold
from tests.integration.entrypoints.http.test_rounds import TemporalClock, a_round, days


async def test_a_visitor_finds_a_certified_city_its_certificate_and_its_round(
    served: ServedPortal, open_page: Any
) -> None:
    # Given Ridgeway certified Gold in a round announced today (the app on the Temporal server's
    # clock, as the awards), and a later round whose announcement is months away
    api = served.api
    assert api.env is not None
    clock = TemporalClock(await api.env.get_current_time())
    served.app.state.services = replace(served.app.state.services, clock=clock)
    number = await certified_gold((api, clock))
    later = a_round("2031-spring", "Spring 2031", days(30, 60, 70, 120, today=clock().date()))
    await api.post("/v1/rounds", await api.operator(), later, expect=201)
    page: Page = await open_page()

    # When a visitor opens the directory, in English as the browser asks
    await page.goto(served.url + "/directory")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Certified cities")
    await check_accessibility(page)

    # And switches to Spanish
    await page.get_by_role("link", name="Español").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Ciudades certificadas")
    await expect(page.locator("html")).to_have_attribute("lang", "es")
    await check_accessibility(page)

    # And filters it by level and country, with the keyboard alone
    await page.get_by_label("Nivel").focus()
    await page.keyboard.press("ArrowDown")  # the first level: Platinum
    await page.get_by_role("button", name="Mostrar ciudades").focus()
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(re.compile(r"level=platinum"))
    await expect(page.get_by_role("heading", name="0 ciudades certificadas")).to_be_visible()
    await page.get_by_label("Nivel").select_option("gold")
    await page.get_by_label("País").select_option("US")
    await page.get_by_role("button", name="Mostrar ciudades").click()
    await expect(page.get_by_role("heading", name="1 ciudad certificada")).to_be_visible()
    await expect(page.get_by_role("row", name=re.compile("Ridgeway, Ohio, Estados Unidos"))).to_contain_text(
        "Oro"
    )
    await check_accessibility(page)

    # Then the city's certificate page says it is valid, in Spanish, with its credential and key
    await page.get_by_role("link", name="Certificado de Ridgeway").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Certificado {number}")
    await expect(page.locator(".verdict")).to_contain_text("Este certificado es válido")
    await expect(page.get_by_role("link", name="La credencial firmada")).to_be_visible()
    await expect(page.get_by_role("link", name="La clave del programa")).to_be_visible()
    await check_accessibility(page)

    # And its round's announcement names it among the newly certified
    await page.get_by_role("link", name="Fall 2030").click()
    await expect(page).to_have_url(re.compile(f"/rounds/{ROUND}$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Fall 2030: ciudades certificadas")
    newly = page.locator("section", has=page.get_by_role("heading", name="Certificadas por primera vez"))
    await expect(newly).to_contain_text("Ridgeway, Ohio, Estados Unidos")
    await check_accessibility(page)

    # But the round under embargo is not found, as if it did not exist
    answered = await page.goto(served.url + "/rounds/2031-spring")
    assert answered is not None and answered.status == 404
    await expect(page.get_by_role("heading", level=1)).to_have_text("Anuncio no encontrado")
    await check_accessibility(page)
