"""A reviewer's capacity, kept for the assignments given by hand: the command service's check.

An operator's AssignReviewer or AssignPracticeArea is refused when the criteria it gives the
reviewer would take them past the capacity on their record (domain/reviewer_capacity.py says why
refused and not warned). What the command gives is the decider's own answer on the city's state
now (the criteria newly theirs), so this counts what the workflow would record; their load is their
open criteria across every city (the review queue, as automatic assignment reads it). A command the
city's rules refuse anyway, a reviewer with no record or no profile, passes on to the workflow.
"""

from __future__ import annotations

from datetime import UTC, datetime

from app import errors
from app.people import NoReviewerProfile, UnknownPerson, get_reviewer_profile
from domain import CityState, DomainError, ProgrammePolicy, decide
from domain import commands as cmd
from domain import events as ev
from domain.people import is_person_id
from domain.reviewer_capacity import refuse_beyond_reviewer_capacity
from eventstore import EventStore
from readmodel import city_state, reviewer_loads

_TAKING_CRITERIA = (cmd.AssignReviewer, cmd.AssignPracticeArea)


async def check_reviewer_capacity(
    store: EventStore, city_id: str, command: cmd.HumanCommand, policy: ProgrammePolicy
) -> None:
    """Refused (409) when `command` gives a reviewer criteria beyond their capacity."""
    if not isinstance(command, _TAKING_CRITERIA) or not is_person_id(command.reviewer_id):
        return
    try:
        capacity = (await get_reviewer_profile(store, command.reviewer_id)).capacity
    except (NoReviewerProfile, UnknownPerson):
        return
    state = await city_state(store, city_id) or CityState.initial(city_id)
    try:
        events = decide(state, command, now=datetime.now(UTC), policy=policy)
    except DomainError:
        return
    taking = sum(isinstance(e, ev.ReviewerAssigned) for e in events)
    load = (await reviewer_loads(store, [command.reviewer_id]))[command.reviewer_id]
    try:
        refuse_beyond_reviewer_capacity(command.reviewer_id, capacity, load, taking)
    except DomainError as e:
        raise errors.Refused(str(e), refusal=e.refusal) from e
