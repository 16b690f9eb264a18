"""The public's pages, with no sign-in, on the real app: a city walked to Gold through the API is
in the directory page (filtered by the form, in the visitor's language), its certificate's page
says valid with its credential and the programme's key, and says revoked or suspended, with the
programme's reason, when it is; an unknown number is not found in words; a round's announcement
page is not found under embargo, exactly as its JSON, and shows its sections once announced."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, timedelta
from typing import Any

import httpx
import pytest

from app.services import build_services
from domain import Actor
from domain import commands as cmd
from entrypoints.http import create_app
from readmodel.directory import certificates_of_number
from tests.integration.entrypoints.http.conftest import Api, app_client
from tests.integration.entrypoints.http.test_public import CITY, ROUND, certified_gold
from tests.integration.entrypoints.http.test_rounds import TemporalClock
from tests.integration.entrypoints.web.conftest import Portal


@dataclass
class Public:
    api: Api
    clock: TemporalClock
    app: Any

    @property
    def walked(self) -> tuple[Api, TemporalClock]:
        """As the JSON's tests walk a city (tests/integration/entrypoints/http/test_public.py)."""
        return self.api, self.clock


@pytest.fixture
async def public(portal: Portal) -> AsyncIterator[Public]:
    """The portal's app on the time-skipping server's clock (the awards and the announcement dates
    on one clock), its public cache off so that each read sees what the wait changed."""
    api = portal.api
    assert api.env is not None and api.settings is not None
    clock = TemporalClock(await api.env.get_current_time())
    settings = api.settings.model_copy(update={"public_cache_for": timedelta(0)})
    app = create_app(settings, client=api.env.client, store=api.store)
    app.state.services = replace(app.state.services, clock=clock)
    async with app_client(app) as http:
        yield Public(replace(api, http=http, settings=settings), clock, app)


def visitor(public: Public, **headers: str) -> httpx.AsyncClient:
    """Someone with a browser and no account: the same app, cookies of their own."""
    transport = httpx.ASGITransport(app=public.app)
    return httpx.AsyncClient(transport=transport, base_url="http://citycert.test", headers=headers)


async def give(public: Public, command: cmd.Command) -> None:
    """A programme's command through the command service every entry point uses."""
    api = public.api
    assert api.env is not None and api.settings is not None
    commands = build_services(api.settings, api.store, api.env.client).commands
    await commands.give(CITY, command, Actor(role="committee", id="chair"))


async def test_the_directory_lists_a_certified_city_filters_it_and_links_its_certificate(
    public: Public,
) -> None:
    number = await certified_gold(public.walked)
    async with visitor(public) as browser:
        page = await browser.get("/directory")
        assert page.status_code == 200, page.text
        assert "Ridgeway, Ohio, United States" in page.text
        assert f'href="/certificates/{number}"' in page.text
        assert "1 certified city" in page.text
        assert "set-cookie" not in page.headers  # a public page carries nothing of its visitor
        # Cached as its JSON is, one copy per language.
        assert page.headers["cache-control"] == "public, max-age=60"
        assert page.headers["vary"] == "Accept-Language, Cookie"

        by_level = await browser.get("/directory", params={"level": "silver"})
        assert "No certified city matches these filters." in by_level.text
        assert "Ridgeway" not in by_level.text.split('id="results-title"')[1]
        by_country = await browser.get("/directory", params={"country": "US", "round": ROUND})
        assert f'href="/certificates/{number}"' in by_country.text
        assert '<option value="US" selected>' in by_country.text

        wrong = await browser.get("/directory", params={"level": "diamond"})
        assert wrong.status_code == 422
        assert 'class="error-summary"' in wrong.text and "Choose a level from the list" in wrong.text

    async with visitor(public, **{"Accept-Language": "es-MX,es;q=0.9"}) as browser:
        spanish = await browser.get("/directory")
        assert '<html lang="es">' in spanish.text and "Ciudades certificadas" in spanish.text
        assert "Ridgeway, Ohio, Estados Unidos" in spanish.text and "Oro" in spanish.text


async def test_a_certificates_page_says_it_is_valid_in_the_visitors_language_with_its_credential(
    public: Public,
) -> None:
    number = await certified_gold(public.walked)
    async with visitor(public) as browser:
        page = await browser.get(f"/certificates/{number}")
        assert page.status_code == 200, page.text
        assert "This certificate is valid: Ridgeway is certified Gold until" in page.text
        assert f'href="/public/certificates/{number}/credential"' in page.text
        assert 'href="/public/credentials/key"' in page.text
        assert page.headers["cache-control"] == "no-cache"  # a revocation shows at once
        assert f'<a href="/rounds/{ROUND}">Fall 2030</a>' in page.text  # its round, by name

        portuguese = await browser.get(f"/certificates/{number}", params={"lang": "pt"})
        assert portuguese.headers["cache-control"] == "no-store"  # it sets the language's cookie
        assert '<html lang="pt">' in portuguese.text
        assert "Este certificado é válido: Ridgeway está certificada no nível Ouro até" in portuguese.text
        # The switch is remembered: the next page speaks Portuguese too.
        again = await browser.get("/directory")
        assert "Cidades certificadas" in again.text


