"""The public side's reads: every certificate the programme issued, and what its city holds now.

Two queries on the projections only (never a fold of the log, never Temporal): the award and
import rows of `certifications`, and, for their cities, the name, region and country with the
certification held and the ones that ended (city_status keeps both as JSON columns).
Shaping them into what the public reads (status, words) is app/directory.py's.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from domain.certificates import certificate_number, city_of
from domain.levels import Level
from domain.state import Certification, EndedCertification
from eventstore import EventStore


class AwardRow(BaseModel):
    """One certificate issued: an award or an imported certification (a `certifications` row)."""

    model_config = ConfigDict(frozen=True)

    city_id: str
    version: int
    cycle: int | None
    round_id: str
    standard_version: str
    level: Level
    outcome: str
    valid_from: datetime
    valid_until: datetime
    decided_at: datetime
    certificate_number: str


class CityHolding(BaseModel):
    """A city as the public may see it, with what it holds now and what ended."""

    model_config = ConfigDict(frozen=True)

    city_id: str
    name: str
    region: str | None
    country: str
    certification: Certification | None
    ended: tuple[EndedCertification, ...] = ()


# Rows with a level are awards and imports (a not-certified decision has none). Several rows may
# carry one number (the index is not unique: an append must never be refused): the latest wins.
_AWARDS = """
SELECT DISTINCT ON (coalesce(certificate_number, city_id || ':' || version))
       city_id, version, cycle, round_id, standard_version, level, outcome, valid_from, valid_until,
       decided_at, certificate_number
  FROM certifications
 WHERE level IS NOT NULL AND valid_from IS NOT NULL AND valid_until IS NOT NULL
   AND ($1::text IS NULL OR city_id = $1)
 ORDER BY coalesce(certificate_number, city_id || ':' || version), version DESC
"""
_HOLDINGS = """
SELECT city_id, name, region, country,
       certification, ended_certifications AS ended
  FROM city_status
 WHERE city_id = ANY($1::text[])
"""


def award_row(row: Any) -> AwardRow:
    number = row["certificate_number"]
    if number is None:
        # A row folded before certificates had numbers: the number the fold derives for it
        # (domain/state.py), from the same recorded facts.
        cycle = None if row["outcome"] == "imported" else row["cycle"]
        number = certificate_number(row["city_id"], row["valid_from"], cycle)
    return AwardRow(**{**dict(row), "certificate_number": number})


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _holding(row: Any) -> CityHolding:
    certification = _json(row["certification"])
    ended = _json(row["ended"]) or []
    return CityHolding(
        city_id=row["city_id"],
        name=row["name"],
        region=row["region"],
        country=row["country"],
        certification=Certification.model_validate(certification) if certification else None,
        ended=tuple(EndedCertification.model_validate(e) for e in ended),
    )


async def issued_certificates(
    store: EventStore, *, city_id: str | None = None
) -> tuple[list[AwardRow], dict[str, CityHolding]]:
    """Every certificate issued (one city's, when given) and each of their cities' holdings."""
    async with store.connection() as conn:
        rows = [award_row(r) for r in await conn.fetch(_AWARDS, city_id)]
        cities = sorted({r.city_id for r in rows})
        holdings = [_holding(r) for r in await conn.fetch(_HOLDINGS, cities)] if cities else []
    return rows, {h.city_id: h for h in holdings}


async def certificates_of_number(
    store: EventStore, number: str
) -> tuple[list[AwardRow], dict[str, CityHolding]]:
    """The certificates of the city a number names (all of them: whether a later one superseded
    it is part of its status); nothing for a malformed number."""
    city_id = city_of(number)
    if city_id is None:
        return [], {}
    return await issued_certificates(store, city_id=city_id)
