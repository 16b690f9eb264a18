"""The operators' pages: the cities filtered and one city's state and events, people added and
deactivated, reviewers' profiles kept and reviewers assigned to a city's cycle through the command
service, rounds created and changed, the mail's deliveries, the store verified and the workflows
checked, tokens created (the secret shown once) and revoked. A refusal shows the application's or
the domain's reason beside the form and records nothing; a person of another role is refused."""

from __future__ import annotations

import html
import re

import httpx
import pytest

from app.people import get_reviewer_profile, list_people
from app.relay import MailRelay, outbox
from app.rounds import adopt_recorded_cohorts, all_rounds
from app.tokens import issue_token, list_tokens, rotate_token
from domain import Actor
from domain.people import PersonRole
from domain.standard import get_standard
from entrypoints.web import routes_operator
from readmodel import city_stream
from runtime.smtp import SmtpServer
from tests.integration.entrypoints.http.scenario_runner import HttpRunner
from tests.integration.entrypoints.web.conftest import Portal, csrf_of, sign_in
from tests.integration.eventstore.stories import CityRun
from tests.scenarios import SILVER_SCORE, STANDARD, apply, decide, to_committee
from workflows.contracts import city_workflow_id

OLGA = "olga@programme.example"
ROUND = "2026-spring"


async def operator(portal: Portal, browser: httpx.AsyncClient) -> str:
    """Olga, an operator, signed in; the CSRF token of her pages' forms."""
    await portal.person("Olga Duarte", OLGA, "en", role="operator")
    signed = await sign_in(portal, browser, OLGA)
    assert (signed.status_code, signed.headers["location"]) == (303, "/home")
    home = await browser.get("/home")
    assert (home.status_code, home.headers["location"]) == (303, "/operator")
    return csrf_of((await browser.get("/operator")).text)


def text_of(page: httpx.Response) -> str:
    return html.unescape(re.sub(r"\s+", " ", page.text))


async def test_an_operator_lists_the_cities_by_phase_and_round_and_reads_one(portal: Portal) -> None:
    # Given Lakeside gathering evidence in the spring round, and Hillview only registered
    await portal.api.register("lakeside")
    await portal.api.register("hillview")
    assert await HttpRunner(portal.api).walk("lakeside", [apply(ROUND)]) == []
    async with portal.visitor() as browser:
        await operator(portal, browser)
        # When Olga lists the cities, then those of the round, then those registered
        every = await browser.get("/operator/cities")
        of_round = await browser.get(f"/operator/cities?round={ROUND}")
        registered = await browser.get("/operator/cities?phase=registered")
        one = await browser.get("/operator/cities/lakeside")
        spanish = await browser.get("/operator/cities?lang=es")
    # Then each list shows the cities that match, with their phase and round
    assert every.status_code == 200
    assert "Lakeside" in every.text and "Hillview" in every.text and "2 cities" in text_of(every)
    assert "Gathering evidence" in text_of(every) and ROUND in every.text
    assert "Lakeside" in of_round.text and "Hillview" not in of_round.text
    assert "Hillview" in registered.text and "Lakeside" not in registered.text
    assert "2 ciudades" in text_of(spanish) and "Cualquier fase" in spanish.text
    # And the city's page shows its state and its events, the latest first
    page = text_of(one)
    assert one.status_code == 200 and "Gathering evidence" in page and STANDARD in page
    recorded = [e.type for e in await portal.api.store.read_stream(city_stream("lakeside"))]
    assert f"{len(recorded)} events recorded" in page
    assert all(t in one.text for t in recorded)
    assert one.text.index(recorded[-1]) < one.text.index(recorded[0])
    assert f'"cohort": "{ROUND}"' in one.text  # each event's data, to open beside its type
    assert 'href="/operator/cities" aria-current="page"' in every.text


