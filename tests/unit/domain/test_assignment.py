"""Automatic assignment, the pure choice: the least loaded eligible reviewer takes each area (ties
by id), within their capacity, never one from the city or with a conflict declared; an area nobody
can take is refused in words."""

from __future__ import annotations

from domain import events as ev
from domain.assignment import AreaAssignment, AreaToAssign, Candidate, areas_waiting, plan_assignment
from tests.unit.domain.story import STANDARD, applied_under_latest_rules, assigned, given, submitted

CITY = "lakeside"
AREA, OTHER = (a.id for a in STANDARD.practice_areas[:2])
IN_AREA = tuple(c.id for c in STANDARD.criteria if c.practice_area == AREA)
IN_OTHER = tuple(c.id for c in STANDARD.criteria if c.practice_area == OTHER)


def reviewer(
    name: str, *, load: int = 0, capacity: int = 20, areas: tuple[str, ...] = (AREA, OTHER), **more: object
) -> Candidate:
    return Candidate.model_validate(
        {
            "reviewer_id": name,
            "home_city": "riverton",
            "practice_areas": areas,
            "capacity": capacity,
            "load": load,
            **more,
        }
    )


def area(area_id: str = AREA, n: int = 2) -> AreaToAssign:
    ids = IN_AREA if area_id == AREA else IN_OTHER
    return AreaToAssign(practice_area=area_id, criterion_ids=ids[:n])


def test_the_least_loaded_reviewer_takes_the_area() -> None:
    plan = plan_assignment(CITY, [area()], [reviewer("rev-a", load=5), reviewer("rev-b", load=1)])

    assert plan.assignments == (
        AreaAssignment(practice_area=AREA, reviewer_id="rev-b", criterion_ids=IN_AREA[:2]),
    )
    assert plan.complete


def test_a_tie_goes_to_the_first_id() -> None:
    plan = plan_assignment(CITY, [area()], [reviewer("rev-b"), reviewer("rev-a")])

    assert [a.reviewer_id for a in plan.assignments] == ["rev-a"]


def test_areas_are_balanced_as_they_are_handed_out() -> None:
    plan = plan_assignment(CITY, [area(AREA), area(OTHER)], [reviewer("rev-a"), reviewer("rev-b")])

    assert [(a.practice_area, a.reviewer_id) for a in plan.assignments] == [(AREA, "rev-a"), (OTHER, "rev-b")]


def test_a_reviewer_without_room_for_the_area_is_passed_over() -> None:
    plan = plan_assignment(
        CITY, [area(n=2)], [reviewer("rev-a", load=0, capacity=1), reviewer("rev-b", load=9)]
    )

    assert [a.reviewer_id for a in plan.assignments] == ["rev-b"]


def test_only_reviewers_of_the_area_are_picked() -> None:
    plan = plan_assignment(CITY, [area()], [reviewer("rev-a", areas=(OTHER,)), reviewer("rev-b", load=7)])

    assert [a.reviewer_id for a in plan.assignments] == ["rev-b"]


def test_a_conflicted_reviewer_is_never_picked() -> None:
    candidates = [
        reviewer("rev-a", home_city=CITY),
        reviewer("rev-b", conflicts=frozenset({CITY})),
        reviewer("rev-c"),
        reviewer("rev-d", load=9),
    ]

    plan = plan_assignment(CITY, [area()], candidates, declared_conflicts={"rev-c": "worked there"})

    assert [a.reviewer_id for a in plan.assignments] == ["rev-d"]


def test_an_area_nobody_can_take_is_refused_saying_why() -> None:
    candidates = [
        reviewer("rev-a", home_city=CITY),
        reviewer("rev-b", load=3, capacity=4),
        reviewer("rev-c", conflicts=frozenset({CITY})),
        reviewer("rev-d", areas=(OTHER,)),
    ]

    plan = plan_assignment(CITY, [area(n=2), area(OTHER, n=1)], candidates, declared_conflicts={})

    assert not plan.complete
    assert [a.practice_area for a in plan.assignments] == [OTHER]
    (refusal,) = plan.refusals
    assert refusal.startswith(f"nobody can take {AREA} of {CITY}: ")
    for why in (
        f"rev-a is from {CITY}",
        "rev-b has 3 open criteria of a capacity of 4, no room for 2 more",
        f"rev-c declared a conflict with {CITY} on their record",
    ):
        assert why in refusal
    assert "rev-d" not in refusal


def test_an_area_no_reviewer_reviews_is_refused() -> None:
    plan = plan_assignment(CITY, [area()], [reviewer("rev-a", areas=(OTHER,))])

    assert plan.refusals == (f"nobody can take {AREA} of {CITY}: no reviewer reviews {AREA}",)


def test_the_areas_waiting_are_those_with_unassigned_open_criteria_and_no_reviewer() -> None:
    state = given(
        *applied_under_latest_rules(),
        *submitted([*IN_AREA[:2], *IN_OTHER[:2]]),
        *assigned([IN_OTHER[0]]),
    )
    assert state.cycle is not None

    assert areas_waiting(state.cycle, STANDARD) == [
        AreaToAssign(practice_area=AREA, criterion_ids=tuple(sorted(IN_AREA[:2]))),
        AreaToAssign(practice_area=OTHER, criterion_ids=(IN_OTHER[1],)),
    ]
    with_area = given(
        *applied_under_latest_rules(),
        *submitted([*IN_AREA[:2]]),
        ev.PracticeAreaAssigned(practice_area=AREA, reviewer_id="rev-a"),
    )
    assert with_area.cycle is not None
    assert areas_waiting(with_area.cycle, STANDARD) == []


def test_the_reasons_are_data_whose_english_is_the_words_the_api_always_gave() -> None:
    # Every kind of reason at once; the English is spelled out as the plan always wrote it.
    candidates = [
        reviewer("rev-a", home_city=CITY),
        reviewer("rev-b", load=3, capacity=4),
        reviewer("rev-c", conflicts=frozenset({CITY})),
        reviewer("rev-d", areas=(OTHER,)),
        reviewer("rev-e"),
    ]

    plan = plan_assignment(CITY, [area(n=2)], candidates, declared_conflicts={"rev-e": "worked there"})

    (reason,) = plan.reasons
    assert reason.template == "nobody can take {practice_area} of {city_id}: {reasons:;}"
    assert [r.template for r in reason.params["reasons"]] == [  # type: ignore[union-attr]
        "{reviewer_id} is from {city_id}",
        "{reviewer_id} has {load} open criteria of a capacity of {capacity}, no room for {needed} more",
        "{reviewer_id} declared a conflict with {city_id} on their record",
        "{reviewer_id} declared a conflict with {city_id} ({reason})",
    ]
    assert plan.refusals == (
        f"nobody can take {AREA} of {CITY}: rev-a is from {CITY}; "
        "rev-b has 3 open criteria of a capacity of 4, no room for 2 more; "
        f"rev-c declared a conflict with {CITY} on their record; "
        f"rev-e declared a conflict with {CITY} (worked there)",
    )
