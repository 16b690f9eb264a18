"""The calendar: business days (Monday to Friday, less the programme's holidays; LEED counts its 25
so) and calendar years (a certification's validity)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, timedelta

_SATURDAY = 5


def is_business_day(day: date, holidays: Collection[date] = ()) -> bool:
    return day.weekday() < _SATURDAY and day not in holidays


def add_business_days(start: datetime, days: int, holidays: Collection[date] = ()) -> datetime:
    """The moment `days` business days after `start`, at the same time of day: counted from the
    day after `start` (given on a Friday, one business day is the Monday), holidays skipped."""
    if days < 0:
        raise ValueError("count business days forward: days must not be negative")
    moment = start
    left = days
    while left:
        moment += timedelta(days=1)
        if is_business_day(moment.date(), holidays):
            left -= 1
    return moment


def add_years(moment: datetime, years: int) -> datetime:
    """`moment` plus `years` calendar years, at the same time of day: a 29 February lands on the
    28th in a year without one (a validity of three years is never a day short, nor a day long)."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February into a common year
        return moment.replace(year=moment.year + years, day=28)
