"""A certification's ends over HTTP, on the real stack: suspended and reinstated, revoked, ended by a
withdrawal, and a withdrawn city back in the programme under its id."""

from __future__ import annotations

from typing import Any

from domain.rules import LATEST, SUSPENSIONS
from tests.integration.entrypoints.http.conftest import Api
from tests.integration.entrypoints.http.scenario_runner import HttpRunner
from tests.scenarios import CRITERIA, apply, to_committee

ROUND = "2027-spring"


async def certified_gold(api: Api, city_id: str) -> dict[str, Any]:
    """Registered, reviewed, Gold decided and accepted: certified at once."""
    await api.register(city_id)
    assert await HttpRunner(api).walk(city_id, to_committee(apply(ROUND), CRITERIA[:30])) == []
    await api.post(
        f"/v1/cities/{city_id}/decision", await api.committee(), {"level": "gold", "rationale": "r"}
    )
    accepted = await api.post(f"/v1/cities/{city_id}/decision/accept", await api.city(city_id))
    status: dict[str, Any] = accepted["status"]
    assert (status["phase"], status["level"]) == ("certified", "gold")
    return status


async def test_a_suspended_certificate_shows_so_until_reinstated_then_a_revocation_ends_it(api: Api) -> None:
    status = await certified_gold(api, "ashby")
    assert status["certificate_number"].startswith("CC-") and status["certificate_number"].endswith(
        "-ASHBY-1"
    )
    assert status["certificate_status"] == "valid"
    base = "/v1/cities/ashby/certification"
    refused = await api.post(f"{base}/suspension", await api.city("ashby"), {"reason": "r"}, expect=403)
    assert "committee" in refused["detail"], refused

    committee = await api.committee()
    suspended = await api.post(f"{base}/suspension", committee, {"reason": "the open data portal is offline"})
    assert suspended["status"]["certificate_status"] == "suspended"
    again = await api.post(f"{base}/suspension", committee, {"reason": "again"}, expect=409)
    assert "already suspended: the open data portal is offline" in again["detail"]
    reinstated = await api.post(f"{base}/reinstatement", committee, {"reason": "back online"})
    assert reinstated["status"]["certificate_status"] == "valid"

    revoked = await api.post(f"{base}/revocation", committee, {"reason": "evidence was falsified"})
    assert (revoked["status"]["phase"], revoked["status"]["level"]) == ("registered", None)
    [ended] = [e for e in revoked["events"] if e["type"] == "CertificationEnded"]
    assert ended["data"]["reason"] == "revoked" and ended["data"]["detail"] == "evidence was falsified"
    nothing = await api.post(f"{base}/revocation", committee, {"reason": "twice"}, expect=409)
    assert "holds none" in nothing["detail"]


async def test_a_withdrawal_ends_the_certification_and_the_city_can_rejoin(api: Api) -> None:
    await certified_gold(api, "brent")
    operator = await api.operator()
    withdrawn = await api.post("/v1/cities/brent/withdrawal", operator, {"reason": "council decision"})
    assert [e["type"] for e in withdrawn["events"]] == ["CertificationEnded", "CityWithdrawn"]
    assert withdrawn["events"][0]["data"]["reason"] == "withdrawn"

    rejoined = await api.post("/v1/cities/brent/rejoining", operator, {"reason": "a new council"})
    assert rejoined["status"]["phase"] == "registered"
    assert [e["type"] for e in rejoined["events"]] == ["CityRejoined"]
    # The same id and history, and a workflow taking commands again: it applies to a round.
    staff = await api.city("brent")
    applied = await api.post(
        "/v1/cities/brent/application", staff, {"round_id": ROUND, "standard_version": "wwc-2022"}
    )
    assert (applied["status"]["phase"], applied["status"]["cycle"]) == ("evidence", 2)

    refused = await api.post("/v1/cities/brent/rejoining", operator, {"reason": "again"}, expect=409)
    assert "RejoinProgramme needs the city to be withdrawn" in refused["detail"]


async def test_a_cycle_opened_now_runs_under_the_latest_rules(api: Api) -> None:
    # The workflow opens a cycle under the rules its patches say (workflows/city.py _rules_for):
    # today the SUSPENSIONS rules, under which a suspended certificate is sent no reminder.
    await api.register("cove")
    assert await HttpRunner(api).walk("cove", [apply(ROUND)]) == []
    events = await api.get("/v1/cities/cove/events", await api.operator())
    [opened] = [e for e in events if e["type"] == "ApplicationSubmitted"]
    assert opened["data"]["rules"] == LATEST == SUSPENSIONS
