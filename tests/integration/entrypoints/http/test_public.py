"""The public side over HTTP, with no token: a city walked to an award through the API is in the
directory and its certificate verifiable; a revoked certificate says so; an unknown number is a
404 in words; the directory answers 304 to a reader holding its ETag; the CSVs have their header.
"""

from __future__ import annotations

import csv
import io

from app.services import build_services
from domain import Actor, Level
from domain import commands as cmd
from domain import events as ev
from tests.integration.entrypoints.http.conftest import Api
from tests.integration.entrypoints.http.scenario_runner import HttpRunner
from tests.scenarios import (
    GOLD_SCORE,
    OPERATOR,
    Step,
    accept_decision,
    apply,
    decide,
    to_committee,
)

CITY = "ridgeway"
ROUND = "2026-fall"


async def certified_gold(api: Api, city_id: str = CITY) -> str:
    """The city registered (in Ohio), walked through the API to Gold, the decision accepted; its
    certificate's number, as its status reads it."""
    register = cmd.RegisterCity(
        city_id=city_id, name=city_id.title(), country="US", population=150_000, region="Ohio"
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
    return number


async def test_a_certified_city_is_in_the_directory_and_its_certificate_can_be_verified(api: Api) -> None:
    number = await certified_gold(api)

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
    assert '<html lang="en">' in page.text and verified["statement"] in page.text

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


async def test_a_revoked_certificate_reads_revoked_with_the_programmes_reason(api: Api) -> None:
    number = await certified_gold(api)
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
    # Read for the first time after the revocation (nothing cached): gone from the directory, and
    # in the open data as revoked.
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


async def test_a_reader_holding_the_directorys_etag_is_answered_304(api: Api) -> None:
    await certified_gold(api)

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
