"""A certified city's public page as shaped for its template: the certificate it holds now with its
number linked first, the others as past certifications (the latest first), and the rounds whose
announcement named one of its awards, the latest first, each linked to its announcement."""

from __future__ import annotations

from datetime import UTC, date, datetime

from app.directory import PublicCity
from domain.levels import Level
from domain.rounds import Round
from entrypoints.web.i18n import Speaker
from entrypoints.web.public import city_view
from tests.unit.entrypoints.web.test_public_words import certificate

EN, PT = Speaker("en"), Speaker("pt")
TODAY = date(2030, 1, 10)


def a_round(round_id: str, name: str, announced: date) -> Round:
    return Round(
        round_id=round_id,
        name=name,
        opens_on=date(announced.year - 1, 1, 1),
        closes_on=date(announced.year - 1, 2, 1),
        submission_deadline=date(announced.year - 1, 3, 1),
        announcement_on=announced,
        review_capacity=10,
        created_by="op-1",
        created_at=datetime(2020, 1, 1, tzinfo=UTC),
    )


SPRING, FALL = (
    a_round("2026-spring", "Spring 2026", date(2026, 6, 1)),
    a_round("2029-fall", "Fall 2029", date(2029, 11, 1)),
)
# Given Lakeside imported Silver from before the rounds, Gold in Spring 2026 superseded by
# Platinum in Fall 2029, which it holds now
IMPORTED = certificate(
    number="CC-2022-LAKESIDE-1",
    level=Level.SILVER,
    round="imported-2022",
    imported=True,
    status="ended",
    end_reason="superseded",
    current=False,
)
GOLD = certificate(
    number="CC-2026-LAKESIDE-2", round=SPRING.round_id, status="ended", end_reason="superseded", current=False
)
HELD = certificate(number="CC-2029-LAKESIDE-3", level=Level.PLATINUM, round=FALL.round_id)
CITY = PublicCity(
    city_id="lakeside",
    city="Lakeside",
    region="Ohio",
    country="US",
    country_name="United States",
    certificates=[IMPORTED, GOLD, HELD],
)
ROUNDS_OF = {SPRING.round_id: SPRING, FALL.round_id: FALL}
ANNOUNCED_BY = {GOLD.number: SPRING, HELD.number: FALL}


def test_the_certificate_held_now_comes_first_with_its_number_linked_to_its_verification() -> None:
    view = city_view(CITY, EN, rounds_of=ROUNDS_OF, announced_by=ANNOUNCED_BY, today=TODAY)
    assert view.current is not None and view.current.number == HELD.number
    first = view.current_facts[0]
    assert (first.term, first.value, first.href) == (
        "Certificate",
        HELD.number,
        f"/certificates/{HELD.number}",
    )
    assert [f.term for f in view.current_facts[1:]] == [
        "Level",
        "Standard",
        "Round",
        "Valid from",
        "Valid until",
    ]
    assert view.place == "Lakeside, Ohio, United States"


def test_the_others_are_past_certifications_the_latest_first_each_round_by_its_name() -> None:
    view = city_view(CITY, PT, rounds_of=ROUNDS_OF, announced_by=ANNOUNCED_BY, today=TODAY)
    assert [(r.number, r.level, r.round) for r in view.past] == [
        (GOLD.number, "Ouro", "Spring 2026"),
        (IMPORTED.number, "Prata", "imported-2022"),  # a cohort that is no round: as recorded
    ]
    assert view.past[0].href == f"/certificates/{GOLD.number}"


def test_the_rounds_that_announced_it_the_latest_first_never_one_still_under_embargo() -> None:
    view = city_view(CITY, EN, rounds_of=ROUNDS_OF, announced_by=ANNOUNCED_BY, today=TODAY)
    assert [(r.name, r.href) for r in view.rounds] == [
        ("Fall 2029", "/rounds/2029-fall"),
        ("Spring 2026", "/rounds/2026-spring"),
    ]
    assert view.rounds[0].on == "November 1, 2029"
    before = city_view(CITY, EN, rounds_of=ROUNDS_OF, announced_by=ANNOUNCED_BY, today=date(2029, 10, 31))
    assert [r.name for r in before.rounds] == ["Spring 2026"]


def test_a_city_that_holds_nothing_now_has_only_past_certifications() -> None:
    revoked = CITY.model_copy(
        update={"certificates": [GOLD, HELD.model_copy(update={"status": "revoked", "current": False})]}
    )
    view = city_view(revoked, EN, rounds_of=ROUNDS_OF, announced_by=ANNOUNCED_BY, today=TODAY)
    assert view.current is None and view.current_facts == []
    assert [r.number for r in view.past] == [HELD.number, GOLD.number]
    assert view.past[0].status_words == "Revoked"
