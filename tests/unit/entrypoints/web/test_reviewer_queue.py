"""A reviewer's queue in words: given open items of two cities, soonest due first (the query's
order), the cities come in the order of their soonest item, each saying where the reviewer stands
with it (declared, a conflict, not yet), its items marked escalated and assigned or not."""

from __future__ import annotations

from domain.state import ItemStatus
from entrypoints.web.i18n import Speaker
from entrypoints.web.reviewer import queue
from readmodel import ReviewItem
from tests.unit.domain.story import (
    CRITERIA,
    DAY,
    T0,
    applied,
    assigned,
    declared_no_conflict,
    given,
    submitted,
)

FIRST, SECOND, THIRD = CRITERIA[:3]


def item(
    city_id: str, criterion_id: str, days: int, *, escalated: bool = False, mine: bool = True
) -> ReviewItem:
    return ReviewItem(
        city_id=city_id,
        criterion_id=criterion_id,
        round_id="2026-spring",
        reviewer_id="rev-ana" if mine else None,
        status=ItemStatus.SUBMITTED,
        waiting_on="reviewer",
        due_at=T0 + days * DAY,
        escalated=escalated,
    )


def test_cities_come_by_their_soonest_item_each_with_the_reviewers_standing() -> None:
    # Given Lakeside, where Ana declared no conflict, and a city she has not declared for
    lakeside = given(
        *applied(), *submitted([FIRST, SECOND]), *assigned([FIRST, SECOND]), *declared_no_conflict()
    )
    items = [
        item("bayview", THIRD, 2, escalated=True, mine=False),
        item("lakeside", FIRST, 5),
        item("bayview", FIRST, 9),
        item("lakeside", SECOND, 12),
    ]
    # When her queue is shaped in Spanish
    cities = queue(items, {"lakeside": lakeside}, "rev-ana", Speaker("es"))
    # Then Bayview (due in 2 days) comes first, not yet declared for, its escalated item marked
    assert [(c.city_id, c.standing, c.soonest) for c in cities] == [
        ("bayview", "undeclared", T0 + 2 * DAY),
        ("lakeside", "declared", T0 + 5 * DAY),
    ]
    assert [(r.criterion_id, r.escalated, r.yours) for r in cities[0].rows] == [
        (THIRD, True, False),
        (FIRST, False, True),
    ]
    assert [r.criterion_id for r in cities[1].rows] == [FIRST, SECOND]
    assert cities[1].rows[0].status == "A la espera de la decisión de un revisor"
    assert cities[1].rows[0].title, "the criterion's title from the city's standard"
