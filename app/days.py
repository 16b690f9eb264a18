"""Days as people give them, and the moments the domain records for them.

A certification's validity is a matter of days: "valid from 2024-06-01 until 2027-05-31" means
from the start of its first day through the end of its last. The domain keeps moments (a
certification awarded through citycert starts when the committee decides), so the edge turns a
period of days into the moments that bound it, in UTC: the first day's 00:00, and the 00:00 after
the last day (the end is exclusive, so the last day is held whole). `last_day` reads such an end
back as the day people wrote.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta


def start_of(day: date) -> datetime:
    """The moment `day` begins, in UTC: where a period that starts on it starts."""
    return datetime.combine(day, time(0), tzinfo=UTC)


def end_of(day: date) -> datetime:
    """The moment after `day`, in UTC: where a period whose last day it is ends."""
    return start_of(day + timedelta(days=1))


def last_day(end: datetime) -> date:
    """The last day a period ending at `end` (exclusive) holds whole or in part, in UTC."""
    return (end.astimezone(UTC) - timedelta(microseconds=1)).date()
