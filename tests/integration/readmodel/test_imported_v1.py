"""A certification imported before countersignatures existed (CertificationImported v1) reads,
folds, rebuilds and verifies through today's registry, as one nobody countersigned."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import ClassVar

from pydantic import AwareDatetime, BaseModel, ConfigDict

from domain import Level, Phase
from domain import events as ev
from eventstore import Actor, EventRegistry, EventStore, NewEvent
from readmodel import city_stream, load_city_state, open_city_store

AT = datetime(2025, 3, 1, tzinfo=UTC)
OPERATOR = Actor(role="operator", id="op-1")


class CertificationImportedV1(BaseModel):
    """The event as the retired ImportCertification wrote it."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    schema_version: ClassVar[int] = 1

    level: Level
    cohort: str
    standard_version: str
    valid_from: AwareDatetime
    valid_until: AwareDatetime


LAST_YEAR = EventRegistry({**ev.EVENT_TYPES, "CertificationImported": CertificationImportedV1})


def new(event_type: str, data: dict[str, object]) -> NewEvent:
    return NewEvent(uuid.uuid4(), event_type, data, AT, OPERATOR)


async def test_an_import_written_at_version_1_reads_as_one_nobody_countersigned(database_url: str) -> None:
    old = await EventStore.connect(database_url, registry=LAST_YEAR)  # no projector: last year's rows
    store = await open_city_store(database_url)
    try:
        registered = {"city_id": "harlow", "name": "Harlow", "country": "US", "population": 90_000}
        imported = {
            "level": "gold",
            "cohort": "2024",
            "standard_version": "wwc-2018",
            "valid_from": "2025-01-01T00:00:00Z",
            "valid_until": "2027-12-01T00:00:00Z",
        }
        await old.append(
            city_stream("harlow"),
            0,
            [new("CityRegistered", registered), new("CertificationImported", imported)],
        )
        stored = (await store.read_stream(city_stream("harlow")))[-1]
        assert stored.schema_version == 2
        assert stored.data == {
            **imported,
            "proposed_by": None,
            "countersigned_by": None,
            "note": "",
            "migration_mode": None,
        }
        state = await load_city_state(store, "harlow")
        assert (state.phase, state.level) == (Phase.CERTIFIED, Level.GOLD)
        await store.rebuild_projections()
        assert (await store.verify()).ok
    finally:
        await old.close()
        await store.close()
