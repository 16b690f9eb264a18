"""Signing in to the portal: a person asks for a link with their e-mail address, the link arrives
by mail (the outbox, the relay, a real SMTP server) in their language, opens a session once, and
the session ends when they sign out or stay idle too long. Unknown addresses are answered the same,
every form needs its CSRF token, and requests are limited per address and per client."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from app.people import deactivate_person
from app.sign_in import Swept, digest, sweep
from readmodel import open_city_store
from runtime.embedded_postgres import ensure_runtime_login
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
        # And the same link, opened again, is refused saying why, as soon as it is opened
        opened = await browser.get(f"{url.path}?{url.query.decode()}")
        assert opened.status_code == 410 and "Este link já foi usado" in opened.text
        # And its form, posted again, is refused the same
        again = await browser.post("/sign-in/link", data={"token": token, "csrf_token": csrf_of(opened.text)})
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
        assert landing.status_code == 410 and "This link has expired" in landing.text
        used = await browser.post(
            "/sign-in/link", data={"token": link.params["token"], "csrf_token": csrf_of(form.text)}
        )
        assert used.status_code == 410
        assert "This link has expired" in used.text
        assert "citycert_session=" not in used.headers.get("set-cookie", "")


async def test_a_link_nobody_sent_is_refused(portal: Portal) -> None:
    async with portal.visitor() as browser:
        landing = await browser.get("/sign-in/link?token=made-up")
        assert landing.status_code == 404 and "This link is not one we sent" in landing.text
        form = await browser.get("/")
        used = await browser.post(
            "/sign-in/link", data={"token": "made-up", "csrf_token": csrf_of(form.text)}
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
        # A session is kept for a second or two as read (entrypoints/web/session.py): once that
        # has passed, the page reads it again
        portal.app.state.kept_sessions.clear()
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


# --- a link bound to the browser that asked for it (login CSRF) ----------------------------------


async def ask_for_link(portal: Portal, browser: httpx.AsyncClient, email: str) -> httpx.URL:
    form = await browser.get("/")
    asked = await browser.post("/sign-in", data={"email": email, "csrf_token": csrf_of(form.text)})
    assert asked.status_code == 200, asked.text
    return httpx.URL(await portal.mailed_link(email))


async def test_a_link_opened_in_the_browser_that_asked_for_it_goes_on_by_itself(portal: Portal) -> None:
    await portal.api.register("lakeside")
    await portal.person("Ana Lima", "ana@lakeside.example", "en", city_id="lakeside")
    async with portal.visitor() as browser:
        link = await ask_for_link(portal, browser, "ana@lakeside.example")
        assert browser.cookies.get("citycert_sign_in"), "the browser that asked holds the link's nonce"
        landing = await browser.get(f"{link.path}?{link.query.decode()}")
        assert landing.status_code == 200
        assert "data-autosubmit" in landing.text, "no question: this browser asked for the link"
        assert "Sign in as" not in landing.text


async def test_a_forwarded_link_asks_before_signing_anyone_in_naming_the_account(portal: Portal) -> None:
    # Given Ana asked for a link in her browser and forwarded it to Bruno
    await portal.api.register("lakeside")
    await portal.person("Ana Lima", "ana@lakeside.example", "en", city_id="lakeside")
    async with portal.visitor() as hers:
        link = await ask_for_link(portal, hers, "ana@lakeside.example")
    async with portal.visitor() as his:
        # When Bruno opens it, his browser is not signed in silently: the page asks, naming the account
        landing = await his.get(f"{link.path}?{link.query.decode()}")
        assert landing.status_code == 200
        assert "data-autosubmit" not in landing.text
        assert "Sign in as a***@lakeside.example?" in landing.text
        assert "ana@lakeside.example" not in landing.text, "the address is masked"
        # And the link's form posted without the confirmation starts no session
        token = link.params["token"]
        unasked = await his.post("/sign-in/link", data={"token": token, "csrf_token": csrf_of(landing.text)})
        assert unasked.status_code == 200 and "Sign in as a***@lakeside.example?" in unasked.text
        assert "citycert_session" not in his.cookies
        assert (await his.get("/home")).status_code == 401
        # When he confirms, then he is signed in as Ana (it is her link: she meant to be on his device)
        confirmed = await his.post(
            "/sign-in/link", data={"token": token, "csrf_token": csrf_of(landing.text), "confirmed": "yes"}
        )
        assert (confirmed.status_code, confirmed.headers["location"]) == (303, "/home")
        assert (await his.get("/home")).headers["location"] == "/cities/lakeside"


async def test_the_question_is_asked_in_the_visitors_language(portal: Portal) -> None:
    await portal.api.register("lakeside")
    await portal.person("Ana Lima", "ana@lakeside.example", "en", city_id="lakeside")
    async with portal.visitor() as hers:
        link = await ask_for_link(portal, hers, "ana@lakeside.example")
    for language, words in (
        ("es", "¿Iniciar sesión como a***@lakeside.example?"),
        ("pt", "Entrar como a***@lakeside.example?"),
    ):
        async with portal.visitor(**{"Accept-Language": language}) as other:
            landing = await other.get(f"{link.path}?{link.query.decode()}")
            assert words in landing.text, language


async def test_a_used_link_opened_elsewhere_says_it_was_used_without_naming_anyone(portal: Portal) -> None:
    await portal.api.register("lakeside")
    await portal.person("Ana Lima", "ana@lakeside.example", "en", city_id="lakeside")
    async with portal.visitor() as hers:
        await sign_in(portal, hers, "ana@lakeside.example")
    link = httpx.URL(await portal.mailed_link("ana@lakeside.example"))
    async with portal.visitor() as other:
        landing = await other.get(f"{link.path}?{link.query.decode()}")
    assert landing.status_code == 410 and "This link was used already" in landing.text
    assert "lakeside.example" not in landing.text


# --- aged links and sessions are deleted ----------------------------------------------------------


async def count(portal: Portal, table: str) -> int:
    async with portal.api.store.connection() as conn:
        return int(await conn.fetchval(f"SELECT count(*) FROM {table}"))  # our table names


async def test_the_sweep_deletes_sessions_past_their_lifetime_and_links_long_expired(portal: Portal) -> None:
    # Given Ana signed in in two browsers (two links, two sessions) and asked for a third link
    await portal.api.register("lakeside")
    await portal.person("Ana Lima", "ana@lakeside.example", "en", city_id="lakeside")
    async with portal.visitor() as first, portal.visitor() as second:
        await sign_in(portal, first, "ana@lakeside.example")
        await sign_in(portal, second, "ana@lakeside.example")
        async with portal.visitor() as third:
            await ask_for_link(portal, third, "ana@lakeside.example")
        assert (await count(portal, "web_sessions"), await count(portal, "sign_in_links")) == (2, 3)
        now = datetime.now(UTC)
        # When the sweep runs now, then nothing goes: both sessions live, every link recent
        assert await sweep(portal.api.store, now=now) == Swept(sessions=0, links=0)
        # Given the first session past its absolute lifetime, the two used links expired two days
        # ago and the unopened one an hour ago
        first_session = digest(first.cookies["citycert_session"])
        async with portal.api.store.connection() as conn:
            await conn.execute(
                "UPDATE web_sessions SET expires_at = $2::timestamptz - interval '1 second', "
                "idle_until = $2::timestamptz - interval '1 second' WHERE secret_hash = $1",
                first_session,
                now,
            )
            await conn.execute(
                "UPDATE sign_in_links SET created_at = $1::timestamptz - interval '2 days', "
                "expires_at = $1::timestamptz - interval '2 days' + interval '15 minutes' "
                "WHERE used_at IS NOT NULL",
                now,
            )
            await conn.execute(
                "UPDATE sign_in_links SET created_at = $1::timestamptz - interval '75 minutes', "
                "expires_at = $1::timestamptz - interval '1 hour' WHERE used_at IS NULL",
                now,
            )
        # When the sweep runs
        swept = await sweep(portal.api.store, now=now)
        # Then the aged session is gone and so is its link; the live session keeps its own link,
        # and the link expired an hour ago stays, to be answered "expired" for a day
        assert swept == Swept(sessions=1, links=1)
        assert (await count(portal, "web_sessions"), await count(portal, "sign_in_links")) == (1, 2)
        assert (await first.get("/home")).status_code == 401
        assert (await second.get("/home")).status_code == 303, "the live session is untouched"
        # And a day on, past the live session's twelve hours too, everything has gone
        assert await sweep(portal.api.store, now=now + timedelta(days=1)) == Swept(sessions=1, links=2)
        assert (await count(portal, "web_sessions"), await count(portal, "sign_in_links")) == (0, 0)


async def test_the_mail_relay_sweeps_as_it_runs(portal: Portal) -> None:
    await portal.api.register("lakeside")
    await portal.person("Ana Lima", "ana@lakeside.example", "en", city_id="lakeside")
    async with portal.visitor() as browser:
        await sign_in(portal, browser, "ana@lakeside.example")
    # Given her session's twelve hours are over
    async with portal.api.store.connection() as conn:
        await conn.execute(
            "UPDATE web_sessions SET expires_at = now() - interval '1 second', "
            "idle_until = now() - interval '1 second'"
        )
    # When the relay runs its round, then the session is deleted
    await portal.deliver()
    assert await count(portal, "web_sessions") == 0


async def test_the_runtime_role_every_process_runs_as_may_sweep(portal: Portal, database_url: str) -> None:
    # Given Ana signed in (a link and a session), and a store opened as the processes' runtime role
    await portal.api.register("lakeside")
    await portal.person("Ana Lima", "ana@lakeside.example", "en", city_id="lakeside")
    async with portal.visitor() as browser:
        await sign_in(portal, browser, "ana@lakeside.example")
    runtime = await open_city_store(await ensure_runtime_login(database_url), min_size=1, max_size=2)
    try:
        # When it sweeps two days on, then both rows go (migration 0016 grants it the deletes)
        swept = await sweep(runtime, now=datetime.now(UTC) + timedelta(days=2))
    finally:
        await runtime.close()
    assert swept == Swept(sessions=1, links=1)
