"""Signing in to the portal: a person asks for a link with their e-mail address, the link arrives
by mail (the outbox, the relay, a real SMTP server) in their language, opens a session once, and
the session ends when they sign out or stay idle too long. Unknown addresses are answered the same,
every form needs its CSRF token, and requests are limited per address and per client."""

from __future__ import annotations

import httpx

from app.people import deactivate_person
from tests.integration.entrypoints.web.conftest import Portal, csrf_of, sign_in


async def outbox_rows(portal: Portal) -> int:
    async with portal.api.store.connection() as conn:
        return int(
            await conn.fetchval("SELECT count(*) FROM notification_outbox WHERE kind = 'sign_in_link'")
        )


async def test_a_city_staff_member_signs_in_by_the_mailed_link_once(portal: Portal) -> None:
    # Given Lakeside registered, and Ana, its data lead, who reads Portuguese
    await portal.api.register("lakeside")
    await portal.person("Ana Lima", "ana@lakeside.example", "pt", city_id="lakeside")
    async with portal.visitor() as browser:
        # When she asks for a link, and the relay delivers it
        form = await browser.get("/")
        assert 'for="email"' in form.text and 'id="email"' in form.text, "the field is labelled"
        asked = await browser.post(
            "/sign-in", data={"email": "Ana@Lakeside.example", "csrf_token": csrf_of(form.text)}
        )
        assert asked.status_code == 200
        link = await portal.mailed_link("ana@lakeside.example")
        # Then the mail is in Portuguese and its link starts a session, landing on her city's dashboard
        mail = [m for m in portal.mail.messages() if m.header("To") == "ana@lakeside.example"][-1]
        assert mail.header("Subject") == "O seu link para entrar no citycert"
        url = httpx.URL(link)
        landing = await browser.get(f"{url.path}?{url.query.decode()}")
        token = url.params["token"]
        used = await browser.post("/sign-in/link", data={"token": token, "csrf_token": csrf_of(landing.text)})
        assert (used.status_code, used.headers["location"]) == (303, "/home")
        cookie = next(c for c in used.headers.get_list("set-cookie") if c.startswith("citycert_session="))
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
        home = await browser.get("/home")
        assert (home.status_code, home.headers["location"]) == (303, "/cities/lakeside")
        dashboard = await browser.get("/cities/lakeside")
        assert dashboard.status_code == 200
        assert '<html lang="pt">' in dashboard.text and "Painel da cidade" in dashboard.text
        assert "Registrada" in dashboard.text, "the phase, in her language"
        # And the same link, opened again, is refused saying why
        landing = await browser.get(f"{url.path}?{url.query.decode()}")
        again = await browser.post(
            "/sign-in/link", data={"token": token, "csrf_token": csrf_of(landing.text)}
        )
        assert again.status_code == 410
        assert "Este link já foi usado" in again.text


async def test_an_unknown_address_gets_the_same_answer_and_no_mail(portal: Portal) -> None:
    await portal.api.register("lakeside")
    await portal.person("Ana Lima", "ana@lakeside.example", "en", city_id="lakeside")
    answers = []
    async with portal.visitor() as browser:
        for address in ("ana@lakeside.example", "nobody@lakeside.example"):
            form = await browser.get("/")
            asked = await browser.post("/sign-in", data={"email": address, "csrf_token": csrf_of(form.text)})
            answers.append((asked.status_code, asked.text.replace(address, "ADDRESS")))
    assert answers[0] == answers[1], "the page says nothing of whether the address is known"
    assert await outbox_rows(portal) == 1, "only the known address was sent a link"
    assert [m.header("To") for m in await portal.deliver()] == ["ana@lakeside.example"]


async def test_a_form_without_its_csrf_token_is_refused_and_nothing_is_sent(portal: Portal) -> None:
    await portal.api.register("lakeside")
    await portal.person("Ana Lima", "ana@lakeside.example", "en", city_id="lakeside")
    async with portal.visitor() as browser:
        await browser.get("/")
        forged = await browser.post(
            "/sign-in", data={"email": "ana@lakeside.example", "csrf_token": "x" * 64}
        )
        assert forged.status_code == 403
        assert "did not come from this site" in forged.text
    assert await outbox_rows(portal) == 0


async def test_a_malformed_address_is_answered_in_words_beside_the_field(portal: Portal) -> None:
    async with portal.visitor(**{"Accept-Language": "es-MX,es;q=0.9"}) as browser:
        form = await browser.get("/")
        assert '<html lang="es">' in form.text, "the browser's language"
        answer = await browser.post(
            "/sign-in", data={"email": "ana at lakeside", "csrf_token": csrf_of(form.text)}
        )
    assert answer.status_code == 422
    assert 'aria-invalid="true"' in answer.text
    assert "Escriba una dirección de correo electrónico con el formato correcto" in answer.text


