"""Importing a certification from before citycert: capped at the programme's validity, proposed by
an operator and countersigned by a committee member who did not propose it, or recorded at once
while the store's migration mode is on (itself recorded, in the programme stream)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from domain import CommandRejected, InvalidCommand, Phase, allowed_commands, decide
from domain import commands as c
from domain import events as ev
from domain.calendar import add_years
from domain.deadlines import next_deadline
from domain.levels import Level
from domain.policy import ProgrammePolicy
from domain.programme import (
    MigrationModeSwitchedOff,
    MigrationModeSwitchedOn,
    ProgrammeState,
    SwitchMigrationMode,
    decide_programme,
    fold_programme,
)
from domain.state import ImportProposal
from tests.unit.domain.story import DAY, T0, apply_to, given, registered, when

YEARS = ProgrammePolicy().validity_years  # 3


def valid_until(valid_from: datetime, years: int = YEARS) -> datetime:
    return add_years(valid_from, years)


MODE = ev.MigrationModeOn(since=T0 - DAY, switched_on_by="ops-ana", reason="bringing in 2018-2025")


def propose(**changes: object) -> c.ProposeImport:
    fields: dict[str, object] = {
        "level": "gold",
        "cohort": "2024",
        "standard_version": "wwc-2018",
        "valid_from": T0 - 400 * DAY,
        "valid_until": valid_until(T0 - 400 * DAY),
        "proposed_by": "ops-ana",
    }
    return c.ProposeImport.model_validate({**fields, **changes})


def proposed(**changes: object) -> list[ev.DomainEvent]:
    return [*registered(), *when(given(*registered()), propose(**changes))]


class TestTheCap:
    def test_a_platinum_certification_valid_until_2199_is_refused_saying_the_limit(self) -> None:
        command = propose(
            level="platinum", valid_from=T0 - DAY, valid_until=datetime(2199, 12, 31, tzinfo=UTC)
        )
        with pytest.raises(InvalidCommand) as refused:
            when(given(*registered()), command)
        message = str(refused.value)
        assert "at most the programme's validity (3 years)" in message
        assert (valid_until(T0 - DAY)).isoformat() in message, "the latest valid_until it may have"

    def test_the_cap_holds_in_migration_mode_too(self) -> None:
        command = propose(valid_until=valid_until(T0 - 400 * DAY) + DAY, migration_mode=MODE)
        with pytest.raises(InvalidCommand, match="at most the programme's validity"):
            when(given(*registered()), command)

    def test_the_cap_is_the_policys_validity(self) -> None:
        five_years = ProgrammePolicy(validity_years=5)
        command = propose(valid_from=T0 - DAY, valid_until=valid_until(T0 - DAY, 5))
        assert decide(given(*registered()), command, now=T0, policy=five_years)
        with pytest.raises(InvalidCommand, match="3 years"):
            when(given(*registered()), command)

    def test_a_certification_awarded_in_the_future_is_refused(self) -> None:
        with pytest.raises(InvalidCommand, match="not in the future"):
            when(given(*registered()), propose(valid_from=T0 + DAY, valid_until=T0 + 300 * DAY))

    def test_an_expired_or_backwards_certification_is_refused(self) -> None:
        with pytest.raises(CommandRejected, match="expired at"):
            when(given(*registered()), propose(valid_from=T0 - 900 * DAY, valid_until=T0 - DAY))
        with pytest.raises(ValidationError, match="valid_until must be after valid_from"):
            propose(valid_from=T0 - DAY, valid_until=T0 - DAY)


class TestAPeriodGivenInDays:
    """The API takes an import's validity as days: from 00:00 UTC on the first through 00:00 UTC
    after the last. A refusal speaks of those days as they were given, the last one inclusive."""

    FIRST = datetime(2025, 6, 1, tzinfo=UTC)  # 2025-06-01, its start

    def test_one_day_too_many_is_refused_naming_the_last_day_allowed(self) -> None:
        # Three calendar years across 29 February 2028: 00:00 UTC on 2028-06-01, so 2028-05-31 is
        # the last day (1,095 days would have stopped a day short).
        last_allowed_end = valid_until(self.FIRST)
        command = propose(valid_from=self.FIRST, valid_until=last_allowed_end + DAY)
        with pytest.raises(InvalidCommand) as refused:
            when(given(*registered()), command)
        assert str(refused.value).endswith(
            "awarded 2025-06-01, so valid_until at the latest the end of 2028-05-31 (UTC), "
            "not the end of 2028-06-01 (UTC)"
        )
        assert when(given(*registered()), propose(valid_from=self.FIRST, valid_until=last_allowed_end))

    def test_a_period_that_ended_says_its_last_day(self) -> None:
        command = propose(
            valid_from=datetime(2022, 6, 1, tzinfo=UTC), valid_until=datetime(2024, 6, 1, tzinfo=UTC)
        )
        with pytest.raises(CommandRejected) as refused:
            when(given(*registered()), command)
        assert str(refused.value) == "the certification to import expired at the end of 2024-05-31 (UTC)"

    def test_a_first_day_after_today_is_refused_as_that_day(self) -> None:
        command = propose(
            valid_from=datetime(2026, 3, 3, tzinfo=UTC), valid_until=datetime(2027, 1, 1, tzinfo=UTC)
        )
        with pytest.raises(InvalidCommand, match="valid_from 2026-03-03 is after now"):
            when(given(*registered()), command)


class TestCountersignature:
    def test_an_operators_import_is_a_proposal_and_the_city_is_not_certified(self) -> None:
        events = when(given(*registered()), propose())
        assert events == [
            ev.CertificationImportProposed(
                level=Level.GOLD,
                cohort="2024",
                standard_version="wwc-2018",
                valid_from=T0 - 400 * DAY,
                valid_until=valid_until(T0 - 400 * DAY),
                proposed_by="ops-ana",
            )
        ]
        state = given(*registered(), *events)
        assert state.phase is Phase.IMPORT_PROPOSED
        assert state.certification is None and state.level is None
        assert state.summary().level is None and state.summary().valid_until is None
        assert next_deadline(state) is None, "no lapse timer for a certification not held"
        assert state.import_proposal == ImportProposal(
            level=Level.GOLD,
            cohort="2024",
            standard_version="wwc-2018",
            valid_from=T0 - 400 * DAY,
            valid_until=valid_until(T0 - 400 * DAY),
            proposed_by="ops-ana",
        )
        assert allowed_commands(state) == [
            "CountersignImport",
            "RejectImport",
            "Withdraw",
            "UploadDocument",
            "CorrectCityProfile",
            "ImportPastCertification",
        ]

    def test_a_committee_member_countersigns_and_the_city_is_certified(self) -> None:
        events = when(given(*proposed()), c.CountersignImport(countersigned_by="cmt-ben", note="on file"))
        assert events == [
            ev.CertificationImported(
                level=Level.GOLD,
                cohort="2024",
                standard_version="wwc-2018",
                valid_from=T0 - 400 * DAY,
                valid_until=valid_until(T0 - 400 * DAY),
                proposed_by="ops-ana",
                countersigned_by="cmt-ben",
                note="on file",
            )
        ]
        state = given(*proposed(), *events)
        assert state.phase is Phase.CERTIFIED and state.level is Level.GOLD
        assert state.certification is not None and state.certification.imported
        assert state.import_proposal is None
        assert next_deadline(state) == valid_until(T0 - 400 * DAY), "it lapses at the end of its validity"

    def test_the_proposer_can_never_countersign_their_own(self) -> None:
        with pytest.raises(CommandRejected, match="ops-ana proposed this import and cannot countersign it"):
            when(given(*proposed()), c.CountersignImport(countersigned_by="ops-ana"))

    def test_a_committee_member_cannot_propose_and_sign_alone(self) -> None:
        # Whatever the role of the token, one id proposing and countersigning is one person.
        state = given(*proposed(proposed_by="cmt-ben"))
        with pytest.raises(CommandRejected, match="cmt-ben proposed this import"):
            when(state, c.CountersignImport(countersigned_by="cmt-ben"))

    def test_a_rejected_proposal_leaves_the_city_registered(self) -> None:
        events = when(given(*proposed()), c.RejectImport(rejected_by="cmt-ben", reason="no record of it"))
        assert events == [
            ev.CertificationImportRejected(
                proposed_by="ops-ana", rejected_by="cmt-ben", reason="no record of it"
            )
        ]
        state = given(*proposed(), *events)
        assert (
            state.phase is Phase.REGISTERED and state.certification is None and state.import_proposal is None
        )
        assert when(state, propose(proposed_by="ops-cy")), "another proposal may follow"

    def test_one_proposal_at_a_time_and_nothing_else_until_it_is_decided(self) -> None:
        state = given(*proposed())
        with pytest.raises(CommandRejected, match="import_proposed"):
            when(state, propose(proposed_by="ops-cy"))
        with pytest.raises(CommandRejected, match="ApplyForCertification needs the city to be"):
            when(state, apply_to("2026-fall", "wwc-2022"))

    def test_no_countersignature_without_a_proposal(self) -> None:
        with pytest.raises(CommandRejected, match="needs the city to be import_proposed"):
            when(given(*registered()), c.CountersignImport(countersigned_by="cmt-ben"))
        with pytest.raises(CommandRejected, match="needs the city to be import_proposed"):
            when(given(*registered()), c.RejectImport(rejected_by="cmt-ben", reason="x"))

    def test_a_proposal_that_expired_while_waiting_is_not_countersigned(self) -> None:
        later = valid_until(T0)
        with pytest.raises(CommandRejected, match="expired at"):
            when(given(*proposed()), c.CountersignImport(countersigned_by="cmt-ben"), now=later)

    def test_a_withdrawal_drops_the_proposal(self) -> None:
        state = given(*proposed(), ev.CityWithdrawn(reason="left"))
        assert state.phase is Phase.WITHDRAWN and state.import_proposal is None


class TestMigrationMode:
    def test_while_on_an_operators_import_is_recorded_directly_saying_so(self) -> None:
        events = when(given(*registered()), propose(migration_mode=MODE))
        assert events == [
            ev.CertificationImported(
                level=Level.GOLD,
                cohort="2024",
                standard_version="wwc-2018",
                valid_from=T0 - 400 * DAY,
                valid_until=valid_until(T0 - 400 * DAY),
                proposed_by="ops-ana",
                migration_mode=MODE,
            )
        ]
        state = given(*registered(), *events)
        assert state.phase is Phase.CERTIFIED and state.level is Level.GOLD

    def test_switching_it_is_recorded_with_who_when_and_why(self) -> None:
        on = decide_programme(
            ProgrammeState(),
            SwitchMigrationMode(on=True, reason="bringing in 2018-2025"),
            now=T0,
            by="ops-ana",
        )
        assert on == [
            MigrationModeSwitchedOn(switched_by="ops-ana", switched_at=T0, reason="bringing in 2018-2025")
        ]
        state = fold_programme(on)
        assert state.version == 1
        assert state.migration_mode == ev.MigrationModeOn(
            since=T0, switched_on_by="ops-ana", reason="bringing in 2018-2025"
        )
        off = decide_programme(state, SwitchMigrationMode(on=False, reason="done"), now=T0 + DAY, by="ops-cy")
        assert off == [MigrationModeSwitchedOff(switched_by="ops-cy", switched_at=T0 + DAY, reason="done")]
        assert fold_programme([*on, *off]) == ProgrammeState(version=2, migration_mode=None)

    def test_switching_it_to_what_it_already_is_is_refused(self) -> None:
        with pytest.raises(CommandRejected, match="already off"):
            decide_programme(
                ProgrammeState(), SwitchMigrationMode(on=False, reason="x"), now=T0, by="ops-ana"
            )
        state = fold_programme(
            [MigrationModeSwitchedOn(switched_by="ops-ana", switched_at=T0, reason="bringing in 2018-2025")]
        )
        with pytest.raises(CommandRejected, match=r"already on, since .* by ops-ana: bringing in 2018-2025"):
            decide_programme(state, SwitchMigrationMode(on=True, reason="again"), now=T0, by="ops-cy")


def test_an_import_recorded_before_countersignatures_reads_as_one_nobody_countersigned() -> None:
    from domain.events import UPCASTERS

    stored = {
        "level": "silver",
        "cohort": "2024",
        "standard_version": "wwc-2018",
        "valid_from": "2024-03-01T00:00:00Z",
        "valid_until": "2027-03-01T00:00:00Z",
    }
    event = ev.CertificationImported.model_validate(UPCASTERS[("CertificationImported", 1)](stored))
    assert (event.proposed_by, event.countersigned_by, event.note, event.migration_mode) == (
        None,
        None,
        "",
        None,
    )
    assert ev.CertificationImported.schema_version == 2
