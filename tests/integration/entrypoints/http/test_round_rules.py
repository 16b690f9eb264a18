"""The rules a round and a reviewer keep across cities, over HTTP (real PostgreSQL, Temporal and
worker): a round takes applications up to its review capacity, two cities applying for its last
place at once take turns, the Honor Roll names cities of the round found not certified in it, and
a reviewer given criteria by hand keeps to their capacity. Each refusal is a 409 whose problem
carries the refusal as data (its template and values), and nothing is recorded."""

from __future__ import annotations

import asyncio

from app.rounds import create_round
from domain import Actor
from domain.errors import Refusal
from tests.integration.entrypoints.http.conftest import Api
from tests.integration.entrypoints.http.scenario_runner import HttpRunner
from tests.integration.entrypoints.http.test_reviewers import AREA, IN_AREA, in_review, reviewer
from tests.scenarios import CRITERIA, SILVER_SCORE, apply, round_record, to_committee

SMALL = "2030-small"
APPLICATION = {"round_id": SMALL, "standard_version": "wwc-2022"}
FULL = "round {round} is full (applications: {count}; its review capacity: {capacity}); {instead}"


async def small_round(api: Api, capacity: int) -> None:
    await create_round(
        api.store, round_record(SMALL, capacity=capacity), Actor(role="operator", id="op-1"), may_overlap=True
    )


async def event_types(api: Api, city_id: str) -> list[str]:
    events = await api.get(f"/v1/cities/{city_id}/events", await api.operator())
    return [e["type"] for e in events]


async def test_a_full_round_refuses_the_next_city_in_words_until_an_operator_raises_its_capacity(
    api: Api,
) -> None:
    # Given a round that reviews one city, and Alpha has applied,
    await small_round(api, capacity=1)
    for city_id in ("alpha", "bravo"):
        await api.register(city_id)
    await api.post("/v1/cities/alpha/application", await api.city("alpha"), APPLICATION)

    # when Bravo applies, it is refused, told why and what it can do, and nothing is recorded;
    refused = await api.post("/v1/cities/bravo/application", await api.city("bravo"), APPLICATION, 409)
    assert refused["error"] == "command_rejected"
    assert refused["refusal"]["template"] == FULL
    refusal = Refusal.from_data(refused["refusal"])
    assert refusal.params["count"] == 1 and refusal.params["capacity"] == 1
    assert (
        refused["detail"]
        == refusal.english()
        == (
            "round 2030-small is full (applications: 1; its review capacity: 1); apply to a later round "
            "once the programme opens one, or ask an operator to raise its capacity"
        )
    )
    assert "ApplicationSubmitted" not in await event_types(api, "bravo")

    # then, the operator raising the capacity, Bravo's application is taken.
    raised = await api.http.patch(
        f"/v1/rounds/{SMALL}", headers=await api.operator(), json={"review_capacity": 2}
    )
    assert raised.status_code == 200, raised.text
    taken = await api.post("/v1/cities/bravo/application", await api.city("bravo"), APPLICATION)
    assert "ApplicationSubmitted" in [e["type"] for e in taken["events"]]


async def test_two_cities_applying_for_the_last_place_at_once_take_turns(api: Api) -> None:
    await small_round(api, capacity=1)
    for city_id in ("alpha", "bravo"):
        await api.register(city_id)
    headers = {city_id: await api.city(city_id) for city_id in ("alpha", "bravo")}

    answers = await asyncio.gather(
        *(
            api.http.post(f"/v1/cities/{city_id}/application", headers=headers[city_id], json=APPLICATION)
            for city_id in ("alpha", "bravo")
        )
    )

    assert sorted(a.status_code for a in answers) == [200, 409]
    (loser,) = [a.json() for a in answers if a.status_code == 409]
    assert loser["refusal"]["template"] == FULL


async def test_the_honor_roll_names_only_cities_found_not_certified_in_the_round(api: Api) -> None:
    # Given a round in which Alpha was certified, Delta found not certified, Echo still in review,
    # and Lakeside, registered, did not apply,
    committee = await api.committee()
    runner = HttpRunner(api, per_city_staff=True)
    for city_id in ("alpha", "delta", "echo", "lakeside"):
        await api.register(city_id)
    for city_id, approved in (("alpha", SILVER_SCORE), ("delta", CRITERIA[:10])):
        assert await runner.walk(city_id, to_committee(apply(SMALL), approved)) == []
    assert await runner.walk("echo", [apply(SMALL)]) == []
    await api.post("/v1/cities/alpha/decision", committee, {"level": "silver", "rationale": "r"})
    await api.post("/v1/cities/alpha/decision/accept", await api.city("alpha"), {})
    await api.post("/v1/cities/delta/decision", committee, {"level": None, "rationale": "r"})

    # when the committee names all four, it is refused, each city named with why;
    refused = await api.http.put(
        f"/v1/rounds/{SMALL}/honor-roll",
        headers=committee,
        json={"city_ids": ["delta", "alpha", "echo", "lakeside"]},
    )
    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert problem["refusal"]["template"] == (
        "the Honor Roll of round {round} names cities of the round found not certified in it; "
        "it cannot name {reasons:;}"
    )
    assert problem["detail"].split("it cannot name ")[1] == (
        "cities that did not apply in the round: lakeside; "
        "cities certified in the round, which its announcement names by level: alpha; "
        "cities whose decision in the round is still to come: echo"
    )
    shown = await api.get(f"/v1/rounds/{SMALL}", committee)
    assert shown["honor_roll"] is None  # nothing recorded

    # then Delta alone is designated.
    designated = await api.http.put(
        f"/v1/rounds/{SMALL}/honor-roll", headers=committee, json={"city_ids": ["delta"]}
    )
    assert designated.status_code == 200, designated.text
    assert designated.json()["honor_roll"]["city_ids"] == ["delta"]


async def test_criteria_given_by_hand_beyond_a_reviewer_s_capacity_are_refused(api: Api) -> None:
    # Given Lakeside in review with two criteria of one area, and a reviewer who takes one at a time,
    operator = await api.operator()
    await in_review(api, IN_AREA)
    small = await reviewer(api, "na", "riverton", capacity=1)

    # when the operator gives them both criteria, or the whole area, by hand, each is refused;
    both = await api.post(
        "/v1/cities/lakeside/reviewer-assignments",
        operator,
        {"reviewer_id": small, "reviewer_home_city": "riverton", "criterion_ids": IN_AREA},
        expect=409,
    )
    area = await api.post(
        "/v1/cities/lakeside/review/assignments", operator, {"reviewer_id": small, "practice_area": AREA}, 409
    )
    for refused in (both, area):
        assert refused["refusal"]["params"]["taking"] == {"int": 2}
        assert refused["detail"] == (
            f"reviewer {small} has 0 open criteria of a capacity of 1: no room for 2 more; choose "
            "another reviewer, or raise their capacity on their record if they agreed to take more"
        )

    # then one criterion is within it.
    one = await api.post(
        "/v1/cities/lakeside/reviewer-assignments",
        operator,
        {"reviewer_id": small, "reviewer_home_city": "riverton", "criterion_ids": IN_AREA[:1]},
    )
    assert [e["type"] for e in one["events"]] == ["ReviewerAssigned"]