async def test_the_cities_come_a_page_at_a_time_keeping_the_filter(
    portal: Portal, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given three cities registered, and pages of two cities
    monkeypatch.setattr(routes_operator, "CITIES_PAGE", 2)
    for city_id in ("alder", "birch", "cedar"):
        await portal.api.register(city_id)
    async with portal.visitor() as browser:
        await operator(portal, browser)
        first = await browser.get("/operator/cities?phase=registered")
        link = re.search(r'<a href="([^"]+)" rel="next">', first.text)
        assert link, "the first page links to the next"
        second = await browser.get(html.unescape(link[1]))
    # Then the first page shows the first two, the second the third, each with the phase kept
    assert "Alder" in first.text and "Birch" in first.text and "Cedar" not in first.text
    assert "Cities 1 to 2" in text_of(first)
    assert html.unescape(link[1]) == "/operator/cities?phase=registered&page=2"
    assert "Cedar" in second.text and "Alder" not in second.text and "Cities 3 to 3" in text_of(second)
    assert 'rel="prev"' in second.text and 'rel="next"' not in second.text


async def test_a_round_no_city_applied_to_lists_no_city(portal: Portal) -> None:
    await portal.api.register("lakeside")
    async with portal.visitor() as browser:
        await operator(portal, browser)
        unknown = await browser.get("/operator/cities?round=2099-never")
        unreadable = await browser.get("/operator/cities", params={"round": "x\x00" + "y" * 300})
    for answer in (unknown, unreadable):
        assert (
            answer.status_code == 200 and "No city matches." in answer.text and "Lakeside" not in answer.text
        )


async def test_an_unknown_city_is_not_found(portal: Portal) -> None:
    async with portal.visitor() as browser:
        await operator(portal, browser)
        answer = await browser.get("/operator/cities/nowhere")
    assert answer.status_code == 404 and "No city of that id" in answer.text


async def test_an_operator_adds_a_person_and_deactivates_them(portal: Portal) -> None:
    # Given Lakeside registered and Olga signed in
    await portal.api.register("lakeside")
    async with portal.visitor() as browser:
        token = await operator(portal, browser)
        # When she adds Lucia, Lakeside's data lead, who reads Spanish
        fields = {"name": "Lucía Gómez", "email": "lucia@lakeside.example", "role": "city", "language": "es"}
        added = await browser.post(
            "/operator/people", data={**fields, "city_id": "lakeside", "csrf_token": token}
        )
        assert added.status_code == 303
        listed = await browser.get(added.headers["location"])
        # Then Lucia is listed, active, of Lakeside
        assert "The person was added" in listed.text and "Lucía Gómez" in listed.text
        lucia = next(p for p in await list_people(portal.api.store) if p.name == "Lucía Gómez")
        assert (lucia.role, lucia.city_id, lucia.active) == (PersonRole.CITY, "lakeside", True)
        # When she deactivates her
        gone = await browser.post(f"/operator/people/{lucia.id}/deactivation", data={"csrf_token": token})
        assert gone.status_code == 303
        after = await browser.get("/operator/people")
    # Then Lucia is listed as deactivated
    lucia = next(p for p in await list_people(portal.api.store) if p.id == lucia.id)
    assert not lucia.active and "Deactivated" in after.text


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"role": "city", "city_id": "nowhere"}, "no city 'nowhere' is registered"),
        ({"role": "operator", "email": OLGA}, "an active person already has the e-mail address"),
        ({"role": "city", "email": "not an address"}, "email"),
    ],
)
async def test_a_person_who_cannot_be_kept_is_refused_with_the_reason(
    portal: Portal, fields: dict[str, str], reason: str
) -> None:
    async with portal.visitor() as browser:
        token = await operator(portal, browser)
        before = len(await list_people(portal.api.store))
        typed = {"name": "Someone", "email": "someone@example.org", "language": "en", **fields}
        refused = await browser.post("/operator/people", data={**typed, "csrf_token": token})
    assert refused.status_code == 422
    assert "The person was not added" in refused.text and reason in html.unescape(refused.text)
    assert 'value="Someone"' in refused.text  # what was typed stays in the form
    assert len(await list_people(portal.api.store)) == before


