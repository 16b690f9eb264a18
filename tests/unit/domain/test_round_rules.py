"""The rules the programme's staff expect of a round and a reviewer, decided on counts the
application layer reads across cities: a round takes applications up to its review capacity, its
Honor Roll names cities of the round found not certified in it, and a reviewer given criteria by
hand keeps to their capacity. Given the rounds and the counts, when the decision is asked, then
nothing or the refusal in words."""

from __future__ import annotations

from datetime import date

import pytest

from domain.errors import CommandRejected, Refusal
from domain.reviewer_capacity import refuse_beyond_reviewer_capacity
from domain.rounds import RoundStanding, refuse_beyond_capacity, refuse_off_the_honor_roll
from tests.unit.domain.test_rounds import FALL, created, rounds

SPRING_DAY = date(2026, 3, 1)  # the spring round is open for applications
CAPACITY = 40  # the spring round's (test_rounds.SPRING)


def applied(n: int) -> set[str]:
    return {f"city-{i}" for i in range(n)}


def refusal_of(call: object) -> CommandRejected:
    assert callable(call)
    with pytest.raises(CommandRejected) as refused:
        call()
    return refused.value


# --- a round's review capacity -------------------------------------------------------------------


def test_a_round_takes_applications_up_to_its_capacity() -> None:
    spring = rounds(created())
    refuse_beyond_capacity(spring, "2026-spring", applied(CAPACITY - 1), "lakeside", SPRING_DAY)


def test_an_application_beyond_the_capacity_is_refused_pointing_to_the_next_round() -> None:
    both = rounds(created(), created(**FALL))
    refused = refusal_of(
        lambda: refuse_beyond_capacity(both, "2026-spring", applied(CAPACITY), "lakeside", SPRING_DAY)
    )
    assert str(refused) == (
        f"round 2026-spring is full (applications: {CAPACITY}; its review capacity: {CAPACITY}); "
        "apply to round 2026-fall, open for applications 2026-08-01 to 2026-09-30"
    )
    assert refused.refusal.params["capacity"] == CAPACITY  # a number, for each language to write
    instead = refused.refusal.params["instead"]
    assert isinstance(instead, Refusal) and instead.params["other"] == "2026-fall"


def test_with_no_later_round_the_refusal_says_what_can_be_done() -> None:
    spring = rounds(created())
    refused = refusal_of(
        lambda: refuse_beyond_capacity(spring, "2026-spring", applied(CAPACITY + 3), "lakeside", SPRING_DAY)
    )
    assert str(refused).endswith(
        f"(applications: {CAPACITY + 3}; its review capacity: {CAPACITY}); apply to a later round "
        "once the programme opens one, or ask an operator to raise its capacity"
    )


def test_a_city_that_applied_in_the_round_before_keeps_its_place() -> None:
    # It applied, withdrew and came back: its place is its own, the round being full or not.
    full = applied(CAPACITY)
    refuse_beyond_capacity(rounds(created()), "2026-spring", full, "city-7", SPRING_DAY)


def test_an_unknown_round_is_left_to_the_city_rules_to_refuse() -> None:
    refuse_beyond_capacity(rounds(created()), "2031-spring", applied(10_000), "lakeside", SPRING_DAY)


# --- who the Honor Roll may name -----------------------------------------------------------------

STANDINGS: dict[str, RoundStanding] = {
    "marston": "not_certified",
    "glenmoor": "not_certified",
    "bravo": "certified",
    "delta": "undecided",
    "echo": "withdrawn",
}


def test_the_honor_roll_names_cities_found_not_certified_in_the_round() -> None:
    refuse_off_the_honor_roll("2026-spring", ["marston", "glenmoor"], STANDINGS)
    refuse_off_the_honor_roll("2026-spring", [], STANDINGS)  # an empty roll clears it


def test_a_certified_city_is_refused_as_its_announcement_names_it_by_level() -> None:
    refused = refusal_of(lambda: refuse_off_the_honor_roll("2026-spring", ["marston", "bravo"], STANDINGS))
    assert str(refused) == (
        "the Honor Roll of round 2026-spring names cities of the round found not certified in it; it "
        "cannot name cities certified in the round, which its announcement names by level: bravo"
    )


def test_every_city_it_cannot_name_is_named_with_why() -> None:
    named = ["lakeside", "echo", "bravo", "delta", "marston", "nowhere"]
    refused = refusal_of(lambda: refuse_off_the_honor_roll("2026-spring", named, STANDINGS))
    assert str(refused).split("; it cannot name ")[1] == (
        "cities that did not apply in the round: lakeside, nowhere; "
        "cities certified in the round, which its announcement names by level: bravo; "
        "cities whose decision in the round is still to come: delta; "
        "cities that withdrew from the round: echo"
    )
    reasons = refused.refusal.params["reasons"]
    assert isinstance(reasons, tuple)
    assert [r.params["cities"] for r in reasons if isinstance(r, Refusal)] == [
        ("lakeside", "nowhere"),
        ("bravo",),
        ("delta",),
        ("echo",),
    ]


# --- a reviewer's capacity, for an assignment by hand ----------------------------------------------


def test_a_reviewer_takes_criteria_up_to_their_capacity() -> None:
    refuse_beyond_reviewer_capacity("per_ana", capacity=10, load=7, taking=3)
    refuse_beyond_reviewer_capacity("per_ana", capacity=10, load=12, taking=0)  # nothing new


def test_criteria_beyond_a_reviewer_s_capacity_are_refused_saying_what_to_do() -> None:
    refused = refusal_of(lambda: refuse_beyond_reviewer_capacity("per_ana", capacity=10, load=8, taking=3))
    assert str(refused) == (
        "reviewer per_ana has 8 open criteria of a capacity of 10: no room for 3 more; choose another "
        "reviewer, or raise their capacity on their record if they agreed to take more"
    )