async def test_sign_in_requests_are_limited_per_address(portal: Portal) -> None:
    # Given three requests for one address (the limit these tests set), known or not
    async with portal.visitor() as browser:
        statuses = []
        for _ in range(4):
            form = await browser.get("/")
            asked = await browser.post(
                "/sign-in", data={"email": "x@lakeside.example", "csrf_token": csrf_of(form.text)}
            )
            statuses.append(asked.status_code)
    # Then the fourth is refused, saying how long to wait
    assert statuses == [200, 200, 200, 429]


async def test_sign_in_requests_are_limited_per_client(portal: Portal) -> None:
    async with portal.visitor() as browser:
        statuses = []
        for n in range(7):
            form = await browser.get("/")
            asked = await browser.post(
                "/sign-in", data={"email": f"p{n}@example.org", "csrf_token": csrf_of(form.text)}
            )
            statuses.append(asked.status_code)
    assert statuses == [200] * 6 + [429]


async def test_an_expired_link_starts_no_session(portal: Portal) -> None:
    await portal.api.register("lakeside")
    await portal.person("Ana Lima", "ana@lakeside.example", "en", city_id="lakeside")
    async with portal.visitor() as browser:
        form = await browser.get("/")
        await browser.post(
            "/sign-in", data={"email": "ana@lakeside.example", "csrf_token": csrf_of(form.text)}
        )
        link = httpx.URL(await portal.mailed_link("ana@lakeside.example"))
        # Given the link's fifteen minutes have passed
        async with portal.api.store.connection() as conn:
            await conn.execute(
                "UPDATE sign_in_links SET created_at = now() - interval '20 minutes', "
                "expires_at = now() - interval '5 minutes'"
            )
        landing = await browser.get(f"{link.path}?{link.query.decode()}")
        used = await browser.post(
            "/sign-in/link", data={"token": link.params["token"], "csrf_token": csrf_of(landing.text)}
        )
        assert used.status_code == 410
        assert "This link has expired" in used.text
        assert "citycert_session=" not in used.headers.get("set-cookie", "")


async def test_a_link_nobody_sent_is_refused(portal: Portal) -> None:
    async with portal.visitor() as browser:
        landing = await browser.get("/sign-in/link?token=made-up")
        used = await browser.post(
            "/sign-in/link", data={"token": "made-up", "csrf_token": csrf_of(landing.text)}
        )
    assert used.status_code == 404
    assert "This link is not one we sent" in used.text


async def test_signing_out_ends_the_session(portal: Portal) -> None:
    await portal.api.register("lakeside")
    await portal.person("Ana Lima", "ana@lakeside.example", "en", city_id="lakeside")
    async with portal.visitor() as browser:
        await sign_in(portal, browser, "ana@lakeside.example")
        page = await browser.get("/cities/lakeside")
        assert page.status_code == 200 and "Sign out" in page.text
        secret = browser.cookies["citycert_session"]
        out = await browser.post("/sign-out", data={"csrf_token": csrf_of(page.text)})
        assert out.status_code == 200 and "You are signed out" in out.text
        assert (await browser.get("/home")).status_code == 401
    # The old cookie, replayed, opens nothing
    async with portal.visitor() as thief:
        thief.cookies.set("citycert_session", secret)
        assert (await thief.get("/home")).status_code == 401


async def test_a_session_idle_too_long_has_ended(portal: Portal) -> None:
    await portal.api.register("lakeside")
    await portal.person("Ana Lima", "ana@lakeside.example", "en", city_id="lakeside")
    async with portal.visitor() as browser:
        await sign_in(portal, browser, "ana@lakeside.example")
        assert (await browser.get("/home")).status_code == 303
        async with portal.api.store.connection() as conn:
            await conn.execute("UPDATE web_sessions SET idle_until = now() - interval '1 second'")
        assert (await browser.get("/home")).status_code == 401


async def test_over_https_the_session_cookie_is_secure(portal: Portal) -> None:
    await portal.api.register("lakeside")
    await portal.person("Ana Lima", "ana@lakeside.example", "en", city_id="lakeside")
    async with portal.visitor(base_url="https://citycert.test") as browser:
        used = await sign_in(portal, browser, "ana@lakeside.example")
    cookie = next(c for c in used.headers.get_list("set-cookie") if c.startswith("citycert_session="))
    assert "Secure" in cookie