async def test_a_malformed_field_is_named_and_linked_from_the_error_summary(portal: Portal) -> None:
    async with portal.visitor() as browser:
        token = await operator(portal, browser)
        typed = {"name": "Someone", "email": "not an address", "role": "operator", "language": "en"}
        refused = await browser.post("/operator/people", data={**typed, "csrf_token": token})
    assert refused.status_code == 422
    summary = refused.text[refused.text.index('class="error-summary"') :]
    assert re.search(r'<li><a href="#email">E-mail address: [^<]+</a></li>', summary)
    assert 'id="email"' in refused.text


async def test_a_form_without_its_csrf_token_is_refused_and_nothing_is_added(portal: Portal) -> None:
    async with portal.visitor() as browser:
        await operator(portal, browser)
        before = len(await list_people(portal.api.store))
        typed = {"name": "Someone", "email": "someone@example.org", "role": "operator", "language": "en"}
        refused = await browser.post("/operator/people", data=typed)
        no_round = await browser.post(
            "/operator/rounds", data={"round_id": "2030-spring", "csrf_token": "forged"}
        )
    assert refused.status_code == 403 and no_round.status_code == 403
    assert len(await list_people(portal.api.store)) == before and await all_rounds(portal.api.store) == ()


async def test_an_operator_keeps_a_reviewers_profile_and_assigns_them_to_a_citys_cycle(
    portal: Portal,
) -> None:
    # Given Lakeside gathering evidence, Rui a reviewer from Hillview, and Olga signed in
    await portal.api.register("lakeside")
    await portal.api.register("hillview")
    assert await HttpRunner(portal.api).walk("lakeside", [apply(ROUND)]) == []
    rui = await portal.person("Rui Costa", "rui@partner.example", "pt", role="reviewer", city_id="hillview")
    area = get_standard(STANDARD).practice_areas[0].id
    async with portal.visitor() as browser:
        token = await operator(portal, browser)
        # When she keeps his profile: his organisation, one practice area, his capacity
        kept = await browser.post(
            f"/operator/reviewers/{rui}/profile",
            data={
                "organisation": "Partner Lab",
                "practice_areas": [area],
                "capacity": "8",
                "csrf_token": token,
            },
        )
        assert kept.status_code == 303
        reviewers = await browser.get("/operator/reviewers")
        # And assigns him the practice area of Lakeside's cycle, and names him its lead reviewer
        page = await browser.get("/operator/cities/lakeside")
        assert f'value="{area}"' in page.text and "Rui Costa" in page.text
        assigned = await browser.post(
            "/operator/cities/lakeside/practice-areas",
            data={"reviewer_id": rui, "practice_area": area, "csrf_token": token},
        )
        lead = await browser.post(
            "/operator/cities/lakeside/lead-reviewer", data={"reviewer_id": rui, "csrf_token": token}
        )
        shown = await browser.get(lead.headers["location"])
    # Then the profile is kept, and the cycle records both assignments
    profile = await get_reviewer_profile(portal.api.store, rui)
    assert (profile.organisation, profile.practice_areas, profile.capacity) == ("Partner Lab", [area], 8)
    assert "Partner Lab" in reviewers.text
    assert (assigned.status_code, lead.status_code) == (303, 303)
    assert "The assignment was recorded" in shown.text
    recorded = [e.type for e in await portal.api.store.read_stream(city_stream("lakeside"))]
    assert "PracticeAreaAssigned" in recorded and "LeadReviewerAssigned" in recorded


