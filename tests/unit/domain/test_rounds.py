"""Rounds as programme records: given the programme's events, when a round command, then its events
(or the refusal, in words); and the two questions the application path asks of rounds."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from domain.errors import CommandRejected, InvalidCommand
from domain.events import DomainEvent
from domain.programme import (
    PROGRAMME_EVENT_TYPES,
    ProgrammeState,
    SwitchMigrationMode,
    decide_programme,
    fold_programme,
)
from domain.rounds import (
    AdoptCohorts,
    ChangeRound,
    CohortsAdopted,
    CreateRound,
    DesignateHonorRoll,
    HonorRollDesignated,
    RecordedCohort,
    Round,
    RoundChanged,
    RoundCreated,
    adoption_plan,
    announced_in,
    open_rounds,
    round_id_for,
    round_recorded_as,
)

OPERATOR, CHAIR = "op-1", "chair"
CREATED_AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
SPRING = {
    "round_id": "2026-spring",
    "name": "Spring 2026",
    "opens_on": date(2026, 2, 1),
    "closes_on": date(2026, 3, 31),
    "submission_deadline": date(2026, 5, 31),
    "announcement_on": date(2026, 9, 15),
    "review_capacity": 40,
}
FALL = {
    **SPRING,
    "round_id": "2026-fall",
    "name": "Fall 2026",
    "opens_on": date(2026, 8, 1),
    "closes_on": date(2026, 9, 30),
    "submission_deadline": date(2026, 11, 30),
    "announcement_on": date(2027, 3, 1),
}


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def created(**fields: Any) -> RoundCreated:
    return RoundCreated(**{**SPRING, **fields}, created_by=OPERATOR, created_at=CREATED_AT)


def given(*events: DomainEvent) -> ProgrammeState:
    return fold_programme(list(events))


def when(state: ProgrammeState, command: Any, on: datetime, by: str = OPERATOR) -> list[DomainEvent]:
    return decide_programme(state, command, now=on, by=by)


def rejected(state: ProgrammeState, command: Any, on: datetime) -> str:
    with pytest.raises(CommandRejected) as refused:
        when(state, command, on)
    return str(refused.value)


# --- creating a round ---------------------------------------------------------------------------


def test_an_operator_creates_a_round_with_its_dates_and_capacity() -> None:
    events = when(given(), CreateRound(**SPRING), CREATED_AT)
    assert events == [created()]
    state = given(*events)
    assert [r.round_id for r in state.rounds] == ["2026-spring"]
    assert state.rounds[0].review_capacity == 40 and state.version == 1


def test_the_programme_stream_reads_back_every_round_event_by_its_type() -> None:
    for kind in (RoundCreated, RoundChanged, HonorRollDesignated):
        assert PROGRAMME_EVENT_TYPES[kind.event_type()] is kind


@pytest.mark.parametrize(
    ("dates", "words"),
    [
        ({"opens_on": date(2026, 4, 1)}, "must open (opens_on 2026-04-01) on or before the day it closes"),
        ({"submission_deadline": date(2026, 3, 1)}, "submission deadline (2026-03-01) must be on or after"),
        ({"announcement_on": date(2026, 5, 31)}, "announcement (2026-05-31) must come after the submission"),
    ],
)
def test_a_round_s_dates_must_come_in_order(dates: dict[str, date], words: str) -> None:
    with pytest.raises(ValidationError) as refused:
        CreateRound(**{**SPRING, **dates})
    assert words in str(refused.value)


def test_a_round_may_open_and_close_on_one_day_and_take_evidence_that_day() -> None:
    one_day = {
        "opens_on": date(2026, 3, 1),
        "closes_on": date(2026, 3, 1),
        "submission_deadline": date(2026, 3, 1),
    }
    assert CreateRound(**{**SPRING, **one_day}).closes_on == date(2026, 3, 1)


@pytest.mark.parametrize("bad", ["2026-Spring", "2026 spring", "-spring", "spring-", "", "x" * 41])
def test_a_round_id_is_a_lowercase_slug_and_the_refusal_says_so(bad: str) -> None:
    with pytest.raises(ValidationError) as refused:
        CreateRound(**{**SPRING, "round_id": bad})
    assert "must be a round id: 1 to 40 lowercase letters, digits or hyphens" in str(refused.value)


def test_a_round_id_is_used_once() -> None:
    state = given(created())
    words = rejected(state, CreateRound(**{**FALL, "round_id": "2026-spring"}), CREATED_AT)
    assert "round 2026-spring exists already (created on 2026-01-05 by op-1)" in words


def test_two_rounds_application_windows_may_not_overlap() -> None:
    state = given(created())
    overlapping = {**FALL, "opens_on": date(2026, 3, 31)}  # the spring round's last day
    words = rejected(state, CreateRound(**overlapping), CREATED_AT)
    assert words == (
        "round 2026-fall would be open for applications (2026-03-31 to 2026-09-30) while round "
        "2026-spring is (2026-02-01 to 2026-03-31); at most one round is open at a time"
    )
    # The next day is fine: the spring round's review may run while the fall round takes applications.
    assert when(state, CreateRound(**{**FALL, "opens_on": date(2026, 4, 1)}), CREATED_AT)


def test_a_programme_that_runs_rounds_side_by_side_may_let_them_overlap() -> None:
    state = given(created())
    side_by_side = CreateRound(**{**FALL, "opens_on": date(2026, 3, 1)})
    [event] = decide_programme(state, side_by_side, now=CREATED_AT, by=OPERATOR, rounds_may_overlap=True)
    assert isinstance(event, RoundCreated) and event.opens_on == date(2026, 3, 1)
    moved = ChangeRound(round_id="2026-spring", closes_on=date(2026, 4, 15))
    later = given(created(), event)
    assert decide_programme(later, moved, now=CREATED_AT, by=OPERATOR, rounds_may_overlap=True)
    assert "at most one round is open at a time" in rejected(later, moved, CREATED_AT)


def test_a_round_the_programme_ran_before_citycert_may_be_recorded() -> None:
    past = {**SPRING, "round_id": "2019-fall", "opens_on": date(2019, 8, 1), "closes_on": date(2019, 9, 1),
            "submission_deadline": date(2019, 10, 1), "announcement_on": date(2019, 12, 1)}  # fmt: skip
    assert [type(e) for e in when(given(), CreateRound(**past), CREATED_AT)] == [RoundCreated]


# --- changing a round ---------------------------------------------------------------------------


def test_a_change_records_only_what_changed() -> None:
    state = given(created())
    command = ChangeRound(round_id="2026-spring", name="Spring 2026", review_capacity=55)
    on = at(date(2026, 2, 10))
    assert when(state, command, on) == [
        RoundChanged(round_id="2026-spring", changed_by=OPERATOR, changed_at=on, review_capacity=55)
    ]
    assert given(created(), *when(state, command, on)).rounds[0].review_capacity == 55


def test_a_change_must_say_what_to_change_and_change_something() -> None:
    with pytest.raises(ValidationError) as empty:
        ChangeRound(round_id="2026-spring")
    assert "say what to change" in str(empty.value)
    same = ChangeRound(round_id="2026-spring", review_capacity=40)
    assert (
        rejected(given(created()), same, CREATED_AT)
        == "round 2026-spring already is as asked: nothing changes"
    )


def test_a_change_that_puts_the_dates_out_of_order_is_refused_in_words() -> None:
    command = ChangeRound(round_id="2026-spring", submission_deadline=date(2026, 10, 1))
    with pytest.raises(InvalidCommand) as refused:
        when(given(created()), command, CREATED_AT)
    assert str(refused.value) == (
        "the announcement (2026-09-15) must come after the submission deadline (2026-10-01)"
    )


def test_a_change_may_not_make_two_windows_overlap() -> None:
    state = given(created(), created(**FALL))
    words = rejected(state, ChangeRound(round_id="2026-fall", opens_on=date(2026, 3, 15)), CREATED_AT)
    assert "while round 2026-spring is (2026-02-01 to 2026-03-31)" in words


def test_a_round_cannot_be_changed_once_its_announcement_date_has_come() -> None:
    state = given(created())
    command = ChangeRound(round_id="2026-spring", name="Spring")
    assert when(state, command, at(date(2026, 9, 14)))  # the day before: still allowed
    words = rejected(state, command, at(date(2026, 9, 15), hour=0))
    assert words == (
        "round 2026-spring was announced on 2026-09-15; "
        "an announced round's record stands as it was published"
    )


def test_the_announcement_cannot_be_moved_into_the_past_but_may_be_today() -> None:
    state = given(created())
    today = date(2026, 7, 1)
    words = rejected(state, ChangeRound(round_id="2026-spring", announcement_on=date(2026, 6, 30)), at(today))
    assert (
        words == "the announcement cannot be moved into the past (2026-06-30); "
        "the earliest it can be is today, 2026-07-01"
    )
    assert when(state, ChangeRound(round_id="2026-spring", announcement_on=today), at(today))


def test_a_change_of_an_unknown_round_names_the_rounds_there_are() -> None:
    words = rejected(given(created()), ChangeRound(round_id="2031-spring", name="x"), CREATED_AT)
    assert words == "there is no round 2031-spring; the rounds are 2026-spring"


# --- the Honor Roll -----------------------------------------------------------------------------


def test_the_committee_designates_the_honor_roll_and_a_later_designation_replaces_it() -> None:
    state = given(created())
    first_at, second_at = at(date(2026, 8, 1)), at(date(2026, 8, 20))
    first = when(
        state, DesignateHonorRoll(round_id="2026-spring", city_ids=["marston", "riverton"]), first_at, CHAIR
    )
    assert first == [
        HonorRollDesignated(
            round_id="2026-spring",
            city_ids=("marston", "riverton"),
            designated_by=CHAIR,
            designated_at=first_at,
        )
    ]
    second = when(
        given(created(), *first),
        DesignateHonorRoll(round_id="2026-spring", city_ids=["corbin"]),
        second_at,
        CHAIR,
    )
    roll = given(created(), *first, *second).rounds[0].honor_roll
    assert roll is not None
    assert roll.city_ids == ("corbin",) and roll.designated_at == second_at


def test_the_honor_roll_is_closed_once_the_round_is_announced() -> None:
    command = DesignateHonorRoll(round_id="2026-spring", city_ids=["marston"])
    words = rejected(given(created()), command, at(date(2026, 9, 15)))
    assert words == (
        "round 2026-spring was announced on 2026-09-15: its Honor Roll is part of the published "
        "announcement and can no longer be changed"
    )


def test_an_honor_roll_names_each_city_once_by_its_id() -> None:
    with pytest.raises(ValidationError) as twice:
        DesignateHonorRoll(round_id="2026-spring", city_ids=["marston", "marston"])
    assert "cities named more than once: marston" in str(twice.value)
    with pytest.raises(ValidationError) as not_an_id:
        DesignateHonorRoll(round_id="2026-spring", city_ids=["Marston City"])
    assert "must be a city id" in str(not_an_id.value)


def test_rounds_and_migration_mode_share_the_programme_stream() -> None:
    switched = when(given(created()), SwitchMigrationMode(on=True, reason="bringing 2019 in"), CREATED_AT)
    state = given(created(), *switched)
    assert state.migration_mode is not None and [r.round_id for r in state.rounds] == ["2026-spring"]
    assert state.version == 2


# --- applying to a round ------------------------------------------------------------------------


def rounds(*events: RoundCreated) -> tuple[Round, ...]:
    return given(*events).rounds


def test_a_round_is_open_for_applications_from_its_first_to_its_last_day() -> None:
    both = rounds(created(), created(**FALL))
    spring, fall = both
    assert all(spring.is_open(day) for day in (spring.opens_on, date(2026, 3, 1), spring.closes_on))
    assert [r.round_id for r in open_rounds(both, date(2026, 8, 15))] == ["2026-fall"]
    assert open_rounds(both, date(2026, 1, 10)) == [] and not fall.is_open(date(2026, 1, 10))


# --- which announcement names an award ----------------------------------------------------------


def test_an_award_by_its_round_s_announcement_date_is_in_that_announcement() -> None:
    both = rounds(created(), created(**FALL))
    assert announced_in(date(2026, 7, 1), "2026-spring", both) == "2026-spring"
    assert announced_in(date(2026, 9, 15), "2026-spring", both) == "2026-spring"  # on the day itself


def test_a_late_award_is_in_the_next_announcement_by_default() -> None:
    both = rounds(created(), created(**FALL))
    assert announced_in(date(2026, 9, 16), "2026-spring", both) == "2026-fall"
    assert announced_in(date(2026, 9, 16), "2026-spring", both, "next_announcement") == "2026-fall"
    # No later round yet: no announcement names it (until one is created).
    assert announced_in(date(2027, 4, 1), "2026-fall", both) is None


def test_under_own_round_a_late_award_stays_in_its_own_round() -> None:
    both = rounds(created(), created(**FALL))
    assert announced_in(date(2026, 12, 1), "2026-spring", both, "own_round") == "2026-spring"


def test_an_award_in_a_cohort_that_is_not_a_round_is_in_no_announcement() -> None:
    assert announced_in(date(2026, 7, 1), "Spring-2026", rounds(created())) is None
    with pytest.raises(ValueError, match="late-award rule is one of next_announcement, own_round"):
        announced_in(date(2026, 7, 1), "2026-spring", rounds(created()), "whenever")  # type: ignore[arg-type]


class TestTheCohortsOfEarlierData:
    """Cohorts were free text before rounds were records: an operator brings them into rounds once."""

    def test_two_spellings_of_one_cohort_become_one_round_dated_by_the_data(self) -> None:
        recorded = [
            RecordedCohort(
                cohort="2026-Spring", first_applied=date(2026, 2, 3), last_applied=date(2026, 3, 1)
            ),
            RecordedCohort(
                cohort="2026-spring",
                first_applied=date(2026, 2, 10),
                last_applied=date(2026, 3, 20),
                last_decided=date(2026, 9, 1),
            ),
            RecordedCohort(cohort="!!!", first_applied=date(2026, 2, 3), last_applied=date(2026, 2, 3)),
        ]
        plan, unnamed = adoption_plan((), recorded)
        assert plan == [
            CreateRound(
                round_id="2026-spring",
                name="2026-spring (from the cohorts recorded before rounds)",
                opens_on=date(2026, 2, 3),
                closes_on=date(2026, 3, 20),
                submission_deadline=date(2026, 3, 20),
                announcement_on=date(2026, 9, 2),
                review_capacity=10_000,
            ),
            AdoptCohorts(round_id="2026-spring", cohorts=["2026-Spring"]),
        ]
        assert unnamed == ["!!!"]

    def test_a_cohort_a_round_covers_needs_nothing_and_a_second_run_finds_nothing(self) -> None:
        state = given(
            created(),
            CohortsAdopted(
                round_id="2026-spring", cohorts=("2026 Spring",), adopted_by=OPERATOR, adopted_at=CREATED_AT
            ),
        )
        [spring] = state.rounds
        assert spring.recorded_as == ("2026-spring", "2026 Spring")
        recorded = [
            RecordedCohort(cohort=c, first_applied=date(2026, 2, 3), last_applied=date(2026, 3, 1))
            for c in spring.recorded_as
        ]
        assert adoption_plan(state.rounds, recorded) == ([], [])
        assert round_recorded_as(state.rounds, "2026 Spring") == "2026-spring"

    def test_a_cohort_belongs_to_one_round(self) -> None:
        state = given(
            created(),
            CohortsAdopted(
                round_id="2026-spring", cohorts=("2026 Spring",), adopted_by=OPERATOR, adopted_at=CREATED_AT
            ),
        )
        assert "is adopted by round 2026-spring already" in rejected(
            state, AdoptCohorts(round_id="2026-spring", cohorts=["2026 Spring"]), at(date(2026, 1, 6))
        )
        assert "is a round's own id already" in rejected(
            state, AdoptCohorts(round_id="2026-spring", cohorts=["2026-spring"]), at(date(2026, 1, 6))
        )
        assert "there is no round 2030-fall" in rejected(
            state, AdoptCohorts(round_id="2030-fall", cohorts=["x"]), at(date(2026, 1, 6))
        )

    def test_a_round_id_is_made_of_a_cohort_by_lowercasing_and_hyphens(self) -> None:
        assert round_id_for("2026 Spring") == round_id_for("2026-SPRING") == "2026-spring"
        assert round_id_for("---") is None
