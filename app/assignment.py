"""Reviewers for a city's review: automatic assignment by practice area, and whether a reviewer may
see a city's evidence yet. (What the command service fills into the reviewer commands from the
reviewers' records is app/reviewer_records.py.)
"""

from __future__ import annotations

from dataclasses import dataclass

import readmodel
from app import errors
from app.commands import CommandOutcome, CommandService
from app.people import active_reviewers
from domain import Actor
from domain import commands as cmd
from domain.assignment import AreaAssignment, Candidate, areas_waiting, plan_assignment
from domain.errors import Refusal
from domain.rules import PROGRAMME_REVIEW
from domain.standard import get_standard
from eventstore import EventStore


@dataclass(frozen=True, slots=True)
class AutomaticAssignment:
    """The areas handed out, and where the city stands after the last command."""

    city_id: str
    assignments: list[AreaAssignment]
    outcomes: list[CommandOutcome]


async def assign_automatically(commands: CommandService, city_id: str, actor: Actor) -> AutomaticAssignment:
    """Give each practice area of the city's cycle waiting for a reviewer to the least loaded
    eligible reviewer (domain/assignment.py), one AssignPracticeArea each. Refused, with every
    area's reason and nothing given, when an area has nobody eligible or no area waits."""
    store = commands.store
    state = await readmodel.city_state(store, city_id)
    if state is None:
        raise errors.UnknownCity(city_id)
    cycle = state.cycle
    if cycle is None or state.phase.value not in ("evidence", "review"):
        raise errors.Refused(
            Refusal(
                "{city_id} is {phase}: only a cycle in review has areas to assign",
                city_id=city_id,
                phase=state.phase,
            )
        )
    areas = areas_waiting(cycle, get_standard(cycle.standard_version, cycle.standard_revision))
    if not areas:
        raise errors.Refused(
            Refusal("no practice area of {city_id} has criteria waiting for a reviewer", city_id=city_id)
        )
    reviewers = await active_reviewers(store)
    loads = await readmodel.reviewer_loads(store, [person.id for person, _ in reviewers])
    candidates = [
        Candidate(
            reviewer_id=person.id,
            home_city=person.city_id or "",
            practice_areas=frozenset(profile.practice_areas),
            capacity=profile.capacity,
            conflicts=frozenset(profile.conflict_cities),
            load=loads[person.id],
        )
        for person, profile in reviewers
    ]
    plan = plan_assignment(city_id, areas, candidates, cycle.conflicts_declared)
    if not plan.complete:
        raise errors.Refused(Refusal("{problems:;}", problems=list(plan.reasons)))
    outcomes = []
    for chosen in plan.assignments:
        # The home city and conflicts are filled from the record when the service stamps it.
        command = cmd.AssignPracticeArea(
            reviewer_id=chosen.reviewer_id, reviewer_home_city="unknown", practice_area=chosen.practice_area
        )
        outcomes.append(await commands.give(city_id, command, actor))
    return AutomaticAssignment(city_id, list(plan.assignments), outcomes)


async def check_may_see_evidence(store: EventStore, city_id: str, role: str, reviewer_id: str) -> None:
    """A reviewer sees a city's evidence once they declared no conflict with it, in a cycle under
    the latest rules (Forbidden, saying so, before); everyone else as before."""
    if role != "reviewer":
        return
    state = await readmodel.city_state(store, city_id)
    cycle = state.cycle if state is not None else None
    if cycle is None or cycle.rules < PROGRAMME_REVIEW:
        return
    if reviewer_id in cycle.conflicts_declared:
        raise errors.Forbidden(
            Refusal(
                "reviewer {reviewer_id} declared a conflict with {city_id} and may not see its evidence",
                reviewer_id=reviewer_id,
                city_id=city_id,
            )
        )
    if reviewer_id not in cycle.no_conflict_declared:
        raise errors.Forbidden(
            Refusal(
                "reviewer {reviewer_id} has not declared that they have no conflict of interest with "
                "{city_id}: declare it (POST /v1/cities/{city_id}/review/no-conflict) before seeing its "
                "evidence",
                reviewer_id=reviewer_id,
                city_id=city_id,
            )
        )
