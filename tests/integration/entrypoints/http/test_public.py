"""The public side over HTTP, with no token: a city walked to an award through the API is in the
directory and its certificate verifiable; a revoked certificate says so; an unknown number is a
404 in words; the directory answers 304 to a reader holding its ETag; the CSVs have their header.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest

from app.credentials import Verified, public_key_from_document, verify_credential
from app.rounds import adopt_recorded_cohorts, list_rounds
from app.services import build_services
from domain import Actor, Level
from domain import commands as cmd
from domain import events as ev
from domain.standard import get_standard
from entrypoints.http import create_app
from runtime.credential_key import write_new_credential_key
from tests import scenarios
from tests.integration.entrypoints.http.conftest import Api, app_client
from tests.integration.entrypoints.http.scenario_runner import HttpRunner
from tests.integration.entrypoints.http.test_rounds import TemporalClock, a_round, days
from tests.integration.eventstore.stories import CRITERIA, CityRun
from tests.scenarios import (
    GOLD_SCORE,
    OPERATOR,
    STANDARD,
    Step,
    accept_decision,
    apply,
    decide,
    to_committee,
)

CITY = "ridgeway"
ROUND = "2030-fall"
PUBLIC = "http://citycert.test"  # the test client's address (conftest.app_client)


@pytest.fixture
async def public(api: Api) -> AsyncIterator[tuple[Api, TemporalClock]]:
    """The API of `api` on the time-skipping server's clock (the awards and the announcement dates
    on one clock), its public cache off so that each read sees what the wait changed."""
    assert api.env is not None and api.settings is not None
    clock = TemporalClock(await api.env.get_current_time())
    settings = api.settings.model_copy(update={"public_cache_for": timedelta(0)})
    app = create_app(settings, client=api.env.client, store=api.store)
    app.state.services = replace(app.state.services, clock=clock)
    async with app_client(app) as http:
        yield replace(api, http=http, settings=settings), clock


@pytest.fixture
async def signing(api: Api, tmp_path: Path) -> AsyncIterator[tuple[Api, TemporalClock]]:
    """As `public`, for a programme that holds a credential key, its public pages at the test
    client's address (so that the URLs its credentials name can be read)."""
    assert api.env is not None and api.settings is not None
    key_file = tmp_path / "credential-key.pem"
    write_new_credential_key(key_file)
    clock = TemporalClock(await api.env.get_current_time())
    settings = api.settings.model_copy(
        update={"public_cache_for": timedelta(0), "credential_key_file": key_file, "public_url": PUBLIC}
    )
    app = create_app(settings, client=api.env.client, store=api.store)
    app.state.services = replace(app.state.services, clock=clock)
    async with app_client(app) as http:
        yield replace(api, http=http, settings=settings), clock


async def certified_gold(
    public: tuple[Api, TemporalClock],
    city_id: str = CITY,
    *,
    announced: bool = True,
    name: str | None = None,
    region: str = "Ohio",
) -> str:
    """The city registered (named as its id, in Ohio, unless told otherwise), walked through the
    API to Gold in a round open now and announced in 20 days, the decision accepted (awarded in its
    round); then, unless told otherwise, the announcement's day comes. Its certificate's number, as
    its status reads it."""
    api, clock = public
    assert api.env is not None
    the_round = a_round(ROUND, "Fall 2030", days(-10, 5, 6, 20, today=clock().date()))
    await api.post("/v1/rounds", await api.operator(), the_round, expect=201)
    register = cmd.RegisterCity(
        city_id=city_id, name=name or city_id.title(), country="US", population=150_000, region=region
    )
    steps = [
        Step(register, OPERATOR, [ev.CityRegistered]),
        *to_committee(apply(ROUND), GOLD_SCORE),
        decide(Level.GOLD),
        accept_decision(),
    ]
    assert await HttpRunner(api).walk(city_id, steps) == []
    status = await api.get(f"/v1/cities/{city_id}", await api.operator())
    assert status["level"] == "gold"
    number = status["certificate_number"]
    assert isinstance(number, str)
    if announced:
        await api.env.sleep(timedelta(days=21))
        clock.now = await api.env.get_current_time()
        assert clock().date() >= date.fromisoformat(the_round["announcement_on"])
    return number


