"""The public side's rows: a certifications row folded before certificates had numbers gets the
number the fold derives for it, so the verification page finds it under the number the city has."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.certificates import certificate_number, city_of
from readmodel.directory import award_row

AWARDED = datetime(2025, 6, 30, 12, 0, tzinfo=UTC)


def row(**changes: object) -> dict[str, object]:
    return {
        "city_id": "lakeside",
        "version": 12,
        "cycle": 2,
        "round_id": "2025-spring",
        "standard_version": "wwc-2022",
        "level": "gold",
        "outcome": "elevated",
        "valid_from": AWARDED,
        "valid_until": AWARDED.replace(year=2028),
        "decided_at": AWARDED,
        "certificate_number": None,
        **changes,
    }


def test_an_award_without_a_number_gets_the_one_its_cycle_and_award_year_make() -> None:
    award = award_row(row())

    assert award.certificate_number == certificate_number("lakeside", AWARDED, 2)
    assert city_of(award.certificate_number) == "lakeside"


def test_an_imported_certification_without_a_number_gets_the_imported_one() -> None:
    assert award_row(row(outcome="imported", cycle=None)).certificate_number.endswith("-I")


def test_a_recorded_number_is_kept() -> None:
    assert award_row(row(certificate_number="CC-2025-LAKESIDE-2")).certificate_number == "CC-2025-LAKESIDE-2"