async def test_a_reviewers_declared_conflict_is_kept_and_the_domain_refuses_their_assignment(
    portal: Portal,
) -> None:
    # Given Lakeside gathering evidence, and Rui a reviewer from Hillview
    await portal.api.register("lakeside")
    await portal.api.register("hillview")
    assert await HttpRunner(portal.api).walk("lakeside", [apply(ROUND)]) == []
    rui = await portal.person("Rui Costa", "rui@partner.example", "pt", role="reviewer", city_id="hillview")
    area = get_standard(STANDARD).practice_areas[0].id
    async with portal.visitor() as browser:
        token = await operator(portal, browser)
        profile = {
            "organisation": "Partner Lab",
            "practice_areas": [area],
            "capacity": "8",
            "csrf_token": token,
        }
        # When Olga gives a conflict without its reason, then with it
        no_reason = await browser.post(
            f"/operator/reviewers/{rui}/profile", data={**profile, "conflicts": "lakeside"}
        )
        kept = await browser.post(
            f"/operator/reviewers/{rui}/profile",
            data={**profile, "conflicts": "lakeside: consulted for its data office in 2025"},
        )
        listed = await browser.get("/operator/reviewers")
        before = await portal.api.store.read_stream(city_stream("lakeside"))
        # And assigns him Lakeside's practice area
        refused = await browser.post(
            "/operator/cities/lakeside/practice-areas",
            data={"reviewer_id": rui, "practice_area": area, "csrf_token": token},
        )
    # Then the first is refused with the field linked and what was typed kept; the second is kept
    assert no_reason.status_code == 422 and f'href="#conflicts-{rui}"' in no_reason.text
    assert 'value="Partner Lab"' in no_reason.text
    assert kept.status_code == 303
    assert "lakeside: consulted for its data office in 2025" in listed.text
    assert (await get_reviewer_profile(portal.api.store, rui)).conflict_cities == ["lakeside"]
    # And the domain refuses his assignment to Lakeside, with its reason, recording nothing
    assert refused.status_code == 409 and "The assignment was not recorded" in refused.text
    assert await portal.api.store.read_stream(city_stream("lakeside")) == before


async def test_an_assignment_the_domain_refuses_shows_its_reason(portal: Portal) -> None:
    # Given Hillview registered, with no cycle open, and a reviewer from elsewhere
    await portal.api.register("hillview")
    await portal.api.register("lakeside")
    rui = await portal.person("Rui Costa", "rui@partner.example", "pt", role="reviewer", city_id="lakeside")
    async with portal.visitor() as browser:
        token = await operator(portal, browser)
        before = await portal.api.store.read_stream(city_stream("hillview"))
        # When Olga names him the lead reviewer of Hillview's cycle, which is not open
        refused = await browser.post(
            "/operator/cities/hillview/lead-reviewer", data={"reviewer_id": rui, "csrf_token": token}
        )
        # And names someone who is no reviewer
        nobody = await browser.post(
            "/operator/cities/hillview/lead-reviewer",
            data={"reviewer_id": "per_0000000000000000", "csrf_token": token},
        )
    # Then the page says why, and nothing is recorded
    assert refused.status_code == 409 and "The assignment was not recorded" in refused.text
    assert nobody.status_code == 422 and "Choose an active reviewer." in nobody.text
    assert await portal.api.store.read_stream(city_stream("hillview")) == before


async def test_an_operator_creates_a_round_and_changes_its_dates(portal: Portal) -> None:
    async with portal.visitor() as browser:
        token = await operator(portal, browser)
        # When Olga creates the 2030 spring round
        fields = {
            "round_id": "2030-spring",
            "name": "Spring 2030",
            "opens_on": "2030-01-10",
            "closes_on": "2030-02-28",
            "submission_deadline": "2030-04-30",
            "announcement_on": "2030-09-15",
            "review_capacity": "40",
        }
        created = await browser.post("/operator/rounds", data={**fields, "csrf_token": token})
        assert created.status_code == 303
        listed = await browser.get("/operator/rounds")
        # And moves its announcement a week later
        changed = await browser.post(
            "/operator/rounds/2030-spring",
            data={**fields, "announcement_on": "2030-09-22", "csrf_token": token},
        )
        assert changed.status_code == 303
        shown = await browser.get("/operator/rounds/2030-spring")
    # Then the round is listed, and its page shows the new date and the change, who made it
    assert "Spring 2030" in listed.text and "/operator/rounds/2030-spring" in listed.text
    (the_round,) = [r for r in await all_rounds(portal.api.store) if r.round_id == "2030-spring"]
    assert the_round.announcement_on.isoformat() == "2030-09-22" and the_round.review_capacity == 40
    assert "September 22, 2030" in text_of(shown) and "announcement_on = 2030-09-22" in text_of(shown)


