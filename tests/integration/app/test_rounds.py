"""Rounds recorded in the programme stream against a real PostgreSQL: who and when, decided on the
folded state with the stream's version as the expected one, decided again after a concurrent append."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import pytest

from app import errors
from app.announcements import load_announcement
from app.programme import PROGRAMME_STREAM, load_programme, stamped, switch_migration_mode
from app.rounds import (
    UnknownRound,
    adopt_recorded_cohorts,
    change_round,
    create_round,
    designate_honor_roll,
    list_rounds,
    show_round,
)
from domain import Actor
from domain.commands import ApplicationRound, ApplyForCertification
from domain.levels import Level
from domain.programme import SwitchMigrationMode
from domain.rounds import ChangeRound, CreateRound, DesignateHonorRoll
from eventstore import EventStore
from tests import scenarios
from tests.integration.eventstore.stories import CRITERIA, CityRun

OPERATOR = Actor(role="operator", id="op-1")
CHAIR = Actor(role="committee", id="chair")
NOW = datetime(2030, 1, 10, 9, tzinfo=UTC)


def a_round(round_id: str, year: int) -> CreateRound:
    return CreateRound(
        round_id=round_id,
        name=f"Spring {year}",
        opens_on=date(year, 2, 1),
        closes_on=date(year, 3, 31),
        submission_deadline=date(year, 5, 31),
        announcement_on=date(year, 9, 15),
        review_capacity=30,
    )


async def test_a_round_is_recorded_with_who_and_when(store: EventStore) -> None:
    created = await create_round(store, a_round("2030-spring", 2030), OPERATOR, now=NOW)
    assert (created.created_by, created.created_at) == ("op-1", NOW)
    [recorded] = await store.read_stream(PROGRAMME_STREAM)
    assert (
        recorded.type == "RoundCreated" and recorded.actor.id == "op-1" and recorded.actor.role == "operator"
    )
    assert recorded.data["announcement_on"] == "2030-09-15"


async def test_concurrent_creations_are_each_decided_on_the_other_s_result(store: EventStore) -> None:
    # Two operators at once: one append wins, the other is decided again on the new state.
    results = await asyncio.gather(
        create_round(store, a_round("2030-spring", 2030), OPERATOR, now=NOW),
        create_round(store, a_round("2031-spring", 2031), OPERATOR, now=NOW),
        return_exceptions=True,
    )
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert [r.round_id for r in await list_rounds(store)] == ["2031-spring", "2030-spring"]
    assert (await load_programme(store)).state.version == 2

    # The same id twice at once: one is created, the other refused (never both recorded).
    again = await asyncio.gather(
        create_round(store, a_round("2032-spring", 2032), OPERATOR, now=NOW),
        create_round(store, a_round("2032-spring", 2032), OPERATOR, now=NOW),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in again) == ["Refused", "Round"]
    assert [r.round_id for r in await list_rounds(store)].count("2032-spring") == 1


async def test_rounds_and_migration_mode_share_the_stream_without_losing_either(store: EventStore) -> None:
    await create_round(store, a_round("2030-spring", 2030), OPERATOR, now=NOW)
    await switch_migration_mode(store, SwitchMigrationMode(on=True, reason="bringing 2019 in"), OPERATOR)
    await change_round(store, ChangeRound(round_id="2030-spring", review_capacity=45), OPERATOR, now=NOW)
    status = await load_programme(store)
    assert status.migration_mode is not None and status.state.rounds[0].review_capacity == 45
    record = await show_round(store, "2030-spring")
    assert [(c.changed_by, c.changes) for c in record.changes] == [("op-1", {"review_capacity": 45})]


async def test_only_the_committee_designates_the_honor_roll_and_only_operators_run_rounds(
    store: EventStore,
) -> None:
    with pytest.raises(errors.Forbidden, match="a committee may not give CreateRound"):
        await create_round(store, a_round("2030-spring", 2030), CHAIR, now=NOW)
    await create_round(store, a_round("2030-spring", 2030), OPERATOR, now=NOW)
    empty = DesignateHonorRoll(round_id="2030-spring", city_ids=[])
    with pytest.raises(errors.Forbidden, match="needs the role committee"):
        await designate_honor_roll(store, empty, OPERATOR, now=NOW)
    designated = await designate_honor_roll(store, empty, CHAIR, now=NOW)
    assert designated.honor_roll is not None and designated.honor_roll.designated_by == "chair"
    with pytest.raises(UnknownRound):
        await designate_honor_roll(store, empty.model_copy(update={"round_id": "2099-x"}), CHAIR, now=NOW)
    with pytest.raises(errors.Invalid, match="must come after the submission deadline"):
        change = ChangeRound(round_id="2030-spring", announcement_on=date(2030, 5, 1))
        await change_round(store, change, OPERATOR, now=NOW)


async def test_an_application_carries_the_round_it_names_as_the_programme_records_it(
    store: EventStore,
) -> None:
    await create_round(store, a_round("2030-spring", 2030), OPERATOR, now=NOW)
    staff = Actor(role="city", id="staff-lakeside")
    # Whatever the entry point put there, the application layer puts in the recorded round.
    made_up = ApplicationRound(round_id="2030-spring", opens_on=date(2000, 1, 1), closes_on=date(2099, 1, 1))
    given = ApplyForCertification(cohort="2030-spring", standard_version="wwc-2022", round=made_up)
    signed = await stamped(store, given, staff)
    assert isinstance(signed, ApplyForCertification)
    assert signed.round == ApplicationRound(
        round_id="2030-spring", opens_on=date(2030, 2, 1), closes_on=date(2030, 3, 31)
    )
    unknown = await stamped(store, given.model_copy(update={"cohort": "2031-fall"}), staff)
    assert isinstance(unknown, ApplyForCertification) and unknown.round is None


async def test_the_cohorts_of_earlier_data_become_one_round_whose_announcement_names_them(
    store: EventStore,
) -> None:
    # Given two cities certified under "2026-Spring" and "2026-spring": one cohort typed two ways
    # before rounds were records
    ids = CRITERIA[:23]
    for city_id, cohort in (("upper", "2026-Spring"), ("lower", "2026-spring")):
        city = CityRun(store, city_id)
        await city.register()
        await city.walk(
            [
                scenarios.apply(cohort),
                scenarios.evidence(ids),
                *scenarios.assigned_and_declared(ids),
                scenarios.review(approve=ids),
                scenarios.close(),
                scenarios.waive_visit(),
                scenarios.decide(Level.SILVER),
                scenarios.appeal_window_closes(),
            ]
        )
    # When an operator brings them into rounds
    adoption = await adopt_recorded_cohorts(store, OPERATOR, now=NOW)
    assert [type(c).__name__ for c in adoption.recorded] == ["CreateRound", "AdoptCohorts"]
    [spring] = await list_rounds(store)
    assert (spring.round_id, spring.cohorts) == ("2026-spring", ("2026-Spring",))
    assert spring.opens_on <= spring.closes_on < spring.announcement_on  # both applied the same day
    # Then both cities are in its announcement, and a second run finds nothing more to do
    announced = await load_announcement(
        store, "2026-spring", rule="next_announcement", today=spring.announcement_on
    )
    assert sorted(c.city_id for c in announced.newly_certified) == ["lower", "upper"]
    assert (await adopt_recorded_cohorts(store, OPERATOR, now=NOW)).recorded == []
