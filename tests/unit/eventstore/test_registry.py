"""The registry checks each new event against its model and gives back the data as the store
writes it: what the model's JSON-mode dump gives, defaults filled and times in one format. Through
the model's own validator and serializer (eventstore/registry.py), so these hold it to the
model_validate and model_dump(mode="json") it replaced."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import ClassVar

import pytest
from pydantic import BaseModel, ConfigDict

from eventstore import EventRegistry, InvalidEventPayload, UnknownEventType


class Colour(StrEnum):
    RED = "red"
    BLUE = "blue"


class Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str
    at: datetime | None = None


class Painted(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    schema_version: ClassVar[int] = 2
    colour: Colour
    coats: int = 1
    at: datetime
    parts: tuple[Part, ...] = ()
    ratio: float = 0.5


REGISTRY = EventRegistry({"Painted": Painted})


def test_the_data_comes_back_as_the_models_json_dump_defaults_filled_and_times_in_one_format():
    # Given an event's data without its defaults, a time with an offset and a nested value,
    data = {"colour": "blue", "at": "2026-03-01T09:30:00+00:00", "parts": [{"name": "door"}]}
    # when the registry checks it,
    event, normalised = REGISTRY.validate("Painted", data)
    # then the data is what the model's own dump gives, and the model is the parsed event.
    assert normalised == Painted.model_validate(data).model_dump(mode="json")
    assert normalised == {
        "colour": "blue",
        "coats": 1,
        "at": "2026-03-01T09:30:00Z",
        "parts": [{"name": "door", "at": None}],
        "ratio": 0.5,
    }
    assert event == Painted(
        colour=Colour.BLUE, at=datetime(2026, 3, 1, 9, 30, tzinfo=UTC), parts=(Part(name="door"),)
    )


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"colour": "green", "at": "2026-03-01T09:30:00Z"}, "colour: Input should be 'red' or 'blue'"),
        ({"colour": "red"}, "at: Field required"),
        (
            {"colour": "red", "at": "2026-03-01T09:30:00Z", "parts": [{"name": 3}]},
            "parts.0.name: Input should be a valid string",
        ),
        (
            {"colour": "red", "at": "2026-03-01T09:30:00Z", "brush": "wide"},
            "brush: Extra inputs are not permitted",
        ),
    ],
)
def test_data_that_fails_its_model_is_refused_in_words_naming_the_field(data, words):
    with pytest.raises(InvalidEventPayload) as refused:
        REGISTRY.validate("Painted", data)
    assert words in str(refused.value)


def test_an_unknown_type_is_refused_by_name():
    with pytest.raises(UnknownEventType, match="Scraped"):
        REGISTRY.validate("Scraped", {})