async def test_a_round_out_of_order_or_unchanged_is_refused_with_the_reason(portal: Portal) -> None:
    async with portal.visitor() as browser:
        token = await operator(portal, browser)
        fields = {
            "round_id": "2030-spring",
            "name": "Spring 2030",
            "opens_on": "2030-03-01",
            "closes_on": "2030-02-28",  # before it opens
            "submission_deadline": "2030-04-30",
            "announcement_on": "2030-09-15",
            "review_capacity": "40",
        }
        refused = await browser.post("/operator/rounds", data={**fields, "csrf_token": token})
        assert await all_rounds(portal.api.store) == ()
        created = await browser.post(
            "/operator/rounds", data={**fields, "closes_on": "2030-03-31", "csrf_token": token}
        )
        assert created.status_code == 303
        same = await browser.post(
            "/operator/rounds/2030-spring", data={**fields, "closes_on": "2030-03-31", "csrf_token": token}
        )
        unknown = await browser.get("/operator/rounds/2030-autumn")
    assert refused.status_code == 422 and "The round was not created" in refused.text
    assert 'value="Spring 2030"' in refused.text
    assert same.status_code == 422 and "Nothing was changed" in same.text
    assert unknown.status_code == 404


async def test_the_mail_page_shows_what_was_sent_and_what_failed(portal: Portal) -> None:
    async with portal.visitor() as browser:
        await operator(portal, browser)  # her sign-in link was mailed and sent
        page = await browser.get("/operator/mail")
    assert page.status_code == 200
    assert re.search(r"<dt>Sent</dt><dd>[1-9]", page.text), "the sign-in mail counts as sent"
    assert "No delivery has failed." in page.text and "Latest deliveries" in page.text


async def test_an_operator_releases_the_decisions_mail_held_for_release(portal: Portal) -> None:
    # Given Lakeside decided by the committee, Ana of its staff, and a relay that holds decisions
    await portal.api.register("lakeside")
    await portal.person("Ana Lima", "ana@lakeside.example", "en", city_id="lakeside")
    steps = [*to_committee(apply(ROUND), SILVER_SCORE), decide(None, "short of the bar")]
    assert await HttpRunner(portal.api, per_city_staff=True).walk("lakeside", steps) == []
    holding = MailRelay(
        portal.api.store,
        SmtpServer("127.0.0.1", portal.smtp_port),
        mail_from="citycert <noreply@example.org>",
        hold_decisions=True,
    )
    await holding.run_once()
    held = (await outbox(portal.api.store)).by_status.get("held", 0)
    assert held > 0
    async with portal.visitor() as browser:
        token = await operator(portal, browser)
        page = await browser.get("/operator/mail")
        # When Olga sends the held mail
        released = await browser.post("/operator/mail/release", data={"csrf_token": token})
        assert released.status_code == 303
        after = await browser.get(released.headers["location"])
    # Then the page said what was held; now it says how many were released, and none is held
    assert "held for your release" in page.text and "Send the held mail" in page.text
    assert f"{held} held mail" in after.text and "Send the held mail" not in after.text
    assert (await outbox(portal.api.store)).by_status.get("held", 0) == 0


async def test_the_health_page_verifies_the_store_and_checks_the_workflows(portal: Portal) -> None:
    await portal.api.register("lakeside")
    async with portal.visitor() as browser:
        token = await operator(portal, browser)
        page = await browser.get("/operator/health")
        verified = await browser.post("/operator/health/verify", data={"csrf_token": token})
    assert page.status_code == 200 and "Every city's workflow is running." in html.unescape(page.text)
    assert verified.status_code == 200
    assert "The store passed every check" in verified.text and "events: OK" in verified.text