async def test_a_certificate_is_not_public_before_its_round_is_announced(
    public: tuple[Api, TemporalClock],
) -> None:
    api, clock = public
    assert api.env is not None
    number = await certified_gold(public, announced=False)
    clock.now = await api.env.get_current_time()

    assert (await api.http.get("/public/directory")).json()["cities"] == []
    assert (await api.http.get(f"/public/certificates/{number}")).status_code == 404
    assert (await api.http.get("/public/open-data/certifications.json")).json()["certifications"] == []

    await api.env.sleep(timedelta(days=21))
    clock.now = await api.env.get_current_time()
    assert [e["certificate_number"] for e in (await api.http.get("/public/directory")).json()["cities"]] == [
        number
    ]


async def test_a_certified_city_is_in_the_directory_and_its_certificate_can_be_verified(
    public: tuple[Api, TemporalClock],
) -> None:
    api, _ = public
    number = await certified_gold(public)

    listed = await api.http.get("/public/directory")  # no token
    assert listed.status_code == 200, listed.text
    (entry,) = listed.json()["cities"]
    assert (entry["city"], entry["region"], entry["level"], entry["round"]) == (
        "Ridgeway",
        "Ohio",
        "gold",
        ROUND,
    )
    assert entry["certificate_number"] == number and entry["status"] == "valid"
    assert entry["verification_url"] == f"http://citycert.test/certificates/{number}"
    assert (await api.http.get("/public/directory", params={"level": "silver"})).json()["cities"] == []
    assert len((await api.http.get("/public/directory", params={"country": "us"})).json()["cities"]) == 1

    verified = (await api.http.get(f"/public/certificates/{number}")).json()
    assert (verified["status"], verified["city"], verified["standard"]) == ("valid", "Ridgeway", "wwc-2022")
    assert verified["statement"].startswith("This certificate is valid: Ridgeway is certified Gold until ")
    page = await api.http.get(f"/certificates/{number}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    # The portal's page (entrypoints/web/routes_public.py) words the same status, its dates in full.
    assert '<html lang="en">' in page.text and "Ridgeway is certified Gold until" in page.text

    city = (await api.http.get(f"/public/cities/{CITY}")).json()
    assert (city["city"], [c["number"] for c in city["certificates"]]) == ("Ridgeway", [number])
    unknown = await api.http.get("/public/cities/atlantis")
    assert (unknown.status_code, unknown.json()["error"]) == (404, "unknown_city")

    directory_csv = await api.http.get("/public/directory.csv")
    assert directory_csv.headers["content-type"] == "text/csv; charset=utf-8"
    header, row = list(csv.reader(io.StringIO(directory_csv.text)))
    assert header[:2] == ["city_id", "city"] and row[:2] == [CITY, "Ridgeway"]
    open_data = await api.http.get("/public/open-data/certifications.csv")
    header, row = list(csv.reader(io.StringIO(open_data.text)))
    assert dict(zip(header, row, strict=True))["certificate_number"] == number
    described = await api.http.get("/public/open-data/dcat.jsonld")
    assert described.headers["content-type"].startswith("application/ld+json")
    assert described.json()["dct:license"] == {"@id": "https://creativecommons.org/licenses/by/4.0/"}
    dictionary = (await api.http.get("/public/open-data/data-dictionary.json")).json()
    assert "status" in [field["name"] for field in dictionary["fields"]]


async def test_a_revoked_certificate_reads_revoked_with_the_programmes_reason(
    public: tuple[Api, TemporalClock],
) -> None:
    api, _ = public
    number = await certified_gold(public)
    assert api.env is not None and api.settings is not None
    # The command service every entry point uses: the workflow decides and records the revocation.
    commands = build_services(api.settings, api.store, api.env.client).commands
    revoke = cmd.RevokeCertification(reason="the evidence of DM3 was fabricated", revoked_by="chair")
    await commands.give(CITY, revoke, Actor(role="committee", id="chair"))

    verified = (await api.http.get(f"/public/certificates/{number}")).json()
    assert (verified["status"], verified["end_reason"], verified["current"]) == ("revoked", "revoked", False)
    assert verified["statement"] == (
        f"This certificate was revoked on {verified['ended_on']}: the evidence of DM3 was fabricated."
    )
    page = await api.http.get(f"/certificates/{number}")
    assert "revoked" in page.text and "the evidence of DM3 was fabricated" in page.text
    # Gone from the directory, and in the open data as revoked.
    assert (await api.http.get("/public/directory")).json()["cities"] == []
    (record,) = (await api.http.get("/public/open-data/certifications.json")).json()["certifications"]
    assert (record["certificate_number"], record["status"]) == (number, "revoked")


async def test_an_unknown_or_malformed_number_is_not_found_in_words(api: Api) -> None:
    for number in ("CC-2026-ATLANTIS-1", "not a number", "cc-2026-lakeside-x"):
        answered = await api.http.get(f"/public/certificates/{number}")
        assert answered.status_code == 404, number
        assert answered.json()["error"] == "unknown_certificate"
        assert "check the number as the certificate shows it" in answered.json()["detail"]
        page = await api.http.get(f"/certificates/{number}")
        assert page.status_code == 404 and "Certificate not found" in page.text


async def test_a_reader_holding_the_directorys_etag_is_answered_304(
    public: tuple[Api, TemporalClock],
) -> None:
    api, _ = public
    await certified_gold(public)

    first = await api.http.get("/public/directory")
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "public, max-age=60"
    again = await api.http.get("/public/directory", headers={"If-None-Match": etag})
    assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", etag)
    other = await api.http.get("/public/directory", headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200 and other.json() == first.json()
    filtered = await api.http.get(
        "/public/directory", params={"level": "gold"}, headers={"If-None-Match": etag}
    )
    assert filtered.status_code == 304  # the same cities, so the same body
    none = await api.http.get(
        "/public/directory", params={"level": "silver"}, headers={"If-None-Match": etag}
    )
    assert none.status_code == 200 and none.headers["etag"] != etag


async def test_a_certificate_is_issued_as_a_credential_anyone_verifies_with_only_the_published_key(
    signing: tuple[Api, TemporalClock],
) -> None:
    api, clock = signing
    number = await certified_gold(signing)
    published = (await api.http.get("/public/credentials/key")).json()
    credential = (await api.http.get(f"/public/certificates/{number}/credential")).json()
    verified = verify_credential(credential, public_key_from_document(published), at=clock())
    assert isinstance(verified, Verified), verified
    assert (verified.number, verified.city_name) == (number, CITY.title())
    # A revoked certificate is not issued as a credential: no signature says it is in force.
    assert api.env is not None and api.settings is not None
    commands = build_services(api.settings, api.store, api.env.client).commands
    revoke = cmd.RevokeCertification(reason="the evidence was fabricated", revoked_by="chair")
    await commands.give(CITY, revoke, Actor(role="committee", id="chair"))
    refused = await api.http.get(f"/public/certificates/{number}/credential")
    assert (refused.status_code, refused.json()["error"]) == (409, "not_in_force")
    assert (await api.http.get("/public/certificates/CC-2026-NOWHERE-1/credential")).status_code == 404


async def test_a_city_named_like_a_formula_is_kept_as_text_in_the_public_csvs(
    public: tuple[Api, TemporalClock],
) -> None:
    # Given a certified city whose name and region a spreadsheet would run as formulas
    api, _ = public
    formula = '=HYPERLINK("https://evil.example","Lakeside")'
    number = await certified_gold(public, name=formula, region="@SUM(1+1)")

    # When the directory and the open data are read as CSV, then both cells are text, after a quote
    for path in ("/public/directory.csv", "/public/open-data/certifications.csv"):
        (row,) = list(csv.DictReader(io.StringIO((await api.http.get(path)).text)))
        assert (row["city"], row["region"]) == ("'" + formula, "'@SUM(1+1)"), path
    # and the JSON holds them as recorded, its dictionary saying how the CSV shows them
    (record,) = (await api.http.get("/public/open-data/certifications.json")).json()["certifications"]
    assert (record["certificate_number"], record["city"], record["region"]) == (number, formula, "@SUM(1+1)")
    dictionary = (await api.http.get("/public/open-data/data-dictionary.json")).json()
    assert "with a single quote (')" in dictionary["description"]


async def test_a_certificate_of_a_cohort_a_round_adopted_names_the_round_by_its_id(
    signing: tuple[Api, TemporalClock],
) -> None:
    # Given a city certified under "2026-Spring", a cohort typed before rounds were records, and
    # that cohort adopted by round 2026-spring, whose announcement day has come
    api, clock = signing
    city = CityRun(api.store, "upper")
    await city.register()
    ids = CRITERIA[:23]
    await city.walk(
        [
            scenarios.apply("2026-Spring"),
            scenarios.evidence(ids),
            *scenarios.assigned_and_declared(ids),
            scenarios.review(approve=ids),
            scenarios.close(),
            scenarios.waive_visit(),
            scenarios.decide(Level.SILVER),
            scenarios.appeal_window_closes(),
        ]
    )
    await adopt_recorded_cohorts(api.store, Actor(role="operator", id="op-1"), now=city.now)
    (spring,) = await list_rounds(api.store)
    assert (spring.round_id, spring.cohorts) == ("2026-spring", ("2026-Spring",))
    clock.now = datetime.combine(spring.announcement_on, time(12), UTC)

    # When the public and the operators read it, then it is of round 2026-spring everywhere
    (entry,) = (await api.http.get("/public/directory", params={"round": "2026-spring"})).json()["cities"]
    assert (entry["city_id"], entry["round"]) == ("upper", "2026-spring")
    (record,) = (await api.http.get("/public/open-data/certifications.json")).json()["certifications"]
    assert record["round"] == "2026-spring"
    (row,) = list(
        csv.DictReader(io.StringIO((await api.http.get("/public/open-data/certifications.csv")).text))
    )
    assert row["round"] == "2026-spring"
    number = entry["certificate_number"]
    assert (await api.http.get(f"/public/certificates/{number}")).json()["round"] == "2026-spring"
    credential = (await api.http.get(f"/public/certificates/{number}/credential")).json()
    assert credential["credentialSubject"]["term"] == "2026-spring"
    # and the operator's filter by round finds the city of the adopted cohort, as by its own name
    operator = await api.operator()
    assert [c["city_id"] for c in await api.get("/v1/cities", operator, round="2026-spring")] == ["upper"]
    assert [c["city_id"] for c in await api.get("/v1/cities", operator, round="2026-Spring")] == ["upper"]
    assert await api.get("/v1/cities", operator, round="2026-fall") == []


def urls_in(document: object) -> set[str]:
    """Every URL a JSON document names, without its fragment."""
    if isinstance(document, dict):
        return {url for value in document.values() for url in urls_in(value)}
    if isinstance(document, list):
        return {url for value in document for url in urls_in(value)}
    if isinstance(document, str) and document.startswith(("http://", "https://")):
        return {document.partition("#")[0]}
    return set()


async def test_every_page_a_fresh_credential_names_is_served(signing: tuple[Api, TemporalClock]) -> None:
    # Given a certificate issued as a credential
    api, _ = signing
    number = await certified_gold(signing)
    credential = (await api.http.get(f"/public/certificates/{number}/credential")).json()

    # When each of the programme's URLs it names is read, then each answers
    ours = {url for url in urls_in(credential) if url.startswith(PUBLIC)}
    achievement = credential["credentialSubject"]["achievement"]
    assert achievement["id"] in ours and credential["id"] in ours and credential["issuer"]["id"] in ours
    for url in sorted(ours):
        answered = await api.http.get(url.removeprefix(PUBLIC) or "/")
        assert answered.status_code == 200, (url, answered.text[:200])

    # And the achievement's page describes the level from the standard's data
    path = achievement["id"].removeprefix(PUBLIC)
    page = await api.http.get(path)
    level = page.json()
    standard = get_standard(STANDARD)
    rule = standard.level_rule(Level.GOLD)
    assert (level["id"], level["name"], level["level"]) == (achievement["id"], achievement["name"], "gold")
    assert (level["standard"], level["revision"], level["min_share"]) == (
        STANDARD,
        standard.revision,
        rule.min_score,
    )
    assert rule.required_criteria, "the standard's Gold requires criteria whatever the share"
    assert [(c["id"], c["title"]) for c in level["required_criteria"]] == [
        (c.id, c.title) for c in standard.criteria if c.id in rule.required_criteria
    ]
    assert page.headers["cache-control"] == "public, max-age=60"
    again = await api.http.get(
        achievement["id"].removeprefix(PUBLIC), headers={"If-None-Match": page.headers["etag"]}
    )
    assert again.status_code == 304
    unknown = await api.http.get("/public/standards/wwc-1999/levels/gold")
    assert (unknown.status_code, unknown.json()["error"]) == (404, "unknown_standard")
