"""The people who use citycert: add, list, show, update, deactivate and erase them, and a city's
contacts. The HTTP API and the CLI both call these; the rules of a person's fields are the
domain's (domain/people.py), checked before anything reaches here.

Personal data stays out of the event log: the `people` table (migration 0010) is mutable, and
events name people by id. Erasing a person clears their name, e-mail and language and keeps the
row's id, role, city and `erased_at`, so whatever names that id still resolves, to an erased
person, and the hash chains are untouched (`citycert verify` passes afterwards).
"""

from __future__ import annotations

import json
import secrets
from typing import Any

import asyncpg

import readmodel
from app.errors import Invalid, NotFound, Refused, UnknownCity
from app.sign_in import sessions_changed
from domain.errors import Label, Refusal
from domain.people import (
    AnyNewPerson,
    Person,
    PersonChanges,
    PersonRole,
    ReviewerProfile,
    StoredReviewerProfile,
    is_person_id,
)
from eventstore import EventStore

PAGE = 100  # people per page unless asked otherwise
MAX_PAGE = 1000


class UnknownPerson(NotFound):
    code = "unknown_person"

    def __init__(self, person_id: str) -> None:
        super().__init__(Refusal("no person {person_id!r} is known", person_id=person_id))
        self.person_id = person_id


class InvalidPerson(Invalid):
    """A person's details that cannot be kept as given (e.g. staff of a city not registered)."""

    code = "invalid_person"


class DuplicatePerson(InvalidPerson):
    """An active person already has this e-mail address (compared whatever its case)."""

    code = "duplicate_person"


def _erased(person_id: str) -> Refusal:
    return Refusal("person {person_id!r} was erased; nothing is left to change", person_id=person_id)


class PersonErased(Refused):
    """The person was erased: there is nothing left to change."""

    code = "person_erased"


class NotAReviewer(Refused):
    """A reviewer's profile asked of, or set for, a person of another role."""

    code = "not_a_reviewer"


class NoReviewerProfile(NotFound):
    code = "no_reviewer_profile"


_COLUMNS = (
    "id, role, city_id, name, email, language, deactivated_at IS NULL AS active, "
    "created_at, deactivated_at, erased_at"
)
_ACTIVE_EMAIL = "people_active_email"


def _person(row: Any) -> Person:
    return Person.model_validate(dict(row))


def _duplicate(email: str) -> DuplicatePerson:
    return DuplicatePerson(
        Refusal(
            "an active person already has the e-mail address {email!r} (whatever its case); "
            "deactivate them first, or give another address",
            email=email,
        )
    )


async def add_person(store: EventStore, person: AnyNewPerson, *, person_id: str | None = None) -> Person:
    """Keep a new person and return them with their id. City staff's city must be registered (a
    reviewer's home city need not be: reviewers come from outside the programme too).

    `person_id` fixes the id instead of drawing one: the demo's people are the actors its seeded
    events already name, so their pages show that work."""
    if person_id is not None and not is_person_id(person_id):
        raise InvalidPerson(
            Refusal("{person_id!r} is not a person id (per_ and 16 hexadecimal digits)", person_id=person_id)
        )
    if (
        person.role == PersonRole.CITY
        and await readmodel.city_summary(store, person.bound_city or "") is None
    ):
        raise InvalidPerson(
            Refusal(
                "no city {city_id!r} is registered; register it before adding its staff",
                city_id=person.bound_city,
            )
        )
    async with store.connection() as conn:
        try:
            row = await conn.fetchrow(
                f"INSERT INTO people (id, role, city_id, name, email, language) "
                f"VALUES ($1, $2, $3, $4, $5, $6) RETURNING {_COLUMNS}",
                person_id or "per_" + secrets.token_hex(8),
                person.role.value,
                person.bound_city,
                person.name,
                person.email,
                person.language.value,
            )
        except asyncpg.UniqueViolationError as e:
            if e.constraint_name == _ACTIVE_EMAIL:
                raise _duplicate(person.email) from None
            raise
    return _person(row)


async def get_person(store: EventStore, person_id: str) -> Person:
    if not is_person_id(person_id):
        raise UnknownPerson(person_id)
    async with store.connection() as conn:
        row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM people WHERE id = $1", person_id)
    if row is None:
        raise UnknownPerson(person_id)
    return _person(row)


async def list_people(
    store: EventStore,
    *,
    role: PersonRole | None = None,
    city_id: str | None = None,
    active: bool | None = None,
    limit: int = PAGE,
    offset: int = 0,
) -> list[Person]:
    """People in the order they were added, optionally of one role, one city, active or not."""
    async with store.connection() as conn:
        rows = await conn.fetch(
            f"SELECT {_COLUMNS} FROM people "
            "WHERE ($1::text IS NULL OR role = $1) AND ($2::text IS NULL OR city_id = $2) "
            "AND ($3::boolean IS NULL OR (deactivated_at IS NULL) = $3) "
            "ORDER BY created_at, id LIMIT $4 OFFSET $5",
            role.value if role is not None else None,
            city_id,
            active,
            limit,
            offset,
        )
    return [_person(r) for r in rows]


async def update_person(store: EventStore, person_id: str, changes: PersonChanges) -> Person:
    """New name, e-mail or language (what `changes` leaves None stays); refused once erased."""
    current = await get_person(store, person_id)
    if current.erased_at is not None:
        raise PersonErased(_erased(person_id))
    async with store.connection() as conn:
        try:
            row = await conn.fetchrow(
                f"UPDATE people SET name = coalesce($2, name), email = coalesce($3, email), "
                f"language = coalesce($4, language) WHERE id = $1 AND erased_at IS NULL RETURNING {_COLUMNS}",
                person_id,
                changes.name,
                changes.email,
                changes.language.value if changes.language is not None else None,
            )
        except asyncpg.UniqueViolationError as e:
            if e.constraint_name == _ACTIVE_EMAIL and changes.email is not None:
                raise _duplicate(changes.email) from None
            raise
    sessions_changed()  # a session kept by the portal shows the person as they now are
    if row is None:  # erased meanwhile
        raise PersonErased(_erased(person_id))
    return _person(row)