async def test_a_citys_staff_are_refused_another_citys_dashboard(portal: Portal) -> None:
    await portal.api.register("lakeside")
    await portal.api.register("riverton")
    await portal.person("Ana Lima", "ana@lakeside.example", "en", city_id="lakeside")
    async with portal.visitor() as browser:
        await sign_in(portal, browser, "ana@lakeside.example")
        other = await browser.get("/cities/riverton")
        assert other.status_code == 403
        assert "You work for another city" in other.text
        assert "Riverton" not in other.text, "nothing of the other city is shown"
        unknown = await browser.get("/cities/atlantis")
        assert unknown.status_code == 403, "an id not her city's is refused before it is looked up"


async def test_the_language_switch_changes_the_page_and_is_remembered(portal: Portal) -> None:
    async with portal.visitor() as browser:
        first = await browser.get("/")
        assert '<html lang="en">' in first.text
        assert 'href="/?lang=es"' in first.text
        switched = await browser.get("/?lang=es")
        assert '<html lang="es">' in switched.text and "Iniciar sesión" in switched.text
        later = await browser.get("/")
        assert '<html lang="es">' in later.text


async def test_a_mailed_link_points_at_the_portal_whatever_host_the_request_named(portal: Portal) -> None:
    # Given someone asking for Ana's link through a request naming their own host
    await portal.api.register("lakeside")
    await portal.person("Ana Lima", "ana@lakeside.example", "en", city_id="lakeside")
    async with portal.visitor(base_url="http://attacker.example") as browser:
        form = await browser.get("/")
        await browser.post(
            "/sign-in", data={"email": "ana@lakeside.example", "csrf_token": csrf_of(form.text)}
        )
    # Then the link Ana receives leads to the portal's own address (the API's, no CITYCERT_PUBLIC_URL set)
    assert (await portal.mailed_link("ana@lakeside.example")).startswith(
        "http://127.0.0.1:8000/sign-in/link?"
    )


async def test_a_link_that_expired_before_the_relay_ran_is_not_sent(portal: Portal) -> None:
    await portal.api.register("lakeside")
    await portal.person("Ana Lima", "ana@lakeside.example", "en", city_id="lakeside")
    async with portal.visitor() as browser:
        form = await browser.get("/")
        await browser.post(
            "/sign-in", data={"email": "ana@lakeside.example", "csrf_token": csrf_of(form.text)}
        )
    # Given the relay was away for longer than the link lives
    async with portal.api.store.connection() as conn:
        await conn.execute(
            "UPDATE notification_outbox SET payload = jsonb_set(payload, '{due_at}', to_jsonb($1::text))",
            "2020-01-01T00:00:00Z",
        )
    # Then no mail goes: the delivery is skipped, saying why
    assert await portal.deliver() == []
    async with portal.api.store.connection() as conn:
        row = await conn.fetchrow("SELECT status, last_error FROM mail_deliveries")
    assert (row["status"], row["last_error"]) == ("skipped", "the sign-in link expired before it went")


async def test_a_person_deactivated_while_signed_in_is_signed_out(portal: Portal) -> None:
    await portal.api.register("lakeside")
    ana = await portal.person("Ana Lima", "ana@lakeside.example", "en", city_id="lakeside")
    async with portal.visitor() as browser:
        await sign_in(portal, browser, "ana@lakeside.example")
        assert (await browser.get("/cities/lakeside")).status_code == 200
        await deactivate_person(portal.api.store, ana)
        assert (await browser.get("/cities/lakeside")).status_code == 401


async def test_a_session_in_use_stays_open_past_its_first_idle_end(portal: Portal) -> None:
    await portal.api.register("lakeside")
    await portal.person("Ana Lima", "ana@lakeside.example", "en", city_id="lakeside")
    async with portal.visitor() as browser:
        await sign_in(portal, browser, "ana@lakeside.example")
        # Given her session last seen ten minutes ago, about to end for idleness in one more
        async with portal.api.store.connection() as conn:
            await conn.execute(
                "UPDATE web_sessions SET last_seen_at = now() - interval '10 minutes', "
                "idle_until = now() + interval '1 minute'"
            )
        # When she opens a page, then its idle end is moved on by the idle lifetime (30 minutes)
        assert (await browser.get("/cities/lakeside")).status_code == 200
        async with portal.api.store.connection() as conn:
            left = await conn.fetchval("SELECT idle_until - now() FROM web_sessions")
    assert left.total_seconds() > 25 * 60
