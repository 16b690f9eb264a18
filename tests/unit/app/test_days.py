"""Days as people give them (app/days.py): a period of days is held from the first day's 00:00 UTC
through the whole of its last day; the domain records the two moments that bound it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from app.days import end_of, last_day, start_of
from domain import Level
from entrypoints.http.models import ImportCertificationBody


def test_a_period_starts_at_the_first_days_midnight_in_utc() -> None:
    assert start_of(date(2024, 6, 1)) == datetime(2024, 6, 1, tzinfo=UTC)


def test_a_period_ends_when_its_last_day_is_over() -> None:
    assert end_of(date(2027, 5, 31)) == datetime(2027, 6, 1, tzinfo=UTC)
    assert end_of(date(2024, 12, 31)) == datetime(2025, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("day", [date(2027, 5, 31), date(2024, 2, 29), date(2199, 12, 31)])
def test_the_last_day_reads_back_as_it_was_given(day: date) -> None:
    assert last_day(end_of(day)) == day


def test_an_end_within_a_day_is_that_days() -> None:
    assert last_day(datetime(2027, 6, 1, 9, 30, tzinfo=UTC)) == date(2027, 6, 1)


class TestAnImportTakesDays:
    def body(self, valid_from: str, valid_until: str) -> ImportCertificationBody:
        return ImportCertificationBody.model_validate(
            {
                "level": "gold",
                "standard_version": "wwc-2018",
                "round_id": "2024",
                "valid_from": valid_from,
                "valid_until": valid_until,
            }
        )

    def test_its_days_become_the_moments_that_bound_them(self) -> None:
        command = self.body("2024-06-01", "2027-05-31").to_command("op-1")
        assert (command.level, command.proposed_by) == (Level.GOLD, "op-1")
        assert command.valid_from == datetime(2024, 6, 1, tzinfo=UTC)
        assert command.valid_until == datetime(2027, 6, 1, tzinfo=UTC)
        assert command.valid_until - command.valid_from == timedelta(days=3 * 365), "three years to the day"

    def test_one_day_is_a_period(self) -> None:
        command = self.body("2024-06-01", "2024-06-01").to_command("op-1")
        assert command.valid_until - command.valid_from == timedelta(days=1)

    def test_a_last_day_before_the_first_is_refused_in_words(self) -> None:
        with pytest.raises(ValueError, match="valid_until, the certification's last day, must not be before"):
            self.body("2024-06-01", "2024-05-31")
