"""Transitional: what api/ and citycert/ still take from eventstore while they move to readmodel.

They call `EventStore.connect(dsn)` (no registry, no projector), `store.load_state(city_id)`,
`eventstore.city_stream` / `city_id_of` and `eventstore.projections.*_COLUMNS`; all of it now lives
in readmodel, which is imported here lazily, when one of those is used: eventstore itself never
imports the domain. Delete this module (and those entry points) once the callers use
`readmodel.open_city_store(dsn)` and readmodel's functions.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from eventstore.projector import Projector
from eventstore.registry import EventRegistry


def city_programme_module() -> ModuleType:
    return importlib.import_module("readmodel")


def city_programme(projector: Projector[Any] | None) -> tuple[EventRegistry, Projector[Any] | None]:
    """The city programme's registry, and its projector unless one is given."""
    module = city_programme_module()
    return module.city_registry(), projector if projector is not None else module.CityProjector()