async def test_a_suspended_then_revoked_certificate_says_so_with_the_programmes_reason(
    public: Public,
) -> None:
    number = await certified_gold(public.walked)
    await give(public, cmd.SuspendCertification(reason="an audit is under way", suspended_by="chair"))
    async with visitor(public) as browser:
        suspended = await browser.get(f"/certificates/{number}")
        assert "Suspended" in suspended.text
        assert "This certificate is suspended by the programme: an audit is under way." in suspended.text
        assert f"{number}/credential" not in suspended.text  # no signed credential says it is in force
        listed = await browser.get("/directory")
        assert f'href="/certificates/{number}"' in listed.text and "Suspended" in listed.text

        await give(public, cmd.RevokeCertification(reason="the evidence was fabricated", revoked_by="chair"))
        revoked = await browser.get(f"/certificates/{number}", params={"lang": "es"})
        assert "Revocado" in revoked.text
        assert "Este certificado fue revocado el " in revoked.text
        assert ": the evidence was fabricated." in revoked.text  # the programme's words, as written
        assert f'href="/certificates/{number}"' not in (await browser.get("/directory")).text


async def test_an_unknown_or_malformed_certificate_number_is_not_found_in_words(public: Public) -> None:
    async with visitor(public, **{"Accept-Language": "es"}) as browser:
        for number in ("CC-2026-ATLANTIS-1", "not a number"):
            page = await browser.get(f"/certificates/{number}")
            assert page.status_code == 404, number
            assert "Certificado no encontrado" in page.text
            assert "Revise el número tal como aparece en el certificado" in page.text


async def test_a_round_under_embargo_is_not_found_as_its_json_and_announced_shows_its_sections(
    public: Public,
) -> None:
    api, clock = public.walked
    assert api.env is not None
    await certified_gold(public.walked, announced=False)
    async with visitor(public) as browser:
        embargoed = await browser.get(f"/rounds/{ROUND}")
        assert embargoed.status_code == 404
        assert (await browser.get(f"/public/rounds/{ROUND}/announcement.json")).status_code == 404
        unknown = await browser.get("/rounds/2099-never")
        assert unknown.status_code == 404
        # The same words for both: the embargo does not tell that the round exists.
        assert "No announcement of round" in embargoed.text and "No announcement of round" in unknown.text
        assert (await browser.get("/rounds/not a round!")).status_code == 404
        assert f'href="/rounds/{ROUND}"' not in (await browser.get("/rounds")).text

        await api.env.sleep(timedelta(days=21))
        clock.now = await api.env.get_current_time()

        page = await browser.get(f"/rounds/{ROUND}")
        assert page.status_code == 200, page.text
        assert "Fall 2030: certified cities" in page.text
        newly = page.text.split('id="newly-certified"')[1].split("</section>")[0]
        assert "<h3>Gold</h3>" in newly and "Ridgeway, Ohio, United States" in newly
        assert "1 city certified" in page.text
        honor_roll = page.text.split('id="honor-roll"')[1].split("</section>")[0]
        assert "None." in honor_roll  # the committee designated no one
        assert f'href="/rounds/{ROUND}"' in (await browser.get("/rounds")).text


# --- a certified city's page (/directory/{city_id}) ---------------------------------------------------


async def test_a_certified_citys_page_shows_its_certificate_and_the_round_that_announced_it(
    public: Public,
) -> None:
    number = await certified_gold(public.walked)
    async with visitor(public) as browser:
        # The directory links the city's own page
        listed = await browser.get("/directory")
        assert f'<a href="/directory/{CITY}">Ridgeway, Ohio, United States</a>' in listed.text

        page = await browser.get(f"/directory/{CITY}")
        assert page.status_code == 200, page.text
        assert "<h1>Ridgeway</h1>" in page.text and "Ridgeway, Ohio, United States" in page.text
        current = page.text.split('id="current-title"')[1].split("</section>")[0]
        assert "This certificate is valid: Ridgeway is certified Gold until" in current
        assert f'<a href="/certificates/{number}">{number}</a>' in current
        assert "Valid from" in current and "Valid until" in current
        past = page.text.split('id="past-title"')[1].split("</section>")[0]
        assert "None: this is the city&#39;s first certificate." in past
        rounds = page.text.split('id="rounds-title"')[1].split("</section>")[0]
        assert f'<a href="/rounds/{ROUND}">Fall 2030</a>, announced on ' in rounds
        assert f'href="/public/cities/{CITY}"' in page.text  # the same as JSON
        assert page.headers["cache-control"] == "no-cache"  # a revocation shows at once
        assert "set-cookie" not in page.headers
        # And its certificate's page links back to it
        verified = await browser.get(f"/certificates/{number}")
        assert f'<a href="/directory/{CITY}">Ridgeway, Ohio, United States</a>' in verified.text

    async with visitor(public, **{"Accept-Language": "es"}) as browser:
        spanish = await browser.get(f"/directory/{CITY}")
        assert '<html lang="es">' in spanish.text
        assert "Este certificado es válido" in spanish.text and "Anunciada en" in spanish.text


