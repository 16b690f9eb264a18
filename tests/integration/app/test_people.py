"""People (app/people.py) over a real PostgreSQL: kept outside the event log, one active person per
e-mail address, and erased so that nothing of their details is left while their id still resolves."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import asyncpg
import pytest

from app import people
from app.errors import UnknownCity
from domain import events as ev
from domain.people import Language, PersonChanges, PersonRole, new_person
from eventstore import Actor, EventStore, NewEvent
from readmodel import city_stream, open_city_store
from runtime.embedded_postgres import ensure_runtime_login


async def registered(store: EventStore, city_id: str) -> None:
    """A city registered straight in the store (its city_status row is written with the event)."""
    event = ev.CityRegistered(city_id=city_id, name=city_id.title(), country="US", population=120_000)
    recorded = NewEvent.from_domain(
        event, event_id=uuid.uuid4(), occurred_at=datetime.now(UTC), actor=Actor("operator", "op-1")
    )
    await store.append(city_stream(city_id), 0, [recorded])


def ana(**fields: object) -> dict[str, object]:
    return {"name": "Ana Souza", "email": "Ana.Souza@example.org", "language": "pt", **fields}


async def test_given_a_registered_city_when_its_staff_is_added_then_they_are_its_contacts(
    store: EventStore,
) -> None:
    await registered(store, "lakeside")

    added = await people.add_person(store, new_person(ana(role="city", city_id="lakeside")))
    reviewer = await people.add_person(
        store, new_person(ana(email="rev@example.org", role="reviewer", city_id="lakeside"))
    )

    assert added.id.startswith("per_") and added.active and added.erased_at is None
    assert await people.get_person(store, added.id) == added
    assert [p.id for p in await people.city_contacts(store, "lakeside")] == [added.id]  # staff only
    assert [p.id for p in await people.list_people(store, city_id="lakeside")] == [added.id, reviewer.id]
    assert [p.id for p in await people.list_people(store, role=PersonRole.REVIEWER)] == [reviewer.id]
    assert [p.id for p in await people.list_people(store, limit=1, offset=1)] == [reviewer.id]


async def test_a_person_added_under_a_given_id_keeps_it_and_a_malformed_one_is_refused(
    store: EventStore,
) -> None:
    # The demo's reviewer is added under the id its seeded events already name
    given = "per_0123456789abcdef"
    added = await people.add_person(
        store, new_person(ana(role="reviewer", city_id="riverton")), person_id=given
    )
    assert added.id == given and await people.get_person(store, given) == added

    with pytest.raises(people.InvalidPerson, match="is not a person id"):
        await people.add_person(
            store, new_person(ana(email="b@example.org", role="committee")), person_id="rev-ana"
        )
    assert [p.id for p in await people.list_people(store)] == [given], "nothing kept for the refused one"


async def test_staff_need_a_registered_city_and_a_reviewer_s_home_city_need_not_be(store: EventStore) -> None:
    with pytest.raises(people.InvalidPerson, match="no city 'nowhere' is registered"):
        await people.add_person(store, new_person(ana(role="city", city_id="nowhere")))

    reviewer = await people.add_person(store, new_person(ana(role="reviewer", city_id="nowhere")))
    assert reviewer.city_id == "nowhere"
    with pytest.raises(UnknownCity):
        await people.city_contacts(store, "nowhere")


async def test_one_active_person_per_e_mail_address_whatever_its_case(store: EventStore) -> None:
    first = await people.add_person(store, new_person(ana(role="committee")))

    with pytest.raises(
        people.DuplicatePerson, match=re.escape("already has the e-mail address 'ana.souza@EXAMPLE.org'")
    ):
        await people.add_person(store, new_person(ana(email="ana.souza@EXAMPLE.org", role="operator")))
    other = await people.add_person(store, new_person(ana(email="other@example.org", role="operator")))
    with pytest.raises(people.DuplicatePerson):
        await people.update_person(store, other.id, PersonChanges(email="ANA.SOUZA@example.org"))

    # Once the first is deactivated, their address is free for someone else.
    await people.deactivate_person(store, first.id)
    again = await people.add_person(store, new_person(ana(role="operator")))
    assert again.active and again.email == "Ana.Souza@example.org"


async def test_an_update_changes_what_it_gives_and_keeps_the_rest(store: EventStore) -> None:
    person = await people.add_person(store, new_person(ana(role="committee")))

    updated = await people.update_person(
        store, person.id, PersonChanges(name="Ana S. Souza", language=Language.EN)
    )

    assert (updated.name, updated.email, updated.language) == ("Ana S. Souza", person.email, Language.EN)
    assert updated.role == PersonRole.COMMITTEE and updated.created_at == person.created_at


async def test_deactivating_keeps_the_details_and_removes_the_contact(store: EventStore) -> None:
    await registered(store, "lakeside")
    person = await people.add_person(store, new_person(ana(role="city", city_id="lakeside")))

    deactivated = await people.deactivate_person(store, person.id)
    again = await people.deactivate_person(store, person.id)

    assert (
        not deactivated.active and deactivated.deactivated_at is not None and deactivated.name == "Ana Souza"
    )
    assert again == deactivated  # a second deactivation changes nothing
    assert await people.city_contacts(store, "lakeside") == []
    assert [p.id for p in await people.list_people(store, active=False)] == [person.id]
    assert await people.list_people(store, active=True) == []


async def test_an_unknown_or_impossible_id_is_an_unknown_person(store: EventStore) -> None:
    for person_id in ("per_0123456789abcdef", "lakeside", "per_'; DROP TABLE people; --"):
        with pytest.raises(people.UnknownPerson):
            await people.get_person(store, person_id)
        with pytest.raises(people.UnknownPerson):
            await people.erase_person(store, person_id)


async def every_text_in_the_database(store: EventStore) -> str:
    """Every row of every table of the schema, as text: where personal data could hide."""
    async with store.connection() as conn:
        tables = await conn.fetch(
            "SELECT quote_ident(table_name) AS t FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        )
        texts = [
            await conn.fetchval(f"SELECT coalesce(string_agg(x::text, ' '), '') FROM {r['t']} x")
            for r in tables
        ]
    return " ".join(texts).lower()


async def test_erasure_removes_the_details_everywhere_and_keeps_what_history_refers_to(
    store: EventStore,
) -> None:
    # Given city staff of a city whose history is in the event log,
    await registered(store, "lakeside")
    person = await people.add_person(store, new_person(ana(role="city", city_id="lakeside")))
    assert "ana.souza@example.org" in await every_text_in_the_database(store)

    # when they are erased,
    erased = await people.erase_person(store, person.id)

    # then their name, e-mail and language are gone from every table,
    assert (erased.name, erased.email, erased.language) == (None, None, None)
    everything = await every_text_in_the_database(store)
    assert "ana.souza@example.org" not in everything and "ana souza" not in everything
    # their id still resolves, to an erased person of that role and city, no longer a contact,
    shown = await people.get_person(store, person.id)
    assert shown == erased and shown.erased_at is not None and not shown.active
    assert (shown.id, shown.role, shown.city_id) == (person.id, PersonRole.CITY, "lakeside")
    assert await people.city_contacts(store, "lakeside") == []
    # erasing again changes nothing, and nothing is left to update,
    assert await people.erase_person(store, person.id) == erased
    with pytest.raises(people.PersonErased):
        await people.update_person(store, person.id, PersonChanges(name="Ana"))
    # and the event log is untouched: its chains and projections verify.
    report = await store.verify()
    assert report.ok, report


async def test_the_runtime_role_keeps_and_erases_people_but_never_deletes_one(database_url: str) -> None:
    # Given a store connected as the runtime role every citycert process logs in as (0008),
    runtime = await open_city_store(await ensure_runtime_login(database_url), min_size=1, max_size=2)
    try:
        # when a person is added, changed, deactivated and erased,
        person = await people.add_person(runtime, new_person(ana(role="committee")))
        await people.update_person(runtime, person.id, PersonChanges(language=Language.ES))
        await people.deactivate_person(runtime, person.id)
        erased = await people.erase_person(runtime, person.id)

        # then all of it is allowed, and removing the row that history refers to is not.
        assert erased.erased_at is not None and erased.email is None
        async with runtime.connection() as conn:
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute("DELETE FROM people")
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute("UPDATE people SET role = 'operator'")
    finally:
        await runtime.close()