async def deactivate_person(store: EventStore, person_id: str) -> Person:
    """No longer active (no longer a city's contact, their address free for someone else); their
    details stay. Deactivating again changes nothing."""
    await get_person(store, person_id)
    async with store.connection() as conn:
        row = await conn.fetchrow(
            "UPDATE people SET deactivated_at = coalesce(deactivated_at, now()) "
            f"WHERE id = $1 RETURNING {_COLUMNS}",
            person_id,
        )
    sessions_changed()  # the portal's sessions kept in this process end now, not in a second
    return _person(row)


async def erase_person(store: EventStore, person_id: str) -> Person:
    """Remove the person's name, e-mail and language; keep the id, role, city and when they were
    added, deactivated (now, if not before) and erased. Erasing again changes nothing."""
    await get_person(store, person_id)
    async with store.connection() as conn, conn.transaction():
        row = await conn.fetchrow(
            "UPDATE people SET name = NULL, email = NULL, language = NULL, "
            "deactivated_at = coalesce(deactivated_at, now()), erased_at = coalesce(erased_at, now()) "
            f"WHERE id = $1 RETURNING {_COLUMNS}",
            person_id,
        )
        # A reviewer's organisation and the reasons of their conflicts go with their details.
        await conn.execute(
            "UPDATE reviewer_profiles SET organisation = NULL, conflicts = '[]' WHERE person_id = $1",
            person_id,
        )
    sessions_changed()
    return _person(row)


async def city_contacts(store: EventStore, city_id: str) -> list[Person]:
    """A registered city's contacts: its active staff, in the order they were added."""
    if await readmodel.city_summary(store, city_id) is None:
        raise UnknownCity(city_id)
    async with store.connection() as conn:
        rows = await conn.fetch(
            f"SELECT {_COLUMNS} FROM people WHERE city_id = $1 AND role = 'city' AND deactivated_at IS NULL "
            "ORDER BY created_at, id",
            city_id,
        )
    return [_person(r) for r in rows]


# --- reviewers' profiles (migration 0012) ---------------------------------------------------------

_PROFILE_COLUMNS = "person_id, organisation, practice_areas, capacity, conflicts, updated_at"


def _profile(row: Any) -> StoredReviewerProfile:
    return StoredReviewerProfile.model_validate({**dict(row), "conflicts": json.loads(row["conflicts"])})


async def _reviewer(store: EventStore, person_id: str) -> Person:
    person = await get_person(store, person_id)
    if person.role is not PersonRole.REVIEWER:
        raise NotAReviewer(
            Refusal(
                "person {person_id!r} is {role}, not a reviewer: only reviewers have a profile",
                person_id=person_id,
                role=Label("Role", person.role.value),
            )
        )
    return person


async def set_reviewer_profile(
    store: EventStore, person_id: str, profile: ReviewerProfile
) -> StoredReviewerProfile:
    """Set (or replace) a reviewer's profile; refused for another role, or once they are erased."""
    person = await _reviewer(store, person_id)
    if person.erased_at is not None:
        raise PersonErased(_erased(person_id))
    conflicts = json.dumps([c.model_dump() for c in profile.conflicts])
    async with store.connection() as conn:
        row = await conn.fetchrow(
            "INSERT INTO reviewer_profiles (person_id, organisation, practice_areas, capacity, conflicts) "
            "VALUES ($1, $2, $3, $4, $5::jsonb) ON CONFLICT (person_id) DO UPDATE SET "
            "organisation = excluded.organisation, practice_areas = excluded.practice_areas, "
            "capacity = excluded.capacity, conflicts = excluded.conflicts, updated_at = now() "
            f"RETURNING {_PROFILE_COLUMNS}",
            person_id,
            profile.organisation,
            list(profile.practice_areas),
            profile.capacity,
            conflicts,
        )
    return _profile(row)


async def get_reviewer_profile(store: EventStore, person_id: str) -> StoredReviewerProfile:
    await _reviewer(store, person_id)
    async with store.connection() as conn:
        row = await conn.fetchrow(
            f"SELECT {_PROFILE_COLUMNS} FROM reviewer_profiles WHERE person_id = $1", person_id
        )
    if row is None:
        raise NoReviewerProfile(
            Refusal("reviewer {person_id!r} has no profile yet; an operator sets one", person_id=person_id)
        )
    return _profile(row)


async def active_reviewers(store: EventStore) -> list[tuple[Person, StoredReviewerProfile]]:
    """Every active reviewer with a profile, in id order: whom automatic assignment chooses from."""
    async with store.connection() as conn:
        rows = await conn.fetch(
            "SELECT p.id, p.role, p.city_id, p.name, p.email, p.language, "
            "p.deactivated_at IS NULL AS active, "
            "p.created_at, p.deactivated_at, p.erased_at, "
            "r.person_id, r.organisation, r.practice_areas, r.capacity, r.conflicts, r.updated_at "
            "FROM people p JOIN reviewer_profiles r ON r.person_id = p.id "
            "WHERE p.role = 'reviewer' AND p.deactivated_at IS NULL ORDER BY p.id"
        )
    return [(Person.model_validate({k: row[k] for k in Person.model_fields}), _profile(row)) for row in rows]
