"""People: who uses citycert (operators keep them) and a city's contacts (its active staff).

Their details are personal data and never enter an event; erasure removes them (app/people.py).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import Field

from app import people
from app.tokens import TokenInfo
from domain.ids import CITY_ID_PATTERN
from domain.people import NewPerson, Person, PersonChanges, PersonRole, ReviewerProfile, StoredReviewerProfile
from entrypoints.http.auth import CityIdPath, acting_on_city, note, role_in
from entrypoints.http.models import Out, Problem
from entrypoints.http.services import Svc

router = APIRouter(prefix="/v1", tags=["people"])
_MAX_INT = 2**31 - 1

Operator = Annotated[TokenInfo, Depends(role_in("operator"))]
# No pattern: an id no person could have is an unknown person (404), after the token's rights.
PersonIdPath = Annotated[str, Path(description="The person's id, e.g. per_3f2a9c0d1e4b5a6f")]
_UNKNOWN: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": "No such person (`unknown_person`)"}
}
_ERASED: dict[int | str, dict[str, Any]] = {
    409: {"model": Problem, "description": "The person was erased (`person_erased`)"}
}


class PersonCreated(Out):
    id: str = Field(description="the new person's id", examples=["per_3f2a9c0d1e4b5a6f"])


@router.post("/people", status_code=201, response_model=PersonCreated, summary="Add a person")
async def add_person(request: Request, body: NewPerson, svc: Svc, who: Operator) -> PersonCreated:
    """Add a person: city staff (with the registered city they work for), a reviewer (with their
    home city), a committee member or an operator. 422 for a malformed address, an unknown
    language, a city missing or given where the role takes none, staff of a city not registered,
    or an e-mail address an active person already has (`duplicate_person`, whatever its case)."""
    person = await people.add_person(svc.store, body.root)
    note(request, person_id=person.id)
    return PersonCreated(id=person.id)


@router.get("/people", response_model=list[Person])
async def list_people(
    svc: Svc,
    who: Operator,
    role: PersonRole | None = None,
    city_id: Annotated[
        str | None, Query(pattern=CITY_ID_PATTERN, description="Staff of this city, reviewers from it")
    ] = None,
    active: Annotated[
        bool | None, Query(description="Only active (true) or deactivated (false) people")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=people.MAX_PAGE)] = people.PAGE,
    offset: Annotated[int, Query(ge=0, le=_MAX_INT)] = 0,
) -> list[Person]:
    """People in the order they were added, erased ones included (with their details gone)."""
    return await people.list_people(
        svc.store, role=role, city_id=city_id, active=active, limit=limit, offset=offset
    )


@router.get("/people/{person_id}", response_model=Person, responses=_UNKNOWN)
async def show_person(person_id: PersonIdPath, svc: Svc, who: Operator) -> Person:
    """A person: details, role and city, whether active, whether erased."""
    return await people.get_person(svc.store, person_id)


@router.patch("/people/{person_id}", response_model=Person, responses={**_UNKNOWN, **_ERASED})
async def update_person(person_id: PersonIdPath, body: PersonChanges, svc: Svc, who: Operator) -> Person:
    """New name, e-mail or language; what the body leaves out stays. Role and city do not change."""
    return await people.update_person(svc.store, person_id, body)


@router.post("/people/{person_id}/deactivation", response_model=Person, responses=_UNKNOWN)
async def deactivate_person(person_id: PersonIdPath, svc: Svc, who: Operator) -> Person:
    """No longer active: no longer a city's contact, their e-mail address free for another
    person. Their details stay (erase them with /erasure). Again: no change."""
    return await people.deactivate_person(svc.store, person_id)


@router.post("/people/{person_id}/erasure", response_model=Person, responses=_UNKNOWN)
async def erase_person(person_id: PersonIdPath, svc: Svc, who: Operator) -> Person:
    """Remove the person's name, e-mail and language for good; the id, role and city stay, so
    history that names the id still says a person did it. Deactivates them too. Again: no change."""
    return await people.erase_person(svc.store, person_id)


@router.get("/cities/{city_id}/contacts", response_model=list[Person])
async def city_contacts(
    city_id: CityIdPath,
    svc: Svc,
    who: Annotated[TokenInfo, Depends(acting_on_city("operator", "committee", "city"))],
) -> list[Person]:
    """The city's contacts: its active staff. For operators, the committee and the city itself."""
    return await people.city_contacts(svc.store, city_id)


_NOT_A_REVIEWER: dict[int | str, dict[str, Any]] = {
    409: {"model": Problem, "description": "Not a reviewer (`not_a_reviewer`), or erased (`person_erased`)"}
}


@router.put(
    "/people/{person_id}/reviewer-profile",
    response_model=StoredReviewerProfile,
    responses={**_UNKNOWN, **_NOT_A_REVIEWER},
)
async def set_reviewer_profile(
    person_id: PersonIdPath, body: ReviewerProfile, svc: Svc, who: Operator
) -> StoredReviewerProfile:
    """Set a reviewer's profile, replacing the one before: their organisation, the practice areas
    they review (the standards' area ids), their capacity (the most open criteria they take at
    once) and the cities they declared conflicts with, each with its reason. Automatic assignment
    reads it; an assignment of this reviewer carries their conflicts, and is refused for those cities."""
    return await people.set_reviewer_profile(svc.store, person_id, body)


@router.get(
    "/people/{person_id}/reviewer-profile",
    response_model=StoredReviewerProfile,
    responses={
        404: {"model": Problem, "description": "No such person (`unknown_person`), or no profile yet"},
        **_NOT_A_REVIEWER,
    },
)
async def show_reviewer_profile(person_id: PersonIdPath, svc: Svc, who: Operator) -> StoredReviewerProfile:
    """A reviewer's profile as kept, and when it last changed."""
    return await people.get_reviewer_profile(svc.store, person_id)
