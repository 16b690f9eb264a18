"""Automatic reviewer assignment: which reviewer takes each practice area of a city's cycle.

Pure: the application layer reads the reviewers' records and their loads (open criteria assigned
to them across every city, from the review queue) and gives the commands this plan says. For each
area, in the standard's order, the eligible reviewer with the fewest open criteria takes it, ties
broken by id; the load grows as areas are handed out, so one call spreads a city's areas over
several reviewers. Eligible: they review the area, they are not from the city and declared no
conflict with it (on their record, or in this cycle), and they have room for the area's open
criteria within their capacity. An area nobody can take is refused, saying why of each reviewer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field

from domain.standard import Standard
from domain.state import AWAITING_REVIEWER, Cycle


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Candidate(_Value):
    """A reviewer as assignment sees them: their record's profile and their current load."""

    reviewer_id: str
    home_city: str
    practice_areas: frozenset[str]
    capacity: int = Field(ge=0)  # the most open criteria they take at once
    conflicts: frozenset[str] = frozenset()  # cities they declared conflicts with on their record
    load: int = Field(0, ge=0)  # open criteria assigned to them now, across cities


class AreaToAssign(_Value):
    practice_area: str
    criterion_ids: tuple[str, ...]  # its open criteria waiting for a reviewer


class AreaAssignment(_Value):
    practice_area: str
    reviewer_id: str
    criterion_ids: tuple[str, ...]


class AssignmentPlan(_Value):
    assignments: tuple[AreaAssignment, ...]
    refusals: tuple[str, ...]  # one per area nobody can take, in words

    @property
    def complete(self) -> bool:
        return not self.refusals


def _why_not(
    reviewer: Candidate, city_id: str, area: AreaToAssign, load: int, declared: Mapping[str, str]
) -> str | None:
    """Why `reviewer` cannot take `area` of `city_id` now; None if they can."""
    if area.practice_area not in reviewer.practice_areas:
        return f"{reviewer.reviewer_id} does not review {area.practice_area}"
    if reviewer.home_city == city_id:
        return f"{reviewer.reviewer_id} is from {city_id}"
    if city_id in reviewer.conflicts:
        return f"{reviewer.reviewer_id} declared a conflict with {city_id} on their record"
    if reviewer.reviewer_id in declared:
        return f"{reviewer.reviewer_id} declared a conflict with {city_id} ({declared[reviewer.reviewer_id]})"
    needed = len(area.criterion_ids)
    if load + needed > reviewer.capacity:
        return (
            f"{reviewer.reviewer_id} has {load} open criteria of a capacity of {reviewer.capacity}, "
            f"no room for {needed} more"
        )
    return None


def plan_assignment(
    city_id: str,
    areas: Sequence[AreaToAssign],
    reviewers: Iterable[Candidate],
    declared_conflicts: Mapping[str, str] | None = None,
) -> AssignmentPlan:
    """Who takes each of `areas` of `city_id`: the least loaded eligible reviewer (ties by id);
    `declared_conflicts` are those declared in the city's cycle (reviewer id -> reason)."""
    declared = declared_conflicts or {}
    pool = sorted(reviewers, key=lambda r: r.reviewer_id)
    loads = {r.reviewer_id: r.load for r in pool}
    assignments: list[AreaAssignment] = []
    refusals: list[str] = []
    for area in areas:
        reasons = {r.reviewer_id: _why_not(r, city_id, area, loads[r.reviewer_id], declared) for r in pool}
        eligible = [r for r in pool if reasons[r.reviewer_id] is None]
        if not eligible:
            reviewing = [
                why
                for r in pool
                if area.practice_area in r.practice_areas and (why := reasons[r.reviewer_id])
            ]
            said = "; ".join(reviewing) if reviewing else f"no reviewer reviews {area.practice_area}"
            refusals.append(f"nobody can take {area.practice_area} of {city_id}: {said}")
            continue
        chosen = min(eligible, key=lambda r: (loads[r.reviewer_id], r.reviewer_id))
        loads[chosen.reviewer_id] += len(area.criterion_ids)
        assignments.append(
            AreaAssignment(
                practice_area=area.practice_area,
                reviewer_id=chosen.reviewer_id,
                criterion_ids=area.criterion_ids,
            )
        )
    return AssignmentPlan(assignments=tuple(assignments), refusals=tuple(refusals))


def areas_waiting(cycle: Cycle, standard: Standard) -> list[AreaToAssign]:
    """The practice areas of the cycle that have no reviewer and open criteria waiting for one,
    in the standard's order."""
    waiting: list[AreaToAssign] = []
    for area in standard.practice_areas:
        if area.id in cycle.area_reviewers:
            continue
        ids = tuple(
            sorted(
                cid
                for cid, item in cycle.items.items()
                if item.status in AWAITING_REVIEWER
                and item.reviewer_id is None
                and standard.criterion(cid).practice_area == area.id
            )
        )
        if ids:
            waiting.append(AreaToAssign(practice_area=area.id, criterion_ids=ids))
    return waiting
