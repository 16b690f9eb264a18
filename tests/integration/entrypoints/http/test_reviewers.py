"""Reviewers over the HTTP API, with real people records: an operator keeps their profiles, asks for
a balanced automatic assignment by practice area that never picks a conflicted reviewer, and the
assigned reviewer sees and decides the city's evidence once they declared no conflict."""

from __future__ import annotations

from typing import Any

from app.tokens import issue_person_token
from domain.standard import get_standard
from tests.integration.entrypoints.http.conftest import Api
from tests.scenarios import approval_json, evidence_json

STANDARD = get_standard("wwc-2022")
AREA, OTHER = (a.id for a in STANDARD.practice_areas[:2])
IN_AREA = [c.id for c in STANDARD.criteria if c.practice_area == AREA][:2]
IN_OTHER = [c.id for c in STANDARD.criteria if c.practice_area == OTHER][:2]
CITY = "lakeside"


async def reviewer(api: Api, name: str, home: str, **profile: Any) -> str:
    """A reviewer person with a profile (given what `profile` changes of a plain one)."""
    person = {
        "name": name,
        "email": f"{name}@example.org",
        "language": "en",
        "role": "reviewer",
        "city_id": home,
    }
    person_id: str = (await api.post("/v1/people", await api.operator(), person, expect=201))["id"]
    body = {"organisation": "Results for America", "practice_areas": [AREA, OTHER], "capacity": 20, **profile}
    response = await api.http.put(
        f"/v1/people/{person_id}/reviewer-profile", headers=await api.operator(), json=body
    )
    assert response.status_code == 200, response.text
    return person_id


async def in_review(api: Api, criteria: list[str]) -> None:
    """Lakeside registered, applied, with evidence for `criteria`."""
    await api.register(CITY)
    city = await api.city(CITY)
    await api.post(
        f"/v1/cities/{CITY}/application", city, {"round_id": "2026-fall", "standard_version": "wwc-2022"}
    )
    items = [evidence_json(cid) for cid in criteria]
    await api.post(f"/v1/cities/{CITY}/evidence", city, {"items": items})


