"""Corrections and appeals through the API, against the real PostgreSQL and Temporal (with a
worker): an operator corrects a city's profile and imports its past certifications (plain dates),
a reviewer reopens an item only as the cycle's lead, and an appeal that could change nothing is
refused saying why. (The upheld appeal against a rejected criterion is a scenario every runner
walks: tests/scenarios.py.)"""

from __future__ import annotations

from domain import Level
from readmodel import city_stream
from tests.integration.entrypoints.http.conftest import Api
from tests.integration.entrypoints.http.scenario_runner import HttpRunner
from tests.scenarios import (
    GOLD_SCORE,
    apply,
    assigned_and_declared,
    close,
    decide,
    evidence,
    review,
    waive_visit,
)

PROFILE = "/v1/cities/{}/profile-corrections"
PAST = "/v1/cities/{}/past-certifications"
REOPEN = "/v1/cities/{}/reviews/reopening"
APPEAL = "/v1/cities/{}/appeal"


async def test_an_operator_corrects_a_citys_profile_and_the_list_shows_its_region(api: Api) -> None:
    operator = await api.operator()
    body = {
        "id": "elmwood",
        "name": "Elmwood",
        "country": "US",
        "population": 120_000,
        "region": "Ohio",
        "population_source": "US Census",
        "population_year": 2020,
    }
    registered = await api.post("/v1/cities", operator, body, expect=201)
    assert registered["status"]["region"] == "Ohio"
    # The city's staff may not correct it; the operator may, and the event says what and who
    correction = {
        "population": 131_400,
        "population_year": 2025,
        "region": "Indiana",
        "reason": "wrong state",
    }
    await api.post(PROFILE.format("elmwood"), await api.city("elmwood"), correction, expect=403)
    corrected = await api.post(PROFILE.format("elmwood"), operator, correction)
    [event] = corrected["events"]
    assert event["type"] == "CityProfileCorrected"
    assert (event["data"]["region"], event["data"]["corrected_by"], event["data"]["name"]) == (
        "Indiana",
        "op-1",
        None,
    )
    assert [(c["city_id"], c["region"]) for c in await api.get("/v1/cities", operator)] == [
        ("elmwood", "Indiana")
    ]
    assert (await api.get("/v1/cities/elmwood", operator))["region"] == "Indiana"
    state = await api.get("/v1/cities/elmwood/state", operator)
    assert (state["population"], state["population_year"]) == (131_400, 2025)
    # The same again changes nothing (409); no field at all is malformed (422)
    refused = await api.post(PROFILE.format("elmwood"), operator, correction, expect=409)
    assert "nothing to correct" in refused["detail"]
    await api.post(PROFILE.format("elmwood"), operator, {"reason": "nothing"}, expect=422)


async def test_past_certifications_are_history_given_as_plain_dates(api: Api) -> None:
    await api.register("fernhill")
    operator = await api.operator()
    body = {
        "level": "silver",
        "standard_version": "wwc-2018",
        "round_id": "2019",
        "valid_from": "2019-06-01",
        "valid_until": "2022-06-01",
    }
    await api.post(PAST.format("fernhill"), await api.committee(), body, expect=403)
    imported = await api.post(PAST.format("fernhill"), operator, body)
    [event] = imported["events"]
    assert event["type"] == "PastCertificationImported"
    assert (event["data"]["valid_from"], event["data"]["imported_by"]) == ("2019-06-01T00:00:00Z", "op-1")
    assert (imported["status"]["phase"], imported["status"]["level"]) == ("registered", None), "history only"
    # A moment where a date is asked for is malformed; a certification still valid is not history
    moment = {**body, "valid_from": "2019-06-01T00:00:00Z"}
    await api.post(PAST.format("fernhill"), operator, moment, expect=422)
    current = {**body, "valid_from": "2025-06-01", "valid_until": "2028-06-01"}
    refused = await api.post(PAST.format("fernhill"), operator, current, expect=409)
    assert "not yet history" in refused["detail"]
    # The next application re-certifies from the level held before
    applied = await api.post(
        "/v1/cities/fernhill/application",
        await api.city("fernhill"),
        {"round_id": "c", "standard_version": "wwc-2022"},
    )
    assert [e["type"] for e in applied["events"]] == ["RecertificationStarted", "DeadlineSet"]
    assert applied["events"][0]["data"]["previous_level"] == "silver"


async def test_only_the_cycles_lead_reviewer_may_reopen_an_item(api: Api) -> None:
    await api.register("glenrock")
    runner = HttpRunner(api)
    assert (
        await runner.walk(
            "glenrock",
            [
                apply("c"),
                evidence(GOLD_SCORE[:1]),
                *assigned_and_declared(GOLD_SCORE[:1]),
                review(approve=GOLD_SCORE[:1]),
            ],
        )
        == []
    )
    recorded = len(await api.store.read_stream(city_stream("glenrock")))
    body = {"criterion_id": GOLD_SCORE[0], "reason": "the approval cited the wrong year"}
    await api.post(REOPEN.format("glenrock"), await api.operator(), body, expect=403)
    # No lead reviewer is assigned to this cycle (AssignLeadReviewer names one): nobody may reopen yet
    refused = await api.post(REOPEN.format("glenrock"), await api.reviewer(), body, expect=409)
    assert "only the lead may reopen" in refused["detail"]
    assert len(await api.store.read_stream(city_stream("glenrock"))) == recorded, "nothing was recorded"


async def test_an_appeal_that_could_change_nothing_is_refused_saying_why(api: Api) -> None:
    await api.register("hollis")
    runner = HttpRunner(api)
    steps = [
        apply("c"),
        evidence(GOLD_SCORE),
        *assigned_and_declared(GOLD_SCORE),
        review(approve=GOLD_SCORE),
        close(),
        waive_visit(),
        decide(Level.GOLD),
    ]
    assert await runner.walk("hollis", steps) == []
    staff = await api.city("hollis")
    refused = await api.post(APPEAL.format("hollis"), staff, {"grounds": "we deserve more"}, expect=409)
    assert "could change nothing; name the criteria you contest" in refused["detail"]
    approved_one = {"grounds": "g", "criteria": GOLD_SCORE[:1]}
    refused = await api.post(APPEAL.format("hollis"), staff, approved_one, expect=409)
    assert f"{GOLD_SCORE[0]} is approved already" in refused["detail"]
    stray = {
        "grounds": "g",
        "criteria": [],
        "evidence": [
            {
                "criterion_id": GOLD_SCORE[0],
                "documents": [{"title": "Pack", "url": "https://example.org/pack.pdf"}],
            }
        ],
    }
    await api.post(APPEAL.format("hollis"), staff, stray, expect=422)
