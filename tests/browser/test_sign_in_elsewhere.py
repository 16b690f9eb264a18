"""A sign-in link opened in a browser other than the one that asked for it, in Chromium: the page
asks first, naming the account with its address masked, and signs in only when the button is
pressed (here with the keyboard alone); axe-core finds nothing serious on the question's page."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Page, expect

from tests.browser.conftest import ServedPortal, check_accessibility, mailed_link
from tests.browser.test_portal import ask_for_a_link


async def test_a_link_opened_in_another_browser_asks_before_signing_in(
    served: ServedPortal, open_page: Any
) -> None:
    # Given Ana asked for a link in her browser
    await served.api.register("lakeside")
    await served.person("Ana Lima", "ana@lakeside.example", "en", city_id="lakeside")
    hers: Page = await open_page()
    await ask_for_a_link(hers, served, "ana@lakeside.example")
    await expect(hers.get_by_role("heading", level=1)).to_have_text("Check your e-mail")
    link = await mailed_link(served, "ana@lakeside.example")

    # When the link is opened in another browser, then it asks, naming her account, masked
    other: Page = await open_page()
    await other.goto(link)
    await expect(other.get_by_role("heading", level=1)).to_have_text("Sign in as a***@lakeside.example?")
    await expect(other).to_have_url(link)  # it did not go on by itself
    await check_accessibility(other)

    # When the button is reached with Tab and pressed with Enter, then she is signed in there
    button = other.get_by_role("button", name="Yes, sign in as a***@lakeside.example")
    for _ in range(15):
        if await button.evaluate("b => b === document.activeElement"):
            break
        await other.keyboard.press("Tab")
    await other.keyboard.press("Enter")
    await expect(other).to_have_url(served.url + "/cities/lakeside")
