"""The cohort report over HTTP: new, elevated, sustained, downgraded and not certified cities of one
cohort, each placed by its latest decision."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.integration.entrypoints.http.conftest import Api
from tests.integration.entrypoints.http.scenario_runner import HttpRunner
from tests.polling import eventually
from tests.scenarios import CRITERIA, Step, apply, reapply, to_committee

COHORT = "2027-spring"


async def test_the_cohort_report_over_http(api: Api) -> None:
    assert api.env is not None
    committee = await api.committee()

    async def decide(city_id: str, level: str | None) -> None:
        await api.post(f"/v1/cities/{city_id}/decision", committee, {"level": level, "rationale": "r"})

    async def appeal(city_id: str, upheld: bool, level: str | None = None) -> None:
        await api.post(f"/v1/cities/{city_id}/appeal", await api.city(city_id), {"grounds": "we disagree"})
        decision = {"upheld": upheld, "level": level, "rationale": "heard"}
        await api.post(f"/v1/cities/{city_id}/appeal/decision", committee, decision)

    async def reach_committee(city_id: str, application: Step, approved: int) -> None:
        assert (
            await HttpRunner(api, per_city_staff=True).walk(
                city_id, to_committee(application, CRITERIA[:approved])
            )
            == []
        )

    for city_id in ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf"):
        await api.register(city_id)
    for city_id, level in (("bravo", "silver"), ("charlie", "gold"), ("echo", "silver")):
        await _import(api, city_id, level)

    await reach_committee("alpha", apply(COHORT), 38)
    await decide("alpha", "platinum")  # new, once the appeal window closes
    await reach_committee("bravo", reapply(COHORT), 30)
    await decide("bravo", "silver")
    await appeal("bravo", upheld=True, level="gold")  # elevated silver -> gold at once
    await reach_committee("charlie", reapply(COHORT), 23)
    await decide("charlie", "silver")  # downgraded gold -> silver, as recommended
    await reach_committee("delta", apply(COHORT), 20)
    await decide("delta", None)  # not certified, near the bar: Honor Roll
    await reach_committee("echo", reapply(COHORT), 23)
    await decide("echo", "silver")  # sustained
    await reach_committee("foxtrot", apply(COHORT), 10)
    await decide("foxtrot", None)  # not certified, far from the bar
    await reach_committee("golf", apply("2027-fall"), 30)
    await decide("golf", "gold")  # another cohort

    await api.env.sleep(timedelta(days=31))
    operator = await api.operator()
    await eventually(
        lambda: api.get("/v1/cities", operator, phase="appeal_window"), lambda waiting: waiting == []
    )
    report = await api.get(f"/v1/cohorts/{COHORT}/report", operator)
    assert report == {
        "round_id": COHORT,
        "new": [{"city_id": "alpha", "level": "platinum"}],
        "elevated": [{"city_id": "bravo", "from": "silver", "to": "gold"}],
        "sustained": [{"city_id": "echo", "level": "silver"}],
        "downgraded": [{"city_id": "charlie", "from": "gold", "to": "silver"}],
        "not_certified": [
            {"city_id": "delta", "honor_roll": True},
            {"city_id": "foxtrot", "honor_roll": False},
        ],
        "counts": {"silver": 2, "gold": 1, "platinum": 1},
    }
    assert (await api.get("/v1/cohorts/2027-fall/report", committee))["new"] == [
        {"city_id": "golf", "level": "gold"}
    ]
    assert (await api.get("/v1/cohorts/nobody/report", committee))["counts"] == {
        "silver": 0,
        "gold": 0,
        "platinum": 0,
    }
    certified = await api.get("/v1/cities", operator, phase="certified")
    assert [c["city_id"] for c in certified] == ["alpha", "bravo", "charlie", "echo", "golf"]
    assert [c["city_id"] for c in await api.get("/v1/cities", operator, level="silver")] == [
        "charlie",
        "echo",
    ]


async def _import(api: Api, city_id: str, level: str) -> None:
    now = datetime.now(UTC)
    body = {
        "level": level,
        "standard_version": "wwc-2018",
        "round_id": "2024",
        "valid_from": (now - timedelta(days=400)).date().isoformat(),
        "valid_until": (now + timedelta(days=600)).date().isoformat(),
    }
    await api.post(f"/v1/cities/{city_id}/imported-certification", await api.operator(), body)
    countersign = f"/v1/cities/{city_id}/imported-certification/countersignature"
    await api.post(countersign, await api.committee(), {})