async def test_the_health_page_names_a_city_whose_workflow_stopped(portal: Portal) -> None:
    # Given Lakeside and Hillview registered, and Lakeside's workflow terminated
    await portal.api.register("lakeside")
    await portal.api.register("hillview")
    assert portal.api.env is not None
    await portal.api.env.client.get_workflow_handle(city_workflow_id("lakeside")).terminate("a test")
    async with portal.visitor() as browser:
        token = await operator(portal, browser)
        page = await browser.get("/operator/health")
        # Then the page names Lakeside, how its run ended, and not Hillview
        assert page.status_code == 200
        assert '<a href="/operator/cities/lakeside">' in page.text and "terminated" in page.text
        assert "/operator/cities/hillview" not in page.text
        # When Olga starts Lakeside's workflow again, and then Hillview's, which runs
        again = await browser.post("/operator/cities/lakeside/workflow/restart", data={"csrf_token": token})
        assert again.status_code == 303
        after = await browser.get(again.headers["location"])
        spoofed = await browser.get("/operator/health/restarted/call-us-now")
        running = await browser.post("/operator/cities/hillview/workflow/restart", data={"csrf_token": token})
    # Then Lakeside's runs again and the page lists no stopped workflow; Hillview's is refused, with why
    assert "The workflow of lakeside was started again." in after.text
    assert "was started again" not in spoofed.text  # a city the store does not hold is not named
    assert "Every city's workflow is running." in html.unescape(after.text)
    assert running.status_code == 409 and "The workflow was not started again" in running.text


async def test_an_operator_creates_a_token_seen_once_and_revokes_it(portal: Portal) -> None:
    await portal.api.register("lakeside")
    async with portal.visitor() as browser:
        token = await operator(portal, browser)
        before = {t.id for t in await list_tokens(portal.api.store)}
        created = await browser.post(
            "/operator/tokens", data={"role": "city", "city_id": "lakeside", "csrf_token": token}
        )
        (new,) = [t for t in await list_tokens(portal.api.store) if t.id not in before]
        secret = re.search(r'<code class="secret">([^<]+)</code>', created.text)
        listed = await browser.get("/operator/tokens")
        refused = await browser.post("/operator/tokens", data={"role": "city", "csrf_token": token})
        revoked = await browser.post(f"/operator/tokens/{new.id}/revocation", data={"csrf_token": token})
        after = await browser.get("/operator/tokens")
        with_secret = await portal.api.http.get(
            "/v1/cities/lakeside", headers={"Authorization": f"Bearer {secret[1] if secret else ''}"}
        )
    # Then the secret was shown on the answer only, and worked until it was revoked
    assert created.status_code == 201 and secret and "shown this once" in created.text
    assert new.id in listed.text and secret[1] not in listed.text
    assert refused.status_code == 422 and "a city token needs --city" in refused.text
    assert revoked.status_code == 303 and "Revoked" in after.text
    assert with_secret.status_code == 401


async def test_the_tokens_page_says_each_role_in_words_and_when_the_token_was_last_used(
    portal: Portal,
) -> None:
    # Given a city token for Lakeside, used once with the API, a committee token never used, and a
    # reviewer's token rotated
    await portal.api.register("lakeside")
    used = await issue_token(portal.api.store, "city", name="lakeside-portal", city="lakeside")
    idle = await issue_token(portal.api.store, "committee", name="chair-laptop")
    retired = await issue_token(portal.api.store, "reviewer", name="rev-ana", city="lakeside")
    successor = await rotate_token(portal.api.store, retired.info.id)
    seen = await portal.api.http.get(
        "/v1/cities/lakeside", headers={"Authorization": f"Bearer {used.secret}"}
    )
    assert seen.status_code == 200
    async with portal.visitor() as browser:
        await operator(portal, browser)
        # When Olga opens the tokens page in Spanish
        page = await browser.get("/operator/tokens?lang=es")
    # Then each row says its role as the people page does, and whether and when it was used
    rows = {
        token.info.id: html.unescape(re.sub(r"<[^>]+>|\s+", " ", row))
        for token in (used, idle, retired)
        for row in re.findall(rf"<tr>\s*<th scope=\"row\">{token.info.id}</th>.*?</tr>", page.text, re.S)
    }
    assert "Personal de la ciudad" in rows[used.info.id] and "Nunca" not in rows[used.info.id]
    assert "Miembro del comité" in rows[idle.info.id] and "Nunca" in rows[idle.info.id]
    assert " city " not in rows[used.info.id] and " committee " not in rows[idle.info.id]
    # And a rotated token names the one that replaced it
    assert f"(reemplazado por {successor.info.id})" in rows[retired.info.id]