async def test_a_revoked_certificate_moves_to_the_citys_past_certifications(public: Public) -> None:
    number = await certified_gold(public.walked)
    await give(public, cmd.RevokeCertification(reason="the evidence was fabricated", revoked_by="chair"))
    async with visitor(public, **{"Accept-Language": "pt"}) as browser:
        page = await browser.get(f"/directory/{CITY}")
        assert page.status_code == 200, page.text
        current = page.text.split('id="current-title"')[1].split("</section>")[0]
        assert "Ridgeway não tem nenhum certificado agora." in current
        past = page.text.split('id="past-title"')[1].split("</section>")[0]
        assert f'<a href="/certificates/{number}">{number}</a>' in past
        assert "Ouro" in past and "Revogado" in past


async def test_a_city_never_certified_or_under_embargo_is_not_found_in_words(public: Public) -> None:
    await certified_gold(public.walked, announced=False)
    await public.api.register("lakeside")
    async with visitor(public) as browser:
        for city_id in (CITY, "lakeside", "atlantis", "not a city!"):
            page = await browser.get(f"/directory/{city_id}")
            assert page.status_code == 404, city_id
            assert "City not found" in page.text
            assert "The directory lists every certified city." in page.text
            # As its JSON: the embargo does not tell that the city was certified.
            assert (await browser.get(f"/public/cities/{city_id}")).status_code == 404, city_id


# --- a certificate's page kept between readers (routes_public.py, fragments.py) --------------------


async def test_a_kept_certificate_page_is_each_languages_own_and_shows_a_suspension_next(
    public: Public,
) -> None:
    number = await certified_gold(public.walked)
    async with visitor(public) as ana, visitor(public, **{"Accept-Language": "es"}) as rosa:
        # Given the page read in English, then in Spanish, then in English again
        first = await ana.get(f"/certificates/{number}")
        spanish = await rosa.get(f"/certificates/{number}")
        again = await ana.get(f"/certificates/{number}")
        # When the programme suspends the certificate
        await give(public, cmd.SuspendCertification(reason="an audit is under way", suspended_by="chair"))
        suspended = await ana.get(f"/certificates/{number}")
    # Then each language has its own page, the same for each reader of it, and the next page after
    # the suspension says so
    assert again.text == first.text and "This certificate is valid" in first.text
    assert '<html lang="es">' in spanish.text and "Este certificado es válido" in spanish.text
    assert "This certificate is suspended by the programme: an audit is under way." in suspended.text
    assert f"{number}/credential" not in suspended.text


async def test_a_certificate_page_answers_not_modified_while_it_is_the_same(public: Public) -> None:
    number = await certified_gold(public.walked)
    async with visitor(public) as browser:
        page = await browser.get(f"/certificates/{number}")
        tag = page.headers["etag"]
        same = await browser.get(f"/certificates/{number}", headers={"If-None-Match": tag})
        await give(public, cmd.SuspendCertification(reason="an audit is under way", suspended_by="chair"))
        changed = await browser.get(f"/certificates/{number}", headers={"If-None-Match": tag})
    assert same.status_code == 304 and same.content == b"" and same.headers["etag"] == tag
    assert same.headers["cache-control"] == "no-cache" and same.headers["vary"] == "Accept-Language, Cookie"
    assert changed.status_code == 200 and "suspended" in changed.text and changed.headers["etag"] != tag


async def test_a_kept_certificate_page_says_expired_from_the_second_it_ends(public: Public) -> None:
    number = await certified_gold(public.walked)
    awards, _ = await certificates_of_number(public.api.store, number)
    ends = next(a.valid_until for a in awards if a.certificate_number == number)
    # A moment before its end on the same day in UTC (the day is part of what the page is kept by,
    # so this is the clock alone ending it): a second before, or less when the day began later
    day_began = ends.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    before = ends - max(min(timedelta(seconds=1), (ends - day_began) / 2), timedelta(microseconds=1))
    async with visitor(public) as browser:
        public.clock.now = before
        valid = await browser.get(f"/certificates/{number}")
        public.clock.now = ends + timedelta(microseconds=1)
        ended = await browser.get(f"/certificates/{number}")
    assert "This certificate is valid" in valid.text
    assert "This certificate is valid" not in ended.text and "xpired" in ended.text
