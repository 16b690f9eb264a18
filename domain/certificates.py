"""Certificate numbers: what a city quotes, and anyone checks on the public verification page.

A number is derived from facts the award records, never from a counter: the award year, the city's
id and the cycle (an imported certification: the year it was awarded and "I"), so a replay, a
rebuild and the read model all give the same number, and no two of the programme's certificates
share one (a city's cycles are numbered once; an imported one is its first and only import).
"""

from __future__ import annotations

import re
from datetime import datetime

PREFIX = "CC"
CERTIFICATE_NUMBER_PATTERN = r"^CC-[0-9]{4}-[A-Z0-9][A-Z0-9-]{1,62}-(?:[0-9]{1,4}|I)$"
_NUMBER = re.compile(CERTIFICATE_NUMBER_PATTERN)


def certificate_number(city_id: str, awarded_at: datetime, cycle: int | None) -> str:
    """The number of the certificate a city's `cycle` was awarded at `awarded_at` (None: imported),
    such as CC-2026-LAKESIDE-2."""
    suffix = "I" if cycle is None else str(cycle)
    return f"{PREFIX}-{awarded_at.year:04d}-{city_id.upper()}-{suffix}"


def is_certificate_number(value: str) -> bool:
    return _NUMBER.match(value) is not None


def city_of(number: str) -> str | None:
    """The city id a well-formed certificate number names (lowercase), else None."""
    if not is_certificate_number(number):
        return None
    return number.split("-", 2)[2].rsplit("-", 1)[0].lower()
