"""`citycert people set-profile|profile` and the reviewer commands of `citycert review`: an operator
keeps a reviewer's profile, assigns automatically or names a lead, and the reviewer declares no
conflict (or a conflict) with their token before deciding."""

from __future__ import annotations

from app.tokens import create_token, issue_person_token
from domain.standard import get_standard
from readmodel import load_city_state
from tests.integration.entrypoints.cli.test_cli_cities import Cli, Programme, programme, said, unique
from tests.scenarios import apply, enough_items, evidence

__all__ = ["programme"]  # the fixture, shared with the cities' CLI tests

STANDARD = get_standard("wwc-2022")
AREA = STANDARD.practice_areas[0].id
IN_AREA = [c.id for c in STANDARD.criteria if c.practice_area == AREA][:2]


async def test_an_operator_profiles_a_reviewer_who_is_assigned_declares_and_decides(
    programme: Programme,
) -> None:
    cli, city_id = programme.cli, unique("birch")
    await cli.json("city", "register", city_id, "--name", "Birch", "--country", "CA", "--population", "80000")
    assert await programme.city(city_id).walk([apply("2026-fall"), evidence(IN_AREA)]) == []
    person = await cli.json(
        "people", "add", "--name", "Ana", "--email", "ana@example.org", "--language", "en",
        "--role", "reviewer", "--city", "riverton",
    )  # fmt: skip
    bad = await cli(
        "people", "set-profile", person["id"], "--organisation", "RfA", "--area", "Nowhere", "--capacity", "5"
    )
    profile = await cli.json(
        "people", "set-profile", person["id"], "--organisation", "RfA", "--area", AREA, "--capacity", "5",
        "--conflict", "lakeside:consulted for its data office",
    )  # fmt: skip

    done = await cli.json("review", "assign-automatically", city_id)
    ana = Cli({**cli.env, "CITYCERT_TOKEN": (await issue_person_token(programme.store, person["id"])).secret})
    early = await ana("review", "approve", city_id, IN_AREA[0])
    declared = await ana.json("review", "no-conflict", city_id)
    met = ",".join(map(str, enough_items(IN_AREA[0])))
    approved = await ana.json("review", "approve", city_id, IN_AREA[0], "--met", met)

    assert bad.exit_code == 2 and "'Nowhere' is not a practice area" in said(bad)
    assert profile["conflicts"] == [{"city_id": "lakeside", "reason": "consulted for its data office"}]
    assert (await cli.json("people", "profile", person["id"]))["practice_areas"] == [AREA]
    assert done["assignments"] == [
        {"practice_area": AREA, "reviewer_id": person["id"], "criterion_ids": sorted(IN_AREA)}
    ]
    assert early.exit_code != 0 and "has not declared that they have no conflict" in said(early)
    assert [e["type"] for e in declared["events"]] == ["NoConflictDeclared"]
    assert [e["type"] for e in approved["events"]] == ["EvidenceApproved"]


async def test_a_lead_is_named_and_a_reviewer_declares_a_conflict(programme: Programme) -> None:
    cli, city_id = programme.cli, unique("cedar")
    await cli.json("city", "register", city_id, "--name", "Cedar", "--country", "US", "--population", "90000")
    assert await programme.city(city_id).walk([apply("2026-fall"), evidence(IN_AREA)]) == []
    bo = Cli(
        {**cli.env, "CITYCERT_TOKEN": await create_token(programme.store, "reviewer", "riverton", "rev-bo")}
    )

    no_home = await cli("review", "assign-lead", city_id, "rev-lead")
    lead = await cli.json("review", "assign-lead", city_id, "rev-lead", "--home-city", "riverton")
    area = await cli.json("review", "assign-area", city_id, "rev-bo", AREA, "--home-city", "riverton")
    conflict = await bo.json("review", "conflict", city_id, "--reason", "my former employer")

    assert no_home.exit_code == 2 and "give their --home-city" in said(no_home)
    assert [e["type"] for e in lead["events"]] == ["LeadReviewerAssigned"]
    assert [e["type"] for e in area["events"]] == [
        "PracticeAreaAssigned",
        "ReviewerAssigned",
        "ReviewerAssigned",
    ]
    assert [e["type"] for e in conflict["events"]] == ["ConflictDeclared"]
    cycle = (await load_city_state(programme.store, city_id)).cycle
    assert cycle is not None
    assert cycle.lead_reviewer_id == "rev-lead" and cycle.area_reviewers == {}
    assert {cycle.items[cid].reviewer_id for cid in IN_AREA} == {None}
