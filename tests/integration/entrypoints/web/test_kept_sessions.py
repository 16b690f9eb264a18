"""Sessions kept in the process for a second or two as read (entrypoints/web/session.py): a page
finds its session without a round trip, yet a sign-out or a change of the person made in this
process shows on the very next request, a cookie never opens another person's session, and a
change made by another process (here: the database written directly) shows once the bound has
passed."""

from __future__ import annotations

from app.people import update_person
from domain.people import Language, PersonChanges
from tests.integration.entrypoints.web.conftest import Portal, csrf_of, sign_in


async def test_each_cookie_opens_its_own_persons_session_however_often_they_alternate(portal: Portal) -> None:
    # Given two cities' staff signed in, each in a browser of their own
    await portal.api.register("lakeside")
    await portal.api.register("riverton")
    await portal.person("Ana Lima", "ana@lakeside.example", "en", city_id="lakeside")
    await portal.person("Rui Costa", "rui@riverton.example", "en", city_id="riverton")
    async with portal.visitor() as ana, portal.visitor() as rui:
        await sign_in(portal, ana, "ana@lakeside.example")
        await sign_in(portal, rui, "rui@riverton.example")
        # When they open pages in turn, each session kept after its first read
        pages = [await (ana if n % 2 == 0 else rui).get("/home") for n in range(4)]
        own = await ana.get("/cities/lakeside")
        other = await ana.get("/cities/riverton")
        theirs = await rui.get("/cities/riverton")
    # Then each is sent to their own city, and sees only what their own role and city allow
    assert [p.headers["location"] for p in pages] == ["/cities/lakeside", "/cities/riverton"] * 2
    assert own.status_code == 200 and "Ana Lima" in own.text and "Rui Costa" not in own.text
    assert other.status_code == 403
    assert theirs.status_code == 200 and "Rui Costa" in theirs.text and "Ana Lima" not in theirs.text
    assert csrf_of(own.text) != csrf_of(theirs.text)


async def test_signing_out_ends_a_kept_session_at_once(portal: Portal) -> None:
    await portal.api.register("lakeside")
    await portal.person("Ana Lima", "ana@lakeside.example", "en", city_id="lakeside")
    async with portal.visitor() as browser, portal.visitor() as copy:
        await sign_in(portal, browser, "ana@lakeside.example")
        # Given her session kept (read by a page), and the same cookie in a second browser
        page = await browser.get("/cities/lakeside")
        copy.cookies.set("citycert_session", browser.cookies["citycert_session"])
        assert (await copy.get("/cities/lakeside")).status_code == 200
        assert len(portal.app.state.kept_sessions) == 1
        # When she signs out
        await browser.post("/sign-out", data={"csrf_token": csrf_of(page.text)})
        # Then the next request with that cookie, in either browser, opens nothing
        assert (await copy.get("/cities/lakeside")).status_code == 401
        assert (await browser.get("/cities/lakeside")).status_code == 401


async def test_a_change_of_the_person_in_this_process_shows_on_the_next_page(portal: Portal) -> None:
    await portal.api.register("lakeside")
    ana = await portal.person("Ana Lima", "ana@lakeside.example", "en", city_id="lakeside")
    async with portal.visitor() as browser:
        await sign_in(portal, browser, "ana@lakeside.example")
        before = await browser.get("/cities/lakeside")
        # When her language is changed to Spanish (as the JSON API and the CLI change it)
        await update_person(portal.api.store, ana, PersonChanges(language=Language.ES))
        after = await browser.get("/cities/lakeside")
    # Then her next page is in Spanish, not the English of the session kept before
    assert '<html lang="en"' in before.text
    assert '<html lang="es"' in after.text


async def test_a_session_ended_by_another_process_ends_here_within_the_bound(portal: Portal) -> None:
    await portal.api.register("lakeside")
    await portal.person("Ana Lima", "ana@lakeside.example", "en", city_id="lakeside")
    async with portal.visitor() as browser:
        await sign_in(portal, browser, "ana@lakeside.example")
        assert (await browser.get("/cities/lakeside")).status_code == 200
        kept = portal.app.state.kept_sessions
        kept.keep_for = 3600.0  # a bound long enough that this test does not race the clock
        # Given her session ended by another process (the database written, nothing said here)
        async with portal.api.store.connection() as conn:
            await conn.execute("UPDATE web_sessions SET ended_at = now()")
        # Then this process's pages open it while they keep it (the stated trade-off) ...
        assert (await browser.get("/cities/lakeside")).status_code == 200
        # ... and not once it is no longer kept
        kept.keep_for = 0.0
        assert (await browser.get("/cities/lakeside")).status_code == 401
