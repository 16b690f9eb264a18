"""Documents in a city's history: given a city in some phase, when a document is recorded, then a
DocumentUploaded with its hash, size, media type and title (or the refusal, saying why)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pydantic import ValidationError

from domain import CommandRejected, allowed_commands
from domain import commands as c
from domain import events as ev
from domain.authority import roles_that_may_give
from domain.state import evolve
from tests.unit.domain.story import applied, certified, given, registered, when

UPLOAD = c.UploadDocument(
    document_id="0f" * 16,
    sha256="ab" * 32,
    size=1234,
    media_type="application/pdf",
    title="Open data policy",
)


@pytest.mark.parametrize("history", [registered, applied, certified], ids=lambda h: h.__name__)
def test_a_registered_city_records_a_document_in_every_phase_until_it_withdraws(
    history: Callable[[], list[ev.DomainEvent]],
) -> None:
    state = given(*history())

    events = when(state, UPLOAD)

    assert events == [
        ev.DocumentUploaded(
            document_id=UPLOAD.document_id,
            sha256=UPLOAD.sha256,
            size=1234,
            media_type="application/pdf",
            title="Open data policy",
        )
    ]
    assert "UploadDocument" in allowed_commands(state)
    after = evolve(state, events[0])
    assert after.version == state.version + 1
    assert after.model_copy(update={"version": state.version}) == state  # nothing else changes


def test_an_unregistered_or_withdrawn_city_records_no_document() -> None:
    withdrawn = given(*registered(), ev.CityWithdrawn(reason="left"))

    with pytest.raises(CommandRejected, match="withdrew"):
        when(withdrawn, UPLOAD)
    with pytest.raises(CommandRejected, match="only a registered city"):
        when(given(), UPLOAD)
    assert "UploadDocument" not in allowed_commands(given())


def test_city_staff_and_operators_upload_documents() -> None:
    assert roles_that_may_give(c.UploadDocument) == {"city", "operator"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sha256", "AB" * 32),
        ("sha256", "ab" * 31),
        ("document_id", "not-an-id"),
        ("size", 0),
        ("media_type", "PDF"),
        ("title", "two\nlines"),
        ("title", " "),
    ],
)
def test_an_upload_with_a_malformed_field_is_refused_by_its_shape(field: str, value: object) -> None:
    with pytest.raises(ValidationError):
        c.UploadDocument.model_validate({**UPLOAD.model_dump(), field: value})