@pytest.mark.parametrize(
    "path",
    [
        "/operator",
        "/operator/cities",
        "/operator/people",
        "/operator/reviewers",
        "/operator/rounds",
        "/operator/mail",
        "/operator/health",
        "/operator/tokens",
        "/operator/cities/lakeside",
    ],
)
async def test_city_staff_are_refused_the_operators_pages(portal: Portal, path: str) -> None:
    await portal.api.register("lakeside")
    await portal.person("Lucía Gómez", "lucia@lakeside.example", "en", city_id="lakeside")
    async with portal.visitor() as browser:
        await sign_in(portal, browser, "lucia@lakeside.example")
        answer = await browser.get(path)
    assert answer.status_code == 403 and "This page is for the programme" in answer.text


async def test_a_reviewer_cannot_add_a_person_and_nothing_is_added(portal: Portal) -> None:
    await portal.api.register("hillview")
    await portal.person("Rui Costa", "rui@partner.example", "en", role="reviewer", city_id="hillview")
    async with portal.visitor() as browser:
        await sign_in(portal, browser, "rui@partner.example")
        token = csrf_of((await browser.get("/review")).text)
        before = len(await list_people(portal.api.store))
        answer = await browser.post(
            "/operator/people",
            data={
                "name": "X",
                "email": "x@example.org",
                "role": "operator",
                "language": "en",
                "csrf_token": token,
            },
        )
    assert answer.status_code == 403
    assert len(await list_people(portal.api.store)) == before


async def test_the_round_filter_finds_the_cities_of_a_cohort_the_round_adopted(portal: Portal) -> None:
    # Given Upper applied under "2026-Spring" before rounds were records, the cohort then adopted by
    # round 2026-spring, and Hillview only registered
    upper = CityRun(portal.api.store, "upper")
    await upper.register()
    await upper.apply("2026-Spring")
    await portal.api.register("hillview")
    await adopt_recorded_cohorts(portal.api.store, Actor(role="operator", id="op-1"), now=upper.now)
    assert [(r.round_id, r.cohorts) for r in await all_rounds(portal.api.store)] == [
        ("2026-spring", ("2026-Spring",))
    ]
    async with portal.visitor() as browser:
        await operator(portal, browser)
        # When Olga lists the cities of round 2026-spring
        of_round = await browser.get("/operator/cities?round=2026-spring")
    # Then Upper is among them, and Hillview is not
    assert of_round.status_code == 200
    assert "Upper" in of_round.text and "Hillview" not in of_round.text


async def test_the_kept_city_list_shows_what_is_recorded_next_and_each_operators_own_header(
    portal: Portal,
) -> None:
    # Given Lakeside registered, and the list read by Olga (its part kept)
    await portal.api.register("lakeside")
    await portal.person("Omar Reis", "omar@citycert.example", "en", role="operator")
    async with portal.visitor() as olga, portal.visitor() as omar:
        token = await operator(portal, olga)
        before = await olga.get("/operator/cities")
        await sign_in(portal, omar, "omar@citycert.example")
        his = await omar.get("/operator/cities")
        # When Hillview registers
        await portal.api.register("hillview")
        after = await olga.get("/operator/cities")
    # Then the next list shows it; and each operator's page carries their own name and token
    assert "Hillview" not in before.text and "1 city" in text_of(before)
    assert "Hillview" in after.text and "2 cities" in text_of(after)
    assert "Olga Duarte" in before.text and "Omar Reis" not in before.text
    assert "Omar Reis" in his.text and "Olga Duarte" not in his.text
    assert csrf_of(before.text) == token and csrf_of(his.text) != token