async def as_person(api: Api, person_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {(await issue_person_token(api.store, person_id)).secret}"}


async def test_an_operator_sets_and_reads_a_reviewer_s_profile(api: Api) -> None:
    operator = await api.operator()
    person_id = await reviewer(
        api, "ana", "riverton", conflicts=[{"city_id": CITY, "reason": "worked there"}]
    )

    shown = await api.get(f"/v1/people/{person_id}/reviewer-profile", operator)

    assert shown | {"person_id": person_id, "capacity": 20, "practice_areas": [AREA, OTHER]} == shown
    assert shown["conflicts"] == [{"city_id": CITY, "reason": "worked there"}]
    unknown_area = await api.http.put(
        f"/v1/people/{person_id}/reviewer-profile",
        headers=operator,
        json={"organisation": "x", "practice_areas": ["Nowhere"], "capacity": 3},
    )
    assert unknown_area.status_code == 422 and "'Nowhere' is not a practice area" in unknown_area.text
    await api.register(CITY)
    staff = {"name": "Bo", "email": "bo@example.org", "language": "en", "role": "city", "city_id": CITY}
    staff_id = (await api.post("/v1/people", operator, staff, expect=201))["id"]
    not_a_reviewer = await api.get(f"/v1/people/{staff_id}/reviewer-profile", operator, expect=409)
    assert not_a_reviewer["error"] == "not_a_reviewer"


async def test_automatic_assignment_balances_the_areas_and_never_picks_a_conflicted_reviewer(
    api: Api,
) -> None:
    operator = await api.operator()
    await in_review(api, [*IN_AREA, *IN_OTHER])
    # Given a reviewer from the city, one whose record declares a conflict with it, and two others,
    from_city = await reviewer(api, "cy", CITY)
    conflicted = await reviewer(api, "di", "riverton", conflicts=[{"city_id": CITY, "reason": "consulted"}])
    first = await reviewer(api, "ed", "riverton")
    second = await reviewer(api, "fa", "riverton", practice_areas=[OTHER])

    # when the operator asks for an automatic assignment,
    done = await api.post(f"/v1/cities/{CITY}/review/assignments/automatic", operator)

    # then each area goes to an eligible reviewer, the load spread between them,
    chosen = {a["practice_area"]: a["reviewer_id"] for a in done["assignments"]}
    assert {from_city, conflicted}.isdisjoint(chosen.values())
    assert chosen[AREA] in (first, second) and chosen[OTHER] in (first, second)
    assert chosen[AREA] != chosen[OTHER]
    assigned = {
        e["data"]["criterion_id"]: e["data"]["reviewer_id"]
        for e in done["events"]
        if e["type"] == "ReviewerAssigned"
    }
    assert assigned == {**dict.fromkeys(IN_AREA, chosen[AREA]), **dict.fromkeys(IN_OTHER, chosen[OTHER])}
    # and the assigned reviewer neither sees nor decides the evidence before declaring no conflict,
    ed = await as_person(api, chosen[AREA])
    refused = await api.get(f"/v1/cities/{CITY}/events", ed, expect=403)
    assert "has not declared that they have no conflict of interest" in refused["detail"]
    unseen = await api.get(f"/v1/cities/{CITY}/worksheet", ed, expect=403)
    assert "has not declared that they have no conflict of interest" in unseen["detail"]
    review = {"items": [approval_json(IN_AREA[0])]}
    early = await api.post(f"/v1/cities/{CITY}/reviews", ed, review, expect=409)
    assert "has not declared that they have no conflict" in early["detail"]
    await api.post(f"/v1/cities/{CITY}/review/no-conflict", ed)
    await api.get(f"/v1/cities/{CITY}/events", ed)
    approved = await api.post(f"/v1/cities/{CITY}/reviews", ed, review)
    assert [e["type"] for e in approved["events"]] == ["EvidenceApproved"]
    # while a reviewer assigned elsewhere is refused, naming who is assigned.
    other = await as_person(api, chosen[OTHER])
    await api.post(f"/v1/cities/{CITY}/review/no-conflict", other)
    wrong = await api.post(
        f"/v1/cities/{CITY}/reviews",
        other,
        {"items": [approval_json(IN_AREA[1])]},
        expect=409,
    )
    assert f"{IN_AREA[1]} is assigned to {chosen[AREA]}" in wrong["detail"]


async def test_an_area_nobody_can_take_is_refused_with_the_reasons_and_nothing_assigned(api: Api) -> None:
    operator = await api.operator()
    await in_review(api, IN_AREA)
    small = await reviewer(api, "gi", "riverton", capacity=1)
    await reviewer(api, "ha", CITY)

    refused = await api.post(f"/v1/cities/{CITY}/review/assignments/automatic", operator, expect=409)

    assert f"nobody can take {AREA} of {CITY}" in refused["detail"]
    assert f"{small} has 0 open criteria of a capacity of 1, no room for 2 more" in refused["detail"]
    events = await api.get(f"/v1/cities/{CITY}/events", operator)
    assert "ReviewerAssigned" not in [e["type"] for e in events]


async def test_a_conflict_declared_sends_the_items_back_and_the_next_assignment_passes_them_by(
    api: Api,
) -> None:
    operator = await api.operator()
    await in_review(api, IN_AREA)
    first = await reviewer(api, "ia", "riverton")
    second = await reviewer(api, "jo", "riverton")
    done = await api.post(f"/v1/cities/{CITY}/review/assignments/automatic", operator)
    assert [a["reviewer_id"] for a in done["assignments"]] == [min(first, second)]

    declared = await api.post(
        f"/v1/cities/{CITY}/review/conflict",
        await as_person(api, min(first, second)),
        {"reason": "my former employer"},
    )
    again = await api.post(f"/v1/cities/{CITY}/review/assignments/automatic", operator)

    assert [e["type"] for e in declared["events"]] == ["ConflictDeclared"]
    assert [a["reviewer_id"] for a in again["assignments"]] == [max(first, second)]
    by_hand = await api.post(
        f"/v1/cities/{CITY}/reviewer-assignments",
        operator,
        {"reviewer_id": min(first, second), "reviewer_home_city": "riverton", "criterion_ids": IN_AREA[:1]},
        expect=409,
    )
    assert "declared a conflict with lakeside (my former employer)" in by_hand["detail"]


async def test_an_assignment_carries_the_reviewer_s_record_whatever_the_body_says(api: Api) -> None:
    operator = await api.operator()
    await in_review(api, IN_AREA)
    from_city = await reviewer(api, "ka", CITY)
    conflicted = await reviewer(api, "lu", "riverton", conflicts=[{"city_id": CITY, "reason": "consulted"}])
    fine = await reviewer(api, "mo", "riverton")

    # The body claims another home city; the record says otherwise.
    home = await api.post(
        f"/v1/cities/{CITY}/reviewer-assignments",
        operator,
        {"reviewer_id": from_city, "reviewer_home_city": "riverton", "criterion_ids": IN_AREA[:1]},
        expect=409,
    )
    declared = await api.post(
        f"/v1/cities/{CITY}/review/assignments",
        operator,
        {"reviewer_id": conflicted, "practice_area": AREA},
        expect=409,
    )
    lead = await api.post(f"/v1/cities/{CITY}/review/lead", operator, {"reviewer_id": conflicted}, expect=409)
    assigned = await api.post(
        f"/v1/cities/{CITY}/review/assignments", operator, {"reviewer_id": fine, "practice_area": AREA}
    )
    identity = await api.post(
        f"/v1/cities/{CITY}/review/lead", operator, {"reviewer_id": "rev-lead"}, expect=422
    )

    assert f"conflict of interest: reviewer {from_city} is from {CITY}" in home["detail"]
    assert f"{conflicted} declared a conflict with {CITY} on their record" in declared["detail"]
    assert "on their record" in lead["detail"]
    assert [e["type"] for e in assigned["events"]] == [
        "PracticeAreaAssigned",
        "ReviewerAssigned",
        "ReviewerAssigned",
    ]
    assert "give reviewer_home_city" in str(identity["detail"])
