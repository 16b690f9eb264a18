"""What the command service fills into the reviewer commands from the reviewers' records.

A command that picks a reviewer by a person's id (AssignReviewer, AssignPracticeArea,
AssignLeadReviewer) gets that reviewer's home city and the cities their profile declares conflicts
with from their record, whatever the caller put there, as an import gets its proposer: the command
service signs it, so the workflow trusts what the domain then refuses (a conflicted reviewer). A
reviewer named by a token identity (not a person of the registry) keeps the home city given. A
reviewer's own review, declarations and sign-off name their actor.
"""

from __future__ import annotations

from app import errors
from app.people import NoReviewerProfile, UnknownPerson, get_person, get_reviewer_profile
from app.programme import with_fields
from domain import Actor
from domain import commands as cmd
from domain.errors import Label, Refusal
from domain.people import PersonRole, is_person_id
from eventstore import EventStore

_PICKING = (cmd.AssignReviewer, cmd.AssignPracticeArea, cmd.AssignLeadReviewer)
_DECLARING = (cmd.DeclareNoConflict, cmd.DeclareConflict, cmd.SignOffReview, cmd.ReviewEvidence)


async def stamped(store: EventStore, command: cmd.HumanCommand, actor: Actor) -> cmd.HumanCommand:
    """The reviewer command as the application layer signs it (see the module's docstring)."""
    if isinstance(command, _DECLARING):
        return with_fields(command, reviewer_id=actor.id)
    if not isinstance(command, _PICKING) or not is_person_id(command.reviewer_id):
        return command
    try:
        person = await get_person(store, command.reviewer_id)
    except UnknownPerson:
        raise errors.Invalid(
            Refusal("no person {person_id!r} is known; add the reviewer first", person_id=command.reviewer_id)
        ) from None
    if person.role is not PersonRole.REVIEWER or person.city_id is None:
        raise errors.Invalid(
            Refusal(
                "{person_id} is {role}, not a reviewer",
                person_id=command.reviewer_id,
                role=Label("Role", person.role.value),
            )
        )
    if not person.active:
        raise errors.Refused(
            Refusal(
                "reviewer {reviewer_id} is deactivated and cannot be assigned",
                reviewer_id=command.reviewer_id,
            )
        )
    try:
        conflicts = (await get_reviewer_profile(store, person.id)).conflict_cities
    except NoReviewerProfile:
        conflicts = []
    return with_fields(command, reviewer_home_city=person.city_id, reviewer_conflicts=conflicts)
