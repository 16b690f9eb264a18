"""Which event types exist, their current schema versions, and how old versions are upcast.

The store takes a registry in its constructor (the city programme's is readmodel.city_registry()),
so tests can write events with an old registry and read them back through a new one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from eventstore.errors import InvalidEventPayload, UnknownEventType, UnreadableEvent

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


class EventRegistry:
    def __init__(
        self,
        types: Mapping[str, type[BaseModel]],
        upcasters: Mapping[tuple[str, int], Upcaster] | None = None,
    ) -> None:
        self.types = dict(types)
        self.upcasters = dict(upcasters or {})
        # Looked up for every event read: a plain dict, not a getattr on the model each time.
        self.current = {name: int(getattr(model, "schema_version", 1)) for name, model in self.types.items()}

    def model(self, event_type: str) -> type[BaseModel]:
        try:
            return self.types[event_type]
        except KeyError:
            raise UnknownEventType(event_type) from None

    def current_version(self, event_type: str) -> int:
        return int(getattr(self.model(event_type), "schema_version", 1))

    def validate(self, event_type: str, data: Mapping[str, Any]) -> tuple[BaseModel, dict[str, Any]]:
        """The parsed event and its normalised JSON data (defaults filled, times in one format)."""
        model = self.model(event_type)
        try:
            # The model's own validator and serializer: what model_validate and model_dump(mode=
            # "json") call, without their wrappers (a microsecond an event appended).
            event = model.__pydantic_validator__.validate_python(data)
        except ValidationError as e:
            problems = [
                f"{'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']}" for err in e.errors()
            ]
            raise InvalidEventPayload(event_type, problems) from e
        return event, model.__pydantic_serializer__.to_python(event, mode="json")

    def upcast(
        self, event_type: str, schema_version: int, data: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        """Bring stored data up to the type's current version, one upcaster step at a time."""
        if event_type not in self.types:
            # Unknown types are read as stored: readers of the raw log should not break on them.
            return schema_version, data
        current = self.current_version(event_type)
        while schema_version < current:
            step = self.upcasters.get((event_type, schema_version))
            if step is None:
                raise UnreadableEvent(
                    f"{event_type} v{schema_version} has no upcaster to v{schema_version + 1}"
                )
            data = step(data)
            schema_version += 1
        return schema_version, data

    def parse(self, event_type: str, data: Mapping[str, Any]) -> BaseModel:
        """A stored (already upcast) event's model instance."""
        model = self.model(event_type)
        try:
            return model.model_validate(data)
        except ValidationError as e:
            raise UnreadableEvent(f"stored {event_type} does not match its model: {e}") from e
