"""Automatic reviewer assignment: which reviewer takes each practice area of a city's cycle.

Pure: the application layer reads the reviewers' records and their loads (open criteria assigned
to them across every city, from the review queue) and gives the commands this plan says. For each
area, in the standard's order, the eligible reviewer with the fewest open criteria takes it, ties
broken by id; the load grows as areas are handed out, so one call spreads a city's areas over
several reviewers. Eligible: they review the area, they are not from the city and declared no
conflict with it (on their record, or in this cycle), and they have room for the area's open
criteria within their capacity. An area nobody can take is refused, saying why of each reviewer
(as refusals, domain/errors.py, so a page says them in the person's language).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from domain.errors import Refusal
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


@dataclass(frozen=True, slots=True)
class AssignmentPlan:
    assignments: tuple[AreaAssignment, ...]
    # One per area nobody can take, as data (domain/errors.py), to be said in a person's language.
    reasons: tuple[Refusal, ...]

    @property
    def refusals(self) -> tuple[str, ...]:
        """The reasons in English words."""
        return tuple(r.english() for r in self.reasons)

    @property
    def complete(self) -> bool:
        return not self.reasons


def _why_not(
    reviewer: Candidate, city_id: str, area: AreaToAssign, load: int, declared: Mapping[str, str]
) -> Refusal | None:
    """Why `reviewer` cannot take `area` of `city_id` now; None if they can."""
    who = reviewer.reviewer_id
    if area.practice_area not in reviewer.practice_areas:
        return Refusal(
            "{reviewer_id} does not review {practice_area}", reviewer_id=who, practice_area=area.practice_area
        )
    if reviewer.home_city == city_id:
        return Refusal("{reviewer_id} is from {city_id}", reviewer_id=who, city_id=city_id)
    if city_id in reviewer.conflicts:
        return Refusal(
            "{reviewer_id} declared a conflict with {city_id} on their record",
            reviewer_id=who,
            city_id=city_id,
        )
    if who in declared:
        # The reason is the reviewer's own words, said as they wrote them.
        return Refusal(
            "{reviewer_id} declared a conflict with {city_id} ({reason})",
            reviewer_id=who,
            city_id=city_id,
            reason=declared[who],
        )
    needed = len(area.criterion_ids)
    if load + needed > reviewer.capacity:
        return Refusal(
            "{reviewer_id} has {load} open criteria of a capacity of {capacity}, no room for {needed} more",
            reviewer_id=who,
            load=load,
            capacity=reviewer.capacity,
            needed=needed,
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
    refusals: list[Refusal] = []
    for area in areas:
        reasons = {r.reviewer_id: _why_not(r, city_id, area, loads[r.reviewer_id], declared) for r in pool}
        eligible = [r for r in pool if reasons[r.reviewer_id] is None]
        if not eligible:
            reviewing = [
                why
                for r in pool
                if area.practice_area in r.practice_areas and (why := reasons[r.reviewer_id])
            ]
            if not reviewing:
                reviewing = [Refusal("no reviewer reviews {practice_area}", practice_area=area.practice_area)]
            refusals.append(
                Refusal(
                    "nobody can take {practice_area} of {city_id}: {reasons:;}",
                    practice_area=area.practice_area,
                    city_id=city_id,
                    reasons=reviewing,
                )
            )
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
    return AssignmentPlan(assignments=tuple(assignments), reasons=tuple(refusals))


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
